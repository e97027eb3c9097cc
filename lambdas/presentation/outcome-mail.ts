/** The e-mail that tells a requester how their request ended. */
import type { MailMessage } from '../adapters/mailer';
import { describeDrift, type DriftObservation } from '../domain/drift';
import type { NodePoolRecord } from '../domain/nodepool-record';
import type { PoolRequestRecord } from '../domain/pool-request';
import { describeChange } from '../domain/scale-change';
import { escapeHtml, factsTable } from './html';
import { requestFacts } from './request-summary';

const HEADLINES: Record<string, string> = {
  CREATED: 'was approved and the node pool is created',
  ACTIVE: 'is active: its nodes are available',
  DELETED: 'is done: the node pool is deleted',
  EXTENDED: 'was approved: the lease now ends later',
  REJECTED: 'was rejected',
  EXPIRED: 'expired without a decision',
  CANCELLED: 'was cancelled',
  FAILED: 'failed',
};

export function outcomeHeadline(request: PoolRequestRecord): string {
  if (request.change) {
    const done = request.change.kind === 'update' ? 'ModelArts accepted the change' : 'ModelArts shows the new count';
    const headline =
      request.status === 'ACTIVE' ? `is done: ${done}` : (HEADLINES[request.status] ?? `is ${request.status}`);
    const what =
      request.change.kind === 'update'
        ? `update node pool ${request.nodePoolName} (labels, taints or limits)`
        : `scale node pool ${request.nodePoolName} ${describeChange(request.change)}`;
    return `Your request to ${what} ${headline}`;
  }
  const what =
    request.kind === 'delete'
      ? request.trigger === 'lease'
        ? `leased node pool ${request.nodePoolName}'s deletion (its lease ended)`
        : `request to delete node pool ${request.nodePoolName}`
      : request.kind === 'extend'
        ? `request to extend the lease of node pool ${request.nodePoolName}`
        : `node pool request ${request.nodePoolName}`;
  return `Your ${what} ${HEADLINES[request.status] ?? `is ${request.status}`}`;
}

/** The e-mail that tells a node pool's creator that someone else deleted it. */
export function deletedByOtherMail(request: PoolRequestRecord, creator: string, link: string): MailMessage {
  const headline = `Node pool ${request.nodePoolName} (${request.projectId}/${request.poolName}) was deleted by ${request.requester}`;
  const facts: Array<[string, unknown]> = [['Deleted by', request.requester], ...requestFacts(request)];
  return factsMail([creator], headline, facts, link);
}

/**
 * The e-mail that tells a team's approvers and the admins that a node pool poolgate created was changed
 * outside it (the reconciliation's `unapproved_change`), with the node pool's latest request linked.
 */
export function unapprovedChangeMail(
  request: PoolRequestRecord,
  node: NodePoolRecord,
  observation: DriftObservation,
  to: readonly string[],
  link: string,
): MailMessage {
  const headline = `Node pool ${node.nodePoolName} (${node.projectId}/${node.poolName}) was changed outside poolgate`;
  const facts: Array<[string, unknown]> = [
    ['What changed', describeDrift(node.nodePoolName, observation)],
    ['Approved', observation.expected],
    ['Found in ModelArts', observation.found ?? '(absent)'],
    ['Team', node.team],
    ['Created by', node.creator],
    ['Latest request', `${request.requestId} (${request.status})`],
  ];
  return factsMail([...to], headline, facts, link);
}

export function outcomeMail(request: PoolRequestRecord, link: string): MailMessage {
  const headline = outcomeHeadline(request);
  const lastDecision = [...request.steps].reverse().find((s) => s.step === 'rejected' || s.step === 'failed');
  const comment = typeof lastDecision?.detail?.comment === 'string' ? lastDecision.detail.comment : undefined;
  const cause = typeof lastDecision?.detail?.cause === 'string' ? lastDecision.detail.cause : undefined;
  const facts: Array<[string, unknown]> = [
    ['Status', request.status],
    ['Reason', request.reason],
    ['Decided by', lastDecision?.actor],
    ['Comment', comment],
    ['Error', cause],
    ...requestFacts(request),
  ];
  return factsMail([request.requester], headline, facts, link);
}

/** A mail that says its headline, then the facts that are known (text and HTML), then the link to the details. */
function factsMail(to: string[], headline: string, facts: Array<[string, unknown]>, link: string): MailMessage {
  const text = [
    headline,
    '',
    ...facts.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${String(v)}`),
    '',
    `Details: ${link}`,
  ].join('\n');
  const html = `<p>${escapeHtml(headline)}.</p>\n${factsTable(facts)}\n<p><a href="${escapeHtml(link)}">Details</a></p>`;
  return { to, subject: headline, text, html };
}
