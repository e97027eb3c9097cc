/**
 * The business metrics port: use cases count what happened to requests through an injected
 * `recordMetric`, with no SDK in sight (lambdas/adapters/metrics.ts writes them as CloudWatch EMF
 * where a namespace is configured; elsewhere they go nowhere). Each is recorded where the step it
 * counts is written, and only by the write that recorded it, so a retried Lambda never counts twice.
 */
import type { PoolRequestRecord } from '../domain/pool-request';
import { stepId } from '../domain/steps';

export type MetricName =
  /** A new request was stored (an idempotent replay is not counted). */
  | 'submitted'
  /** The last approval stage approved: the request goes on to ModelArts. */
  | 'approved'
  /** A delete reached DELETED: ModelArts no longer shows the node pool. */
  | 'deleted'
  /** The request ended REJECTED: by an approver, or by the checks (capacity, quota, no eligible approver). */
  | 'rejected'
  /** An approval stage ran out of time: the request ended EXPIRED. */
  | 'expired'
  | 'cancelled'
  /** ModelArts accepted the node pool (status CREATED). */
  | 'created'
  /** The request ended FAILED (ModelArts error, nodes abnormal or late, internal error). */
  | 'failed'
  /** The reconciliation found a node pool changed outside poolgate (once per observation). */
  | 'unapprovedChange'
  /** Seconds from `approval_requested` to the stage's decision (approve or reject), once per decided stage. */
  | 'approvalWaitTime';

export type MetricUnit = 'Count' | 'Seconds';

export type RecordMetric = (name: MetricName, value: number, unit: MetricUnit) => void;

/** For callers that count nothing (tests, tools). */
export const noMetrics: RecordMetric = () => undefined;

/** Seconds the stage waited for its decision, from its `approval_requested` step (else the approval's creation). */
export function approvalWaitSeconds(
  request: PoolRequestRecord,
  stageName: string,
  approvalCreatedAt: string,
  decidedAt: Date,
): number {
  const requestedAt = request.steps.find((s) => s.id === stepId.approvalRequested(stageName))?.at ?? approvalCreatedAt;
  return Math.max(0, (decidedAt.getTime() - Date.parse(requestedAt)) / 1000);
}
