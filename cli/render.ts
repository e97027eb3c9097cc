/** What the CLI prints for people: tables, step lines and status texts (colour only on a terminal). */
import picocolors from 'picocolors';
import type { ListedRequest, RequestSummary, RequestView, Step } from './api';

export type Colors = ReturnType<typeof picocolors.createColors>;

/** Colours when the stream is a terminal and NO_COLOR is not set (never in pipes, CI logs or tests). */
export function colorsFor(stream: NodeJS.WriteStream): Colors {
  return picocolors.createColors(Boolean(stream.isTTY) && !process.env.NO_COLOR);
}

const STEP_LABELS: Record<string, string> = {
  submitted: 'submitted',
  capacity_checked: 'capacity checked',
  quota_checked: 'quota checked',
  approval_requested: 'approval requested',
  reminded: 'reminder sent',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  cancelled: 'cancelled',
  node_pool_created: 'node pool created',
  nodes_active: 'nodes active',
  failed: 'failed',
  retried: 'retried',
  quota_reconciled: 'quota reconciled',
  unapproved_change: 'changed outside poolgate',
};

const STATUS_TEXT: Record<string, string> = {
  SUBMITTED: 'checking capacity and quota',
  AWAITING_APPROVAL: 'waiting for approval',
  PROVISIONING: 'creating the node pool in ModelArts',
  CREATED: 'node pool created in ModelArts',
  ACTIVE: 'node pool created, its nodes are available',
  REJECTED: 'no node pool',
  EXPIRED: 'no decision in time, no node pool',
  CANCELLED: 'no node pool',
  FAILED: 'no node pool',
};

/** `2026-11-26 21:05:34` (UTC). */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

export function stepLabel(step: string): string {
  return STEP_LABELS[step] ?? step;
}

/** The step's details as a short phrase: stage, who was asked, comment, reason, error. */
export function stepDetail(step: Step): string {
  const d = step.detail ?? {};
  const text = (key: string) => (typeof d[key] === 'string' || typeof d[key] === 'number' ? String(d[key]) : undefined);
  const parts: string[] = [];
  if (text('stage')) parts.push(`stage ${text('stage')}`);
  if (Array.isArray(d.approvers)) parts.push(`asked ${d.approvers.join(', ')}`);
  if (Array.isArray(d.reminded)) parts.push(`reminded ${d.reminded.join(', ')}`);
  if (Array.isArray(d.escalatedTo)) parts.push(`escalated to ${d.escalatedTo.join(', ')}`);
  if (text('limit') !== undefined && text('count') !== undefined)
    parts.push(`${text('count')} node(s), limit ${text('limit')}`);
  if (text('comment')) parts.push(`"${text('comment')}"`);
  if (text('available') !== undefined) parts.push(`${text('available')} node(s) available`);
  if (text('reason')) parts.push(text('reason')!);
  if (text('message')) parts.push(text('message')!);
  if (text('cause')) parts.push(text('cause')!);
  return parts.join('; ');
}

/** What a request is doing now, for the progress line: the status and, while waiting, who is asked. */
export function statusText(view: RequestView): string {
  const base = STATUS_TEXT[view.status] ?? view.status;
  if (view.status === 'AWAITING_APPROVAL') {
    const asked = [...view.steps].reverse().find((s) => s.step === 'approval_requested');
    const approvers = Array.isArray(asked?.detail?.approvers)
      ? (asked.detail.approvers as string[]).join(', ')
      : undefined;
    const stage = typeof asked?.detail?.stage === 'string' ? asked.detail.stage : undefined;
    return approvers ? `${base} from ${approvers}${stage ? ` (stage ${stage})` : ''}` : base;
  }
  if (view.status === 'CREATED' && !view.final) return `${base}, waiting for its nodes`;
  if (view.change) {
    const { kind, from, to } = view.change;
    const delta = `${to - from >= 0 ? '+' : ''}${to - from}`;
    const what = kind === 'update' ? 'labels/taints update' : `scale from ${from} to ${to} nodes (${delta})`;
    if (view.status === 'ACTIVE') return `${what} done, ModelArts shows it`;
    if (view.status === 'PROVISIONING') return `${what} under way in ModelArts`;
    if (['REJECTED', 'EXPIRED', 'CANCELLED', 'FAILED'].includes(view.status)) return `${what} not made`;
    return `${base} (${what})`;
  }
  return base;
}

/** The status once, its reason, and what it means: `FAILED (NODE_POOL_CONFLICT): no node pool`. */
export function statusLine(view: RequestView, paint: (text: string) => string = (t) => t): string {
  return `${paint(view.status)}${view.reason ? ` (${view.reason})` : ''}: ${statusText(view)}`;
}

export function billingText(billing: RequestSummary['billing']): string {
  if (billing.mode !== '1') return 'pay-per-use';
  const unit = { '2': 'month', '3': 'year', '4': 'hour' }[billing.periodType ?? ''] ?? 'period';
  return `yearly/monthly, ${billing.periodNum ?? '?'} ${unit}(s)${billing.autoRenew === '1' ? ', auto-renew' : ''}${billing.orderId ? `, order ${billing.orderId}` : ''}`;
}

/** A plain text table: a header row and left-aligned columns two spaces apart (widths from the plain text). */
export function table(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  paint: (row: number, column: number, cell: string) => string = (_r, _c, cell) => cell,
): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (cells: readonly string[], row: number) =>
    cells
      .map((cell, c) =>
        c === cells.length - 1 ? paint(row, c, cell) : paint(row, c, cell) + ' '.repeat(widths[c] - cell.length),
      )
      .join('  ')
      .trimEnd();
  return [line(headers, -1), ...rows.map((row, i) => line(row, i))].join('\n');
}

export function outcomeColor(colors: Colors, outcome: string): (text: string) => string {
  return outcome === 'ok' ? colors.green : outcome === 'refused' || outcome === 'error' ? colors.red : (t: string) => t;
}

export function statusColor(colors: Colors, view: Pick<RequestSummary, 'status' | 'final'>): (text: string) => string {
  if (view.status === 'ACTIVE' || (view.status === 'CREATED' && view.final)) return colors.green;
  if (view.final) return colors.red;
  return colors.yellow;
}

/** `poolgate status`: the request's facts, then its timeline. */
export function requestDetails(view: RequestView, colors: Colors): string {
  const facts: Array<[string, string | undefined]> = [
    ['Request', view.requestId],
    ['Status', statusLine(view, statusColor(colors, view))],
    ['Node pool', `${view.nodePoolName} in pool ${view.poolName}, project ${view.projectId}`],
    ['Flavor', `${view.flavor} x ${view.count} (max ${view.maxCount})`],
    ['Billing', billingText(view.billing)],
    ['Requester', `${view.requester} (team ${view.team})`],
    ['Justification', view.justification],
    [
      'Lease',
      view.lease
        ? `${view.lease.duration}${view.lease.extendedBy ? ` + ${view.lease.extendedBy}` : ''}, ${view.lease.endsAt ? `ends ${shortTime(view.lease.endsAt)} UTC, deleted ${shortTime(view.lease.deleteAt!)} UTC` : 'from its creation in ModelArts'}`
        : undefined,
    ],
    ['Extends', view.extend ? `the lease of request ${view.extend.createdBy} by ${view.extend.duration}` : undefined],
    ['Submitted', `${shortTime(view.createdAt)} UTC`],
    ['Page', view.links.page],
  ];
  const shown = facts.filter((f): f is [string, string] => f[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  const head = shown.map(([label, value]) => `${colors.bold(label.padEnd(width))}  ${value}`).join('\n');
  const rows = view.steps.map((s) => [shortTime(s.at), stepLabel(s.step), s.outcome, s.actor ?? '', stepDetail(s)]);
  const timeline = table(['TIME (UTC)', 'STEP', 'OUTCOME', 'BY', 'DETAILS'], rows, (row, column, cell) =>
    row === -1 ? colors.bold(cell) : column === 2 ? outcomeColor(colors, cell)(cell) : cell,
  );
  return `${head}\n\n${timeline}\n`;
}

/** `poolgate list`: one row per request (and, for --awaiting-me, the stage and the link to decide). */
export function requestTable(items: readonly ListedRequest[], colors: Colors, awaiting: boolean): string {
  const headers = [
    'CREATED (UTC)',
    'ID',
    'STATUS',
    'NODE POOL',
    'FLAVOR',
    'COUNT',
    'REQUESTER',
    ...(awaiting ? ['STAGE'] : []),
  ];
  const rows = items.map((r) => [
    shortTime(r.createdAt),
    r.requestId,
    r.reason ? `${r.status} (${r.reason})` : r.status,
    r.nodePoolName,
    r.flavor,
    String(r.count),
    r.requester,
    ...(awaiting ? [r.awaiting?.stage ?? ''] : []),
  ]);
  const text = table(headers, rows, (row, column, cell) =>
    row === -1 ? colors.bold(cell) : column === 2 ? statusColor(colors, items[row])(cell) : cell,
  );
  const links = awaiting
    ? items.flatMap((r) => (r.links.decide ? [`  ${r.requestId}: decide at ${r.links.decide}`] : []))
    : [];
  return `${text}\n${links.length ? `\n${links.join('\n')}\n` : ''}`;
}

/** One line per step, for progress in logs: `2026-11-26 21:05:34  approved  ok  bob@example.com  stage manager`. */
export function stepLine(step: Step, colors: Colors): string {
  const mark = step.outcome === 'ok' ? colors.green('✔') : colors.red('✖');
  return [
    `${mark} ${shortTime(step.at)}`,
    stepLabel(step.step),
    outcomeColor(colors, step.outcome)(step.outcome),
    step.actor ?? '',
    stepDetail(step),
  ]
    .filter(Boolean)
    .join('  ');
}
