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
import { kindOf } from '../domain/request-kind';
import type { PoolRequestRecord } from '../domain/pool-request';
import { resumePointAfter, type ResumePoint } from '../domain/retry';
import { isTerminal, type RequestStatus, type TerminalReason } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import { releaseScaleHold } from './scale-quota';
import type { RecordMetric } from './metrics';
import type { Notifier } from './notifier';
import type { ApprovalStore, Claims, LeaseRecords, QuotaStore, RequestStore } from './ports';

export type FinalizeInput = FinalizePayload;

export interface FinalizeDeps {
  readonly requests: RequestStore;
  readonly approvals: ApprovalStore;
  readonly quotas: QuotaStore;
  readonly notifier: Pick<Notifier, 'showSettled' | 'tellRequester'>;
  /** What finalizing a change to an existing node pool (a delete) writes besides: the record, the creator told. */
  readonly changes?: {
    readonly claims: Pick<Claims, 'markDeleted'> & Partial<Pick<Claims, 'markCount'>>;
    readonly notifier: Pick<Notifier, 'tellCreator'>;
    /** An extension's hold on its lease. */
    readonly leases?: Pick<LeaseRecords, 'releaseExtension'>;
  };
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
  if (kindOf(request) !== 'create') return finalizeChange(request, input, deps);
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

/**
 * How the run of a change that is not final yet ends: EXPIRED when its approval wait ran out; REJECTED
 * when the node pool turned out not to be poolgate's, or (`leaseEndedRefuses`) when the lease ended
 * first; FAILED on any other caught error, retryable from ApplyChange once approved; else as it is.
 */
async function endUnfinishedChange(
  request: PoolRequestRecord,
  input: FinalizeInput,
  attempt: number,
  deps: FinalizeDeps,
  options: { leaseEndedRefuses?: boolean } = {},
): Promise<PoolRequestRecord> {
  if (input.approval?.status === 'expired' && request.status === 'AWAITING_APPROVAL')
    return expire(request, input.approval.stageIndex, deps);
  if (
    options.leaseEndedRefuses &&
    (input.error?.Error === 'LeaseEndedError' || input.error?.Error === 'LeaseMaxTotalError')
  ) {
    // An extension that could not move the lease: its deletion won, or the cap (lease.maxTotal) would pass.
    const reason = FAILURE_REASONS[input.error.Error];
    const result = await deps.requests.recordStep(
      request.requestId,
      newStep(stepId.failed(attempt), 'lease_extended', 'refused', {
        detail: { reason, message: causeMessage(input.error.Cause) },
      }),
      { status: 'REJECTED', reason },
    );
    return result.request;
  }
  if (input.error?.Error === 'NodePoolNotOursError') {
    const result = await deps.requests.recordStep(
      request.requestId,
      // Its own step id: CheckRequest has already recorded `capacity-checked` as ok for this request, and a
      // step whose id is recorded is skipped with its status change (the request would stay PROVISIONING).
      newStep(stepId.nodePoolNotOurs(attempt), 'capacity_checked', 'refused', {
        detail: { reason: 'NODE_POOL_NOT_OURS', message: causeMessage(input.error.Cause) },
      }),
      { status: 'REJECTED', reason: 'NODE_POOL_NOT_OURS' },
    );
    return result.request;
  }
  if (input.error?.Error === 'NodePoolChangedError') {
    // A scale's plan no longer fits the node pool (changed since it was submitted): nothing was sent.
    const result = await deps.requests.recordStep(
      request.requestId,
      newStep(stepId.nodePoolChanged(attempt), 'capacity_checked', 'refused', {
        detail: { reason: 'NODE_POOL_CHANGED', message: causeMessage(input.error.Cause) },
      }),
      { status: 'REJECTED', reason: 'NODE_POOL_CHANGED' },
    );
    return result.request;
  }
  if (input.error) {
    const approved = input.approval?.status === 'approved' || request.status === 'PROVISIONING';
    return fail(request, attempt, input.error, approved ? 'ApplyChange' : undefined, deps);
  }
  return request;
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

/**
 * Finalize of a change to an existing node pool (a delete), for the request's latest run:
 *  - its tracking saw the node pool gone (`created`: what ApplyChange handed on, no error): the share
 *    `use#<createId>` is removed, conditional on its value, with the change marker; the record says
 *    deleted; then `node_pool_deleted` and DELETED in one write on the request, which frees the name
 *    (a request holds its node pool until its final status); the creator is told if someone else deleted it;
 *  - the node pool turned out not to be poolgate's (re-created outside it): REJECTED, nothing changed;
 *  - the approval wait ran out: EXPIRED; any other caught error: FAILED, retryable from ApplyChange once approved;
 *  - in every case but deletion the marker goes (the share stays as it is); the requester is told.
 * Each write is conditional or idempotent, so a retried (or restarted) Finalize changes nothing twice.
 */
async function finalizeChange(
  request: PoolRequestRecord,
  input: FinalizeInput,
  deps: FinalizeDeps,
): Promise<{ status: RequestStatus }> {
  const attempt = input.attempt ?? 0;
  if ((request.retries ?? 0) !== attempt) return { status: request.status };
  const marker = {
    team: request.team,
    flavor: request.flavor,
    createId: request.createRequestId ?? '',
    changeId: request.requestId,
  };
  const extension = kindOf(request) === 'extend';
  if (kindOf(request) === 'scale') return finalizeScale(request, input, marker, deps);
  const gone = !extension && Boolean(input.created) && !input.error;
  if (gone && request.status !== 'DELETED') {
    if (!deps.changes) throw new Error('finalizing a change needs the node-pool record (FinalizeDeps.changes)');
    const released = await deps.quotas.removeUse(marker);
    const at = new Date();
    await deps.changes.claims.markDeleted(request, request.requestId, at.toISOString());
    const result = await deps.requests.recordStep(
      request.requestId,
      newStep('node-pool-deleted', 'node_pool_deleted', 'ok', {
        at,
        detail: { nodePool: request.nodePoolName, released, createdBy: request.createRequestId },
      }),
      { status: 'DELETED' },
    );
    request = result.request;
    if (result.recorded) {
      deps.recordMetric?.('deleted', 1, 'Count');
      await deps.notifier.tellRequester(request);
      const creator = request.creator;
      if (creator && creator !== request.requester) await deps.changes.notifier.tellCreator(request, creator);
    }
    return { status: request.status };
  }
  if (!gone && !isTerminal(request.status))
    request = await endUnfinishedChange(request, input, attempt, deps, { leaseEndedRefuses: true });
  if (extension) {
    // An extension that did not move the lease lets go of it (at most one open extension per lease).
    if (request.status !== 'EXTENDED') await deps.changes?.leases?.releaseExtension(request, request.requestId);
  } else if (request.status !== 'DELETED') await deps.quotas.clearOpen(marker);
  if (request.status !== 'CANCELLED') await deps.notifier.tellRequester(request);
  return { status: request.status };
}

/**
 * Finalize of a scale, for the request's latest run:
 *  - ACTIVE already (CheckNodes saw the new count and settled the quota; an update when ModelArts
 *    accepted it): the requester is told;
 *  - otherwise, as for a delete: EXPIRED, REJECTED (not poolgate's node pool any more, or its count
 *    changed since the scale was planned: NODE_POOL_CHANGED, nothing sent) or FAILED
 *    (retryable from ApplyChange once approved);
 *  - ModelArts accepted the PATCH (`node_pool_patched`) but the request did not end ACTIVE (its nodes
 *    timed out or turned abnormal): the nodes are there or coming all the same, as for a created node
 *    pool: a scale-up's reservation moves into the node pool's use, a scale-down's share stays until
 *    quota reconciliation sees the nodes gone, and the record counts the target (so drift does not
 *    report the change as unapproved);
 *  - otherwise a scale-up's reservation (this attempt's) is given back; the marker is cleared either
 *    way, so quota reconciliation follows what ModelArts shows again; the requester is told;
 *  - a retry started meanwhile (the request read again shows a newer attempt): only this attempt's own
 *    reservation, if still its, is given back; the marker and the rest are the new run's.
 */
async function finalizeScale(
  request: PoolRequestRecord,
  input: FinalizeInput,
  marker: { team: string; flavor: string; createId: string; changeId: string },
  deps: FinalizeDeps,
): Promise<{ status: RequestStatus }> {
  const attempt = input.attempt ?? 0;
  if (request.status !== 'ACTIVE' && !isTerminal(request.status))
    request = await endUnfinishedChange(request, input, attempt, deps);
  // A retry may have started since this run read the request (it needs FAILED, which this run may just
  // have recorded): its run owns the marker and its reservation now, and settles them itself.
  const superseded = ((await deps.requests.get(request.requestId))?.retries ?? 0) !== attempt;
  const patched = request.steps.some((s) => s.step === 'node_pool_patched');
  if (superseded) {
    await releaseScaleHold(request, deps, attempt);
  } else if (request.status !== 'ACTIVE' && patched && request.change && request.change.kind !== 'update') {
    // ModelArts accepted the new count: its nodes come (or go) whatever the request says, as a created
    // node pool's do. A scale-up's reservation becomes the node pool's use (the marker with it); a
    // scale-down keeps the share until reconciliation sees the nodes gone; the record counts the target.
    if (request.change.kind === 'scale-up') await deps.quotas.moveIntoUse(marker);
    else await deps.quotas.clearOpen(marker);
    await deps.changes?.claims.markCount?.(request, request.requestId, request.count);
  } else if (request.status !== 'ACTIVE') {
    await releaseScaleHold(request, deps, attempt);
    await deps.quotas.clearOpen(marker);
  }
  if (request.status !== 'CANCELLED') await deps.notifier.tellRequester(request);
  return { status: request.status };
}
