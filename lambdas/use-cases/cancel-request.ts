/**
 * Cancel: the requester (or an admin) withdraws a request that is not provisioning yet.
 *  1. record `cancelled` with status CANCELLED (one conditional write: a request that reached
 *     PROVISIONING meanwhile cannot be cancelled);
 *  2. close its approvals (their links answer 410) and stop its execution;
 *  3. give the quota reservation back, update the Slack messages, tell the requester.
 * Cancelling a cancelled request again is a no-op that answers the same (a retry is safe).
 */
import type { Policy } from '../config/policy';
import { approvalIdFor } from '../domain/approval';
import { InvalidTransitionError, NotCancellableError } from '../domain/errors';
import type { RequestView } from '../domain/pool-request';
import { assertMayChange, toRequestView } from '../domain/pool-request';
import { newStep } from '../domain/steps';
import type { RecordMetric } from './metrics';
import type { Notifier } from './notifier';
import type { ApprovalStore, LeaseRecords, QuotaStore, RequestStore, StepResult, WorkflowRuns } from './ports';
import type { PoolRequestRecord } from '../domain/pool-request';
import { kindOf } from '../domain/request-kind';
import type { RequestStatus } from '../domain/status';
import { releaseScaleHold } from './scale-quota';

export interface CancelDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  readonly approvals: ApprovalStore;
  readonly quotas: QuotaStore;
  readonly workflow: Pick<WorkflowRuns, 'stop'>;
  readonly notifier: Pick<Notifier, 'showSettled' | 'tellRequester'>;
  readonly recordMetric?: RecordMetric;
  /** An extension's hold on its lease, released when it is cancelled. */
  readonly leases?: Pick<LeaseRecords, 'releaseExtension'>;
}

/**
 * What follows a recorded cancellation, whoever cancelled: the run stopped, the approvals closed and
 * their Slack messages settled, the reservation given back, a change's marker (and an extension's
 * hold on its lease) cleared, the requester told.
 */
export async function settleCancelled(
  request: PoolRequestRecord,
  cancelled: StepResult,
  outcome: string,
  deps: Omit<CancelDeps, 'policy'>,
): Promise<void> {
  const { requestId } = request;
  if (cancelled.recorded) deps.recordMetric?.('cancelled', 1, 'Count');
  await deps.workflow.stop(requestId, outcome);
  for (let stageIndex = 0; stageIndex < request.stages.length; stageIndex++) {
    const approvalId = approvalIdFor(requestId, stageIndex);
    await deps.approvals.close(approvalId, 'CANCELLED');
    const approval = await deps.approvals.get(approvalId);
    if (approval?.closed === 'CANCELLED') await deps.notifier.showSettled(cancelled.request, approval, outcome);
  }
  // A scale-up holds only the nodes it adds (its delta), whatever its target count.
  if (request.change) await releaseScaleHold(request, deps);
  else await deps.quotas.release({ team: request.team, flavor: request.flavor, requestId, count: request.count });
  // A cancelled change (a scale, a delete) leaves the node pool's share to reconciliation again.
  if (request.createRequestId && kindOf(request) !== 'extend')
    await deps.quotas.clearOpen({
      team: request.team,
      flavor: request.flavor,
      createId: request.createRequestId,
      changeId: requestId,
    });
  if (kindOf(request) === 'extend') await deps.leases?.releaseExtension(request, requestId);
  if (cancelled.recorded) await deps.notifier.tellRequester(cancelled.request);
}

/**
 * The lease of the node pool ended while `requestId` waited (for its checks or an approval): it ends
 * CANCELLED / LEASE_ENDED, whatever its kind, its reservation released. False when it no longer waits
 * (one cancelled for its lease's end already is settled again: a crash may have stopped it half-way).
 */
export async function cancelForLeaseEnd(requestId: string, deps: Omit<CancelDeps, 'policy'>): Promise<boolean> {
  const request = await deps.requests.get(requestId);
  if (request?.status === 'CANCELLED' && request.reason === 'LEASE_ENDED') {
    // Cancelled already, perhaps by a run that stopped before it settled: settle again (each part is
    // conditional, so a settled one changes nothing; nothing is counted or told twice).
    await settleCancelled(request, { recorded: false, request }, LEASE_ENDED_OUTCOME, deps);
    return false;
  }
  if (!request || !WAITING.includes(request.status)) return false;
  let cancelled: StepResult;
  try {
    cancelled = await deps.requests.recordStep(
      requestId,
      newStep('cancelled', 'cancelled', 'ok', { actor: POOLGATE_ACTOR, detail: { reason: 'LEASE_ENDED' } }),
      { status: 'CANCELLED', reason: 'LEASE_ENDED', from: WAITING },
    );
  } catch (error) {
    if (error instanceof InvalidTransitionError) return false;
    throw error;
  }
  await settleCancelled(request, cancelled, LEASE_ENDED_OUTCOME, deps);
  return cancelled.recorded;
}

const LEASE_ENDED_OUTCOME = "cancelled: the node pool's lease ended";

/** Who acts when poolgate itself does something (a lease's deletion, its cancellations). */
export const POOLGATE_ACTOR = 'poolgate';
const WAITING: RequestStatus[] = ['SUBMITTED', 'AWAITING_APPROVAL'];

export async function cancelRequest(requestId: string, actor: string, deps: CancelDeps): Promise<RequestView> {
  const request = await deps.requests.get(requestId);
  const members = deps.policy.teams.find((t) => t.name === request?.team)?.members.map((m) => m.email) ?? [];
  assertMayChange(request, requestId, actor, 'cancel', members, deps.policy.admins);
  let cancelled;
  try {
    cancelled = await deps.requests.recordStep(requestId, newStep('cancelled', 'cancelled', 'ok', { actor }), {
      status: 'CANCELLED',
      reason: 'CANCELLED_BY_USER',
    });
  } catch (error) {
    if (error instanceof InvalidTransitionError)
      throw new NotCancellableError(`request ${requestId} is ${request.status} and can no longer be cancelled`);
    throw error;
  }
  await settleCancelled(request, cancelled, `cancelled by ${actor}`, deps);
  return toRequestView(cancelled.request);
}
