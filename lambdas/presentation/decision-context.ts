/**
 * What a decision means, shared by the approval page, the e-mail and Slack: the team's quota for the
 * flavor before and after this request (as the quota check found it), the price estimate when the
 * policy has prices, and the decisions already taken (earlier stages, other approvers) with their
 * comments.
 */
import type { PoolRequestRecord } from '../domain/pool-request';
import { priceText, type Price } from './request-summary';

export interface EarlierDecision {
  readonly stage: string;
  readonly approver: string;
  readonly vote: 'approved' | 'rejected';
  readonly at: string;
  readonly comment?: string;
  readonly orderId?: string;
}

export interface DecisionContext {
  /** `6 of 10 in use, 8 after this` (or the request's share of the limit, for a request checked before snapshots). */
  readonly quota?: string;
  readonly price?: string;
  readonly earlier: readonly EarlierDecision[];
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
const num = (value: unknown) => (typeof value === 'number' ? value : undefined);

export function quotaText(request: PoolRequestRecord): string | undefined {
  const check = request.steps.find((s) => s.step === 'quota_checked' && s.outcome === 'ok');
  const limit = num(check?.detail?.limit);
  if (limit === undefined) return undefined;
  const after = num(check?.detail?.inUseAfter);
  // A scale-up reserves only the nodes it adds (the check's `count`).
  const added = num(check?.detail?.count) ?? request.count;
  if (after === undefined) return `${added} node(s) within a limit of ${limit}`;
  const before = Math.max(after - added, 0);
  return `${before} of ${limit} in use, ${after} after this (team ${request.team}, ${request.flavor})`;
}

export function earlierDecisions(request: PoolRequestRecord): EarlierDecision[] {
  return request.steps.flatMap((s): EarlierDecision[] =>
    (s.step === 'approved' || s.step === 'rejected') && s.actor
      ? [
          {
            stage: text(s.detail?.stage) ?? '',
            approver: s.actor,
            vote: s.step,
            at: s.at,
            ...(text(s.detail?.comment) ? { comment: text(s.detail?.comment) } : {}),
            ...(text(s.detail?.orderId) ? { orderId: text(s.detail?.orderId) } : {}),
          },
        ]
      : [],
  );
}

export function decisionContext(request: PoolRequestRecord, price?: Price): DecisionContext {
  return { quota: quotaText(request), price: priceText(request, price), earlier: earlierDecisions(request) };
}

/** `manager: bob@example.com approved at 2026-12-06 14:03 UTC: "go"` */
export function decisionLine(d: EarlierDecision, when: (iso: string) => string): string {
  return `${d.stage ? `${d.stage}: ` : ''}${d.approver} ${d.vote} at ${when(d.at)}${d.orderId ? ` (order id ${d.orderId})` : ''}${
    d.comment ? `: "${d.comment}"` : ''
  }`;
}
