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
import type { ApprovalStore, QuotaStore, RequestStore, WorkflowRuns } from './ports';
import { releaseScaleHold } from './scale-quota';

export interface CancelDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  readonly approvals: ApprovalStore;
  readonly quotas: QuotaStore;
  readonly workflow: Pick<WorkflowRuns, 'stop'>;
  readonly notifier: Pick<Notifier, 'showSettled' | 'tellRequester'>;
  readonly recordMetric?: RecordMetric;
}

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
  if (cancelled.recorded) deps.recordMetric?.('cancelled', 1, 'Count');
  await deps.workflow.stop(requestId, `cancelled by ${actor}`);
  for (let stageIndex = 0; stageIndex < request.stages.length; stageIndex++) {
    const approvalId = approvalIdFor(requestId, stageIndex);
    await deps.approvals.close(approvalId, 'CANCELLED');
    const approval = await deps.approvals.get(approvalId);
    if (approval?.closed === 'CANCELLED')
      await deps.notifier.showSettled(cancelled.request, approval, `cancelled by ${actor}`);
  }
  // A scale-up holds only the nodes it adds (its delta), whatever its target count.
  if (request.change) await releaseScaleHold(request, deps);
  else await deps.quotas.release({ team: request.team, flavor: request.flavor, requestId, count: request.count });
  // A cancelled change (a delete) leaves the node pool's share to reconciliation again.
  if (request.createRequestId)
    await deps.quotas.clearOpen({
      team: request.team,
      flavor: request.flavor,
      createId: request.createRequestId,
      changeId: requestId,
    });
  if (cancelled.recorded) await deps.notifier.tellRequester(cancelled.request);
  return toRequestView(cancelled.request);
}
