/**
 * The read-only request page (`/requests/{id}/page`, reached through a signed link): the request,
 * its billing, and the step timeline with actors and times. No script, no form, no external
 * resource; every value passes through `escapeHtml`.
 */
import type { PoolRequestRecord } from '../domain/pool-request';
import { isFinal } from '../domain/status';
import type { Step, StepName } from '../domain/steps';
import { escapeHtml, factsTable, page } from './html';
import { billingText, priceText, requestFacts, type Price } from './request-summary';
import { readableTime, timeHtml } from './time';

const STEP_LABELS: Record<StepName, string> = {
  submitted: 'Submitted',
  capacity_checked: 'Capacity checked',
  quota_checked: 'Quota checked',
  approval_requested: 'Approval requested',
  reminded: 'Reminder sent',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Cancelled',
  node_pool_created: 'Node pool created',
  nodes_active: 'Nodes active',
  failed: 'Failed',
  retried: 'Retried',
  quota_reconciled: 'Quota reconciled',
  node_pool_delete_requested: 'Deletion requested',
  node_pool_deleted: 'Node pool deleted',
  node_pool_patched: 'Change accepted by ModelArts',
  unapproved_change: 'Changed outside poolgate',
  lease_reminded: 'Lease reminder sent',
  lease_extended: 'Lease extended',
  lease_expired: 'Lease expired',
};

const OUTCOME_LABELS: Record<Step['outcome'], string> = { ok: 'ok', refused: 'refused', error: 'error' };

const STATUS_TEXT: Record<string, string> = {
  SUBMITTED: 'submitted; poolgate is checking capacity and quota',
  AWAITING_APPROVAL: 'waiting for approval',
  PROVISIONING: 'approved; poolgate is creating the node pool in ModelArts',
  CREATED: 'the node pool is created in ModelArts',
  ACTIVE: 'the node pool is created and its nodes are available',
  EXTENDED: 'the lease was extended',
  REJECTED: 'rejected',
  EXPIRED: 'expired without a decision',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
};

const PERIOD_TYPES: Record<string, string> = { '2': 'month(s)', '3': 'year(s)', '4': 'hour(s)' };

const CSS = `body{max-width:60rem}.status{font-size:1.1rem}.status-good{background:#e7f4ea}.status-bad{background:#fbe9e9}
.timeline{table-layout:auto}.timeline th,.timeline td{width:auto;overflow-wrap:break-word}.timeline .when{white-space:nowrap}.timeline thead th{border-bottom:2px solid #bbb}
.outcome-refused,.outcome-error{font-weight:600;color:#b42318}caption{text-align:left;font-weight:600;padding:.35rem 0}
footer{margin-top:2rem;color:#555;font-size:.9rem}code{font-size:1rem}
@media (max-width:40rem){.timeline caption{display:block;width:100%}.timeline thead{display:none}.timeline,.timeline tbody,.timeline tr,.timeline td{display:block;width:100%}
.timeline tr{border-bottom:1px solid #bbb;padding:.4rem 0}.timeline td{border:0;padding:.1rem .25rem}.timeline .when{white-space:normal}
.timeline td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:#444}.timeline td:empty{display:none}}`;

/** The detail of a step as short readable phrases (known keys only; values escaped by the caller). */
function stepDetail(step: Omit<Step, 'id'>): string {
  const d = step.detail ?? {};
  const parts: string[] = [];
  const text = (key: string) => (typeof d[key] === 'string' || typeof d[key] === 'number' ? String(d[key]) : undefined);
  if (text('stage')) parts.push(`stage ${text('stage')}`);
  if (Array.isArray(d.approvers)) parts.push(`asked ${d.approvers.map(String).join(', ')}`);
  if (Array.isArray(d.reminded)) parts.push(`reminded ${d.reminded.map(String).join(', ')}`);
  if (Array.isArray(d.escalatedTo)) parts.push(`escalated to ${d.escalatedTo.map(String).join(', ')}`);
  if (text('limit') !== undefined && text('count') !== undefined)
    parts.push(
      `${text('count')} node(s) within a limit of ${text('limit')}${text('inUseAfter') !== undefined ? ` (${text('inUseAfter')} in use with them)` : ''}`,
    );
  if (text('via')) parts.push(`via ${text('via')}`);
  if (text('comment')) parts.push(`comment: “${text('comment')}”`);
  if (text('orderId')) parts.push(`order id ${text('orderId')}`);
  if (text('nodePool')) parts.push(`node pool ${text('nodePool')}`);
  if (text('available') !== undefined) parts.push(`${text('available')} node(s) available`);
  if (text('reason')) parts.push(`reason ${text('reason')}`);
  if (text('message')) parts.push(text('message')!);
  if (text('cause')) parts.push(text('cause')!);
  return parts.join('; ');
}

function timeline(request: PoolRequestRecord, timeZone: string): string {
  const rows = request.steps.map(
    (step) => `<tr>
<td class="when">${timeHtml(step.at, timeZone)}</td>
<td class="what"><strong>${escapeHtml(STEP_LABELS[step.step] ?? step.step)}</strong></td>
<td class="outcome-${escapeHtml(step.outcome)}" data-label="Outcome">${escapeHtml(OUTCOME_LABELS[step.outcome] ?? step.outcome)}</td>
<td data-label="By">${escapeHtml(step.actor ?? (step.step === 'submitted' ? request.requester : 'poolgate'))}</td>
<td data-label="Details">${escapeHtml(stepDetail(step))}</td>
</tr>`,
  );
  return `<table class="timeline">
<caption>Every step poolgate recorded, oldest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Step</th><th scope="col">Outcome</th><th scope="col">By</th><th scope="col">Details</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

function billingFacts(request: PoolRequestRecord, price?: Price): Array<[string, string | undefined]> {
  const b = request.billing;
  return [
    ['Billing mode', billingText(b)],
    [
      'Period',
      b.mode === '1' && b.periodNum ? `${b.periodNum} ${PERIOD_TYPES[b.periodType ?? ''] ?? 'period(s)'}` : undefined,
    ],
    ['Auto-renew', b.mode === '1' ? (b.autoRenew === '1' ? 'yes' : 'no') : undefined],
    ['Order id', b.orderId],
    ['Estimated price', priceText(request, price)],
  ];
}

export interface RequestPageOptions {
  readonly price?: Price;
  /** Whether the nodes are followed after creation (decides whether CREATED is the end). */
  readonly nodeTracking: boolean;
  /** The policy's displayTimeZone (default UTC). */
  readonly timeZone?: string;
  /** A leased create's end and deletion time, from its node-pool record (absent: not created yet, or no lease). */
  readonly lease?: { readonly endsAt: string | null; readonly deleteAt: string | null };
}

export function requestPageHtml(request: PoolRequestRecord, options: RequestPageOptions): string {
  const zone = options.timeZone ?? 'UTC';
  const final = isFinal(request.status, options.nodeTracking);
  const good = request.status === 'ACTIVE' || (request.status === 'CREATED' && final);
  const bad = final && !good;
  const statusClass = good ? ' status-good' : bad ? ' status-bad' : '';
  const facts: Array<[string, string | number | undefined]> = [
    ...requestFacts(request).filter(([label]) => label !== 'Billing' && label !== 'Estimated price'),
    ['Lease ends', options.lease?.endsAt ? readableTime(options.lease.endsAt, zone) : undefined],
    ['Deleted at', options.lease?.deleteAt ? readableTime(options.lease.deleteAt, zone) : undefined],
  ];
  return page(
    `Node pool request ${request.nodePoolName}: ${request.status}`,
    `<h1>Node pool <code>${escapeHtml(request.nodePoolName)}</code></h1>
<p class="notice status${statusClass}" role="status"><strong>${escapeHtml(request.status)}</strong>: ${escapeHtml(STATUS_TEXT[request.status] ?? request.status)}${
      request.reason ? ` (reason <code>${escapeHtml(request.reason)}</code>)` : ''
    }${final ? '' : '. This page shows the state when it was opened: reload it for news.'}</p>
<h2>Request</h2>
${factsTable([...facts, ['Submitted', readableTime(request.createdAt, zone)], ['Last change', readableTime(request.updatedAt, zone)]])}
<h2>Billing</h2>
${factsTable(billingFacts(request, options.price))}
<h2>Timeline</h2>
${timeline(request, zone)}
<footer>A read-only view of poolgate request ${escapeHtml(request.requestId)}. Anyone with this link can read it: share it as you would the request.</footer>`,
    CSS,
  );
}
