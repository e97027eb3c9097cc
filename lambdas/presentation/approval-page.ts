/**
 * The approval confirmation page (GET), the form again with what was typed when a decision was
 * refused (a missing order id), the page that follows a decision, and the pages of a link that can
 * no longer decide (already decided, expired, cancelled). Built for a phone first: the decision
 * buttons come before the long details, which fold; long ids wrap.
 */
import type { ApprovalRecord } from '../domain/approval';
import type { PoolRequestRecord } from '../domain/pool-request';
import type { StageOutcome } from '../domain/votes';
import { decisionContext, decisionLine, earlierDecisions } from './decision-context';
import { escapeHtml, factsTable, page } from './html';
import { requestFacts, type Price } from './request-summary';
import { readableTime, timeHtml } from './time';

export interface FormProof {
  readonly approver: string;
  readonly signature: string;
  /** Anti-forgery token of this page. */
  readonly formToken: string;
}

/** How a page presents a request: the time zone of its times, and the link to its read-only page. */
export interface PageContext {
  readonly timeZone: string;
  /** The signed link to the request's page. */
  readonly requestPage?: string;
  readonly price?: Price;
}

/** What the approver typed, shown again with the message when the decision was refused. */
export interface TypedForm {
  readonly error: string;
  readonly comment?: string;
  readonly orderId?: string;
}

/** Justifications longer than this fold behind their first words. */
const FOLD_AT = 280;

function justificationHtml(justification: string | undefined): string {
  if (!justification) return '';
  if (justification.length <= FOLD_AT) return `<p><strong>Justification:</strong> ${escapeHtml(justification)}</p>`;
  const preview = `${justification.slice(0, 160).trimEnd()}…`;
  return `<details class="justification"><summary>Justification (${justification.length.toLocaleString('en-US')} characters): ${escapeHtml(preview)}</summary>
<p>${escapeHtml(justification)}</p></details>`;
}

function decisionsList(request: PoolRequestRecord, timeZone: string): string {
  const decisions = earlierDecisions(request);
  if (decisions.length === 0) return '';
  const items = decisions.map((d) => {
    const line = decisionLine({ ...d, comment: undefined }, (iso) => readableTime(iso, timeZone));
    const at = timeHtml(d.at, timeZone);
    const html = escapeHtml(line).replace(escapeHtml(readableTime(d.at, timeZone)), at);
    return `<li>${html}${d.comment ? `<br><q>${escapeHtml(d.comment)}</q>` : ''}</li>`;
  });
  return `<ul class="decisions">\n${items.join('\n')}\n</ul>`;
}

function requestPageLinkHtml(context: PageContext): string {
  return context.requestPage
    ? `<p><a href="${escapeHtml(context.requestPage)}">The request's page</a>: its status and every step, with who and when.</p>`
    : '';
}

function detailsFolded(request: PoolRequestRecord, context: PageContext, open = false): string {
  const facts = requestFacts(request, context.price).filter(([label]) => label !== 'Justification');
  return `<details${open ? ' open' : ''}><summary>Request details</summary>
${factsTable([...facts, ['Submitted', readableTime(request.createdAt, context.timeZone)]])}
</details>`;
}

export function approvalFormPage(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  proof: FormProof,
  context: PageContext,
  typed?: TypedForm,
): string {
  const ctx = decisionContext(request, context.price);
  const decided = earlierDecisions(request);
  const orderField = approval.needsOrderId
    ? `<p><label for="orderId">ModelArts order id <span class="required">(required to approve)</span></label><br>
<input type="text" id="orderId" name="orderId" required aria-required="true" maxlength="64" pattern="[A-Za-z0-9_\\-]{1,64}" autocomplete="off" value="${escapeHtml(typed?.orderId ?? '')}"><br>
<span class="muted">This yearly/monthly request has none; ModelArts needs it to ${request.change ? 'add the nodes' : 'create the node pool'}.</span></p>`
    : '';
  const facts: Array<[string, string | undefined]> = [
    ['Quota', ctx.quota],
    ['Estimated price', ctx.price],
    [
      'Earlier decisions',
      decided.length
        ? decided.map((d) => `${d.stage ? `${d.stage}: ` : ''}${d.vote} by ${d.approver}`).join('; ')
        : undefined,
    ],
  ];
  return page(
    `Approve node pool ${request.nodePoolName}?`,
    `<h1>Approve node pool <code>${escapeHtml(request.nodePoolName)}</code>?</h1>
<p>${escapeHtml(request.requester)} asks for <strong>${escapeHtml(request.count)} × ${escapeHtml(request.flavor)}</strong> in pool ${escapeHtml(
      request.poolName,
    )} (team ${escapeHtml(request.team)}). You decide as <strong>${escapeHtml(approval.stageName)}</strong> approver
(${escapeHtml(approval.requiredApprovals)} approval(s) needed); this page expires ${timeHtml(approval.expiresAt, context.timeZone)}.</p>
${factsTable(facts)}
<form method="post">
${typed ? `<p class="notice error" role="alert">${escapeHtml(typed.error)}</p>` : ''}
<input type="hidden" name="approver" value="${escapeHtml(proof.approver)}">
<input type="hidden" name="sig" value="${escapeHtml(proof.signature)}">
<input type="hidden" name="formToken" value="${escapeHtml(proof.formToken)}">
${orderField}
<p><label for="comment">Comment (optional)</label><br>
<textarea id="comment" name="comment" maxlength="2000">${escapeHtml(typed?.comment ?? '')}</textarea></p>
<p class="actions"><button type="submit" class="approve" name="decision" value="approve">Approve</button>
<button type="submit" class="reject" name="decision" value="reject" formnovalidate>Reject</button></p>
</form>
${justificationHtml(request.justification)}
${decided.length ? `<h2>Decisions so far</h2>\n${decisionsList(request, context.timeZone)}` : ''}
${detailsFolded(request, context)}
${requestPageLinkHtml(context)}`,
  );
}

/** Who decided what and when in this stage (from the approval's votes). */
function stageVotes(approval: ApprovalRecord, timeZone: string): string {
  const votes = Object.entries(approval.votes);
  if (votes.length === 0) return '<p>Nobody decided this stage.</p>';
  return `<ul class="decisions">\n${votes
    .map(
      ([who, v]) =>
        `<li>${escapeHtml(who)} ${v.vote === 'approve' ? 'approved' : 'rejected'} at ${timeHtml(v.at, timeZone)}${
          v.orderId ? ` (order id ${escapeHtml(v.orderId)})` : ''
        }${v.comment ? `<br><q>${escapeHtml(v.comment)}</q>` : ''}</li>`,
    )
    .join('\n')}\n</ul>`;
}

function nodePoolLine(request: PoolRequestRecord): string {
  return `<p>Node pool <code>${escapeHtml(request.nodePoolName)}</code> (${escapeHtml(request.count)} × ${escapeHtml(
    request.flavor,
  )}) in pool ${escapeHtml(request.poolName)}, project <code>${escapeHtml(request.projectId)}</code>, requested by ${escapeHtml(
    request.requester,
  )}. Request status: <strong>${escapeHtml(request.status)}</strong>${request.reason ? ` (${escapeHtml(request.reason)})` : ''}.</p>`;
}

export function decisionRecordedPage(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  vote: 'approve' | 'reject',
  outcome: StageOutcome,
  context: PageContext,
): string {
  const what = vote === 'approve' ? 'approval' : 'rejection';
  const next =
    outcome === 'pending'
      ? 'More approvals are needed before this stage is settled.'
      : outcome === 'approved'
        ? request.status === 'PROVISIONING'
          ? 'The request is approved; poolgate is creating the node pool.'
          : 'This stage is approved; the next stage has been asked.'
        : 'The request is rejected.';
  return page(
    'Decision recorded',
    `<h1>Your ${what} is recorded</h1>
<p class="notice">${escapeHtml(next)}</p>
${nodePoolLine(request)}
<h2>Stage ${escapeHtml(approval.stageName)}</h2>
${stageVotes(approval, context.timeZone)}
${requestPageLinkHtml(context)}`,
  );
}

/** A link that can no longer decide: what happened to the approval, which node pool, where to follow it. */
export function approvalClosedPage(
  title: string,
  message: string,
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  context: PageContext,
): string {
  const closed =
    approval.closed === 'CANCELLED'
      ? `<p>The request was cancelled${cancelledBy(request, context.timeZone)}.</p>`
      : approval.closed === 'EXPIRED' || (!approval.decision && Date.parse(approval.expiresAt) <= Date.now())
        ? `<p>The approval expired at ${timeHtml(approval.expiresAt, context.timeZone)} without a decision.</p>`
        : approval.decision && approval.decidedAt
          ? `<p>The stage was ${escapeHtml(approval.decision)} at ${timeHtml(approval.decidedAt, context.timeZone)}.</p>`
          : '';
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p class="notice">${escapeHtml(message)}</p>
${nodePoolLine(request)}
<h2>Stage ${escapeHtml(approval.stageName)}</h2>
${closed}
${stageVotes(approval, context.timeZone)}
${requestPageLinkHtml(context)}`,
  );
}

function cancelledBy(request: PoolRequestRecord, timeZone: string): string {
  const step = [...request.steps].reverse().find((s) => s.step === 'cancelled');
  return step ? ` by ${escapeHtml(step.actor ?? 'poolgate')} at ${timeHtml(step.at, timeZone)}` : '';
}

export function linkProblemPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p class="notice">${escapeHtml(message)}</p>`);
}
