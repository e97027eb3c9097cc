/** The facts an approver needs about a request, shared by the e-mail, the page and Slack. */
import { formatSeconds } from '../domain/lease';
import type { BillingSummary } from '../domain/billing';
import { describeChange } from '../domain/scale-change';
import type { PoolRequestRecord } from '../domain/pool-request';

const PERIOD_TYPES: Record<string, string> = { '2': 'month', '3': 'year', '4': 'hour' };

export interface Price {
  readonly hourly: number;
  readonly currency: string;
}

export function billingText(billing: BillingSummary): string {
  if (billing.mode === '0') return billing.fromPool ? "pay-per-use (the pool's billing mode)" : 'pay-per-use';
  const unit = PERIOD_TYPES[billing.periodType ?? ''] ?? 'period';
  const renew = billing.autoRenew === '1' ? ', auto-renew' : '';
  return `yearly/monthly, ${billing.periodNum ?? '?'} ${unit}(s)${renew}`;
}

/**
 * `2 nodes x 1.20 USD/h = 2.40 USD/h (list price)`; a scale, its difference: `+4 node(s) x 1.20 USD/h =
 * +4.80 USD/h (list price)`; undefined when the policy names no price (or a scale changes no count).
 */
export function priceText(request: PoolRequestRecord, price: Price | undefined): string | undefined {
  if (!price) return undefined;
  if (request.change) {
    const delta = request.change.to - request.change.from;
    if (delta === 0) return undefined;
    const sign = delta > 0 ? '+' : '-';
    const difference = Math.abs(delta) * price.hourly;
    return `${sign}${Math.abs(delta)} node(s) x ${price.hourly.toFixed(2)} ${price.currency}/h = ${sign}${difference.toFixed(2)} ${price.currency}/h (list price)`;
  }
  const total = price.hourly * request.count;
  return `${request.count} node(s) x ${price.hourly.toFixed(2)} ${price.currency}/h = ${total.toFixed(2)} ${price.currency}/h (list price)`;
}

/** A create's lease: its duration, from the creation on, and the grace before the deletion. */
export function leaseText(r: PoolRequestRecord): string | undefined {
  if (!r.lease) return undefined;
  const grace = r.lease.graceSeconds
    ? `, deleted ${formatSeconds(r.lease.graceSeconds)} after its end`
    : ', deleted at its end';
  return `${r.lease.duration} from its creation${grace}`;
}

/** What the whole lease costs at list price (a create's lease, or what an extension adds). */
export function leaseCostText(r: PoolRequestRecord, price: Price | undefined): string | undefined {
  const seconds = r.lease?.seconds ?? r.extend?.seconds;
  if (!price || !seconds) return undefined;
  const total = price.hourly * r.count * (seconds / 3600);
  return `${total.toFixed(2)} ${price.currency} (${r.count} node(s) for ${formatSeconds(seconds)}, list price)`;
}

/** What the approver is asked to let happen: "create node pool np-1", "scale node pool np-1 from 2 to 6 nodes, +4". */
export function askedAction(r: PoolRequestRecord): string {
  if (r.change) return `scale node pool ${r.nodePoolName} ${describeChange(r.change)}`;
  return `${r.kind === 'delete' ? 'delete' : 'create'} node pool ${r.nodePoolName}`;
}

/** The subject's short form: "np-1 (6 x flavor)", a scale "np-1 (from 2 to 6 nodes, +4, flavor)". */
export function nodePoolHeadline(r: PoolRequestRecord): string {
  if (r.change) return `${r.nodePoolName} (${describeChange(r.change)}, ${r.flavor})`;
  return `${r.nodePoolName} (${r.count} x ${r.flavor})`;
}

export function requestFacts(r: PoolRequestRecord, price?: Price): Array<[string, string | number | undefined]> {
  return [
    ['Requester', r.requester],
    ['Team', r.team],
    ['Project', r.projectId],
    ['Pool', r.poolName],
    ['Node pool', r.nodePoolName],
    ['Change', r.change ? describeChange(r.change) : undefined],
    ['Flavor', r.flavor],
    ['Count', r.count],
    ['Max count', r.maxCount],
    ['Billing', billingText(r.billing)],
    ['Estimated price', priceText(r, price)],
    ['Lease', leaseText(r)],
    ['Estimated cost of the whole lease', leaseCostText(r, price)],
    ['Extend the lease by', r.extend?.duration],
    ['Justification', r.justification],
    ['Request id', r.requestId],
  ];
}
