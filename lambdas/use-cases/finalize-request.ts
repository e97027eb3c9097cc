/**
 * Finalize (last workflow step, on every path), for the request's latest run (`attempt`): a late or
 * retried Finalize of a run that a retry has replaced settles only its own reservation (if the retry
 * has not taken it over), never the status, and tells nobody.
 *  - created (the run says so, or `node_pool_created` was recorded before a failure): the reservation
 *    becomes use (also when its nodes then failed: the node pool exists); with no reservation left
 *    (lost to a race) and nothing counted, the nodes are counted all the same;
 *  - the approval wait ran out: the request ends EXPIRED (nothing is auto-approved);
 *  - a caught error: the request ends FAILED with the reason, and where a retry would resume;
 *  - in every case but creation, the reservation (if any) is given back;
 *  - the requester is told how it ended.
 * Each write is idempotent, so a retried Finalize changes nothing (a retry may e-mail twice).
 */
import {
  WORKFLOW_ERRORS,
  WORKFLOW_STATES,
  type FinalizePayload,
  type WorkflowErrorName,
} from '../../contracts/workflow';
import { approvalIdFor } from '../domain/approval';
import { NotFoundError } from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import { resumePointAfter, type ResumePoint } from '../domain/retry';
import { isTerminal, type RequestStatus, type TerminalReason } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import type { RecordMetric } from './metrics';
import type { Notifier } from './notifier';
import type { ApprovalStore, QuotaStore, RequestStore } from './ports';

export type FinalizeInput = FinalizePayload;

export interface FinalizeDeps {
  readonly requests: RequestStore;
  readonly approvals: ApprovalStore;
  readonly quotas: QuotaStore;
  readonly notifier: Pick<Notifier, 'showSettled' | 'tellRequester'>;
  /** Whether nodes are followed after creation (off: CREATED is where a request ends). */
  readonly nodeTracking: boolean;
  readonly recordMetric?: RecordMetric;
}

/** The reason a failure records, by the name of the error caught (the workflow contract's table). */
export type FailureReasons = { readonly [Name in WorkflowErrorName]: TerminalReason };
const FAILURE_REASONS: FailureReasons = Object.fromEntries(
  Object.entries(WORKFLOW_ERRORS).map(([name, spec]) => [name, spec.reason]),
) as { [Name in WorkflowErrorName]: (typeof WORKFLOW_ERRORS)[Name]['reason'] };

function failureReason(errorName: string): TerminalReason {
  return Object.hasOwn(FAILURE_REASONS, errorName) ? FAILURE_REASONS[errorName as WorkflowErrorName] : 'INTERNAL_ERROR';
}

export async function finalizeRequest(input: FinalizeInput, deps: FinalizeDeps): Promise<{ status: RequestStatus }> {
  let request = await deps.requests.get(input.requestId);
  if (!request) throw new NotFoundError(`request ${input.requestId} not found`);
  const attempt = input.attempt ?? 0;
  const share = {
    team: request.team,
    flavor: request.flavor,
    requestId: request.requestId,
    count: request.count,
    attempt,
  };
  // CreateNodePool may record the node pool and still fail (its answer lost): the node pool exists all the same.
  const created = Boolean(input.created) || request.steps.some((s) => s.step === 'node_pool_created');

  if ((request.retries ?? 0) !== attempt) {
    // A retry has replaced this run: the status and the requester belong to the new run. This run's own
    // reservation, if a retry has not taken it over, is still this run's to settle.
    await (created ? deps.quotas.commit(share) : deps.quotas.release(share));
    return { status: request.status };
  }

  if (created) {
    // The node pool exists (even if its nodes then failed): its nodes count against the quota.
    const nothingToFollow = !input.created && request.status === 'CREATED' && !deps.nodeTracking;
    if (input.error && !isTerminal(request.status) && !nothingToFollow)
      request = await fail(request, attempt, input.error, WORKFLOW_STATES.checkNodes, deps);
    await deps.quotas.commitOrCount(share);
  } else {
    if (input.approval?.status === 'expired' && request.status === 'AWAITING_APPROVAL')
      request = await expire(request, input.approval.stageIndex, deps);
    else if (input.error && !isTerminal(request.status)) {
      // Approved: the run said so, or the request was provisioning (a retried run fails before its Decision).
      const approved = input.approval?.status === 'approved' || request.status === 'PROVISIONING';
      request = await fail(request, attempt, input.error, resumePointAfter(approved, false), deps);
    }
    await deps.quotas.release(share);
  }
  if (request.status !== 'CANCELLED') await deps.notifier.tellRequester(request);
  return { status: request.status };
}

async function expire(request: PoolRequestRecord, stageIndex: number, deps: FinalizeDeps): Promise<PoolRequestRecord> {
  const stage = request.stages[stageIndex];
  const approvalId = approvalIdFor(request.requestId, stageIndex);
  await deps.approvals.close(approvalId, 'EXPIRED');
  const result = await deps.requests.recordStep(
    request.requestId,
    newStep(stepId.expired(stage?.name ?? String(stageIndex)), 'expired', 'refused'),
    {
      status: 'EXPIRED',
      reason: 'APPROVAL_EXPIRED',
    },
  );
  if (result.recorded) deps.recordMetric?.('expired', 1, 'Count');
  const approval = await deps.approvals.get(approvalId);
  if (approval) await deps.notifier.showSettled(result.request, approval, 'expired without a decision');
  return result.request;
}

/** `resumeAt`: where `POST /requests/{id}/retry` picks the work up again (absent: not retryable). */
async function fail(
  request: PoolRequestRecord,
  attempt: number,
  error: NonNullable<FinalizePayload['error']>,
  resumeAt: ResumePoint | undefined,
  deps: FinalizeDeps,
): Promise<PoolRequestRecord> {
  const detail = { error: error.Error, cause: causeMessage(error.Cause), ...(resumeAt ? { resumeAt } : {}) };
  const result = await deps.requests.recordStep(
    request.requestId,
    newStep(stepId.failed(attempt), 'failed', 'error', { detail }),
    { status: 'FAILED', reason: failureReason(error.Error) },
  );
  if (result.recorded) deps.recordMetric?.('failed', 1, 'Count');
  return result.request;
}

/** Step Functions puts a Lambda error's message inside a JSON `Cause`; keep just the message, briefly. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return (parsed.errorMessage ?? cause).slice(0, 500);
  } catch {
    return cause.slice(0, 500);
  }
}
