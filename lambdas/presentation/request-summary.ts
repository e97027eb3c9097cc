/** The facts an approver needs about a request, shared by the e-mail and the approval page. */
import type { BillingSummary } from '../domain/billing';
import type { PoolRequestRecord } from '../domain/pool-request';

const PERIOD_TYPES: Record<string, string> = { '2': 'month', '3': 'year', '4': 'hour' };

export function billingText(billing: BillingSummary): string {
  if (billing.mode === '0') return 'pay-per-use';
  const unit = PERIOD_TYPES[billing.periodType ?? ''] ?? 'period';
  const renew = billing.autoRenew === '1' ? ', auto-renew' : '';
  return `yearly/monthly, ${billing.periodNum ?? '?'} ${unit}(s)${renew}`;
}

export function requestFacts(r: PoolRequestRecord): Array<[string, unknown]> {
  return [
    ['Requester', r.requester],
    ['Team', r.team],
    ['Project', r.projectId],
    ['Pool', r.poolName],
    ['Node pool', r.nodePoolName],
    ['Flavor', r.flavor],
    ['Count', r.count],
    ['Max count', r.maxCount],
    ['Billing', billingText(r.billing)],
    ['Justification', r.justification],
    ['Request id', r.requestId],
  ];
}
