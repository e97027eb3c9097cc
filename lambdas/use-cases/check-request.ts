/**
 * CheckRequest (first workflow step):
 *  1. someone is eligible to approve;
 *  2. ModelArts can give it: the pool exists, no node pool of that name exists in it, the billing
 *     mode is known (a request naming none takes the pool's; refused in a yearly/monthly pool), the
 *     flavor exists, supports the billing mode and is not sold out in the requested AZs, and the
 *     pool's rules hold (privileged-only fields, physical maxCount == count);
 *  3. the team may use the flavor, and its quota has room: reserve the nodes (atomic, idempotent);
 *  4. record the checks and `approval_requested` of the first stage, moving the request to
 *     AWAITING_APPROVAL, in one write (the stage's expiry counts from here; RequestApproval opens
 *     the approval with it), and hand the stage, with its wait, to the workflow.
 * A retried request (PROVISIONING or CREATED when its run starts) is handed straight to where it resumes.
 * A refusal ends the request REJECTED with a reason, in the same write as its step.
 */
import type { ApprovalOutcome, WorkflowErrorName } from '../../contracts/workflow';
import type { Policy } from '../config/policy';
import { checkCapacity } from '../domain/capacity';
import { flavorFacts, isSomeoneElses, poolFacts } from '../domain/modelarts';
import { InvalidTransitionError, NotFoundError } from '../domain/errors';
import { isCounted, quotaForRequest } from '../domain/quota';
import { createBody, type PoolRequestRecord } from '../domain/pool-request';
import type { TerminalReason } from '../domain/status';
import { kindOf } from '../domain/request-kind';
import { approvalRequestedStep, newStep, stepId, type Step } from '../domain/steps';
import { notOurs, type ChangeApi } from './apply-change';
import { firstWaitSeconds } from './approval-timing';
import type { RecordMetric } from './metrics';
import type { CapacityApi, QuotaStore, RequestStore } from './ports';

export type { CapacityApi } from './ports';

/** A retried run found no room for its nodes (its retry reserved them, but lost them to a race). */
export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError' satisfies WorkflowErrorName;
}
/** A retried run's team may no longer use its flavor (the policy changed since it was approved). */
export class FlavorNotAllowedError extends Error {
  override readonly name = 'FlavorNotAllowedError' satisfies WorkflowErrorName;
}

export interface CheckDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  readonly quotas: QuotaStore;
  readonly modelArts: CapacityApi;
  /** What checking a change to an existing node pool (a delete) reads besides: the node pool itself. */
  readonly changes?: { readonly modelArts: Pick<ChangeApi, 'showNodePool'> };
  readonly recordMetric?: RecordMetric;
}

export async function checkRequest(requestId: string, deps: CheckDeps): Promise<ApprovalOutcome> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  if (kindOf(request) !== 'create') return checkChange(request, deps);
  const refused = (reason: TerminalReason): ApprovalOutcome => ({
    status: 'refused',
    stageIndex: -1,
    waitSeconds: 0,
    reason,
  });
  /** A refusal this run recorded (not one a retried run finds already written) counts as rejected. */
  const rejected = ({ recorded }: { recorded: boolean }, reason: TerminalReason): ApprovalOutcome => {
    if (recorded) deps.recordMetric?.('rejected', 1, 'Count');
    return refused(reason);
  };

  // A retried request (POST /requests/{id}/retry) resumes where it failed: it was checked and approved already.
  const lastStage = request.stages.length - 1;
  if (request.status === 'PROVISIONING') {
    await holdRetriedNodes(request, deps);
    return { status: 'approved', stageIndex: lastStage, waitSeconds: 0 };
  }
  if (request.status === 'CREATED') return { status: 'created', stageIndex: lastStage, waitSeconds: 0 };

  if (request.planError || request.stages.length === 0) {
    // Nobody may approve: refuse before anything is reserved.
    const result = await deps.requests.recordStep(
      requestId,
      newStep(stepId.approvalRequested('none'), 'approval_requested', 'refused', {
        detail: { reason: 'NO_ELIGIBLE_APPROVER' },
      }),
      { status: 'REJECTED', reason: 'NO_ELIGIBLE_APPROVER' },
    );
    return rejected(result, 'NO_ELIGIBLE_APPROVER');
  }

  const [pool, flavors, existing] = await Promise.all([
    deps.modelArts.showPool(request.projectId, request.poolName),
    deps.modelArts.listResourceFlavors(request.projectId),
    deps.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName),
  ]);
  const capacity = checkCapacity(
    createBody(request),
    request.billing,
    pool && poolFacts(pool),
    flavors.flatMap(flavorFacts),
    isSomeoneElses(existing, requestId),
  );
  if (!capacity.ok) {
    const result = await deps.requests.recordStep(
      requestId,
      newStep(stepId.capacityChecked(), 'capacity_checked', 'refused', {
        detail: { reason: capacity.reason, message: capacity.message },
      }),
      { status: 'REJECTED', reason: capacity.reason },
    );
    return rejected(result, capacity.reason);
  }
  const capacityStep = newStep(stepId.capacityChecked(), 'capacity_checked', 'ok', {
    detail: {
      flavor: request.flavor,
      pool: request.poolName,
      // The billing mode that will be sent, and whether the pool's billing mode decided it.
      billingMode: request.billing.mode,
      ...(request.billing.fromPool ? { billingFromPool: true } : {}),
    },
  });

  const decision = quotaForRequest(deps.policy.teams, request);
  const share = { team: request.team, flavor: request.flavor, requestId, count: request.count };
  const reserved = decision.ok && isCounted(await deps.quotas.reserve(share, decision.maxInUseBefore));
  if (!reserved) {
    const reason = decision.ok ? 'QUOTA_EXCEEDED' : decision.reason;
    const detail = { flavor: request.flavor, count: request.count, limit: decision.limit, reason };
    const result = await deps.requests.recordSteps(
      requestId,
      [capacityStep, newStep(stepId.quotaChecked(), 'quota_checked', 'refused', { detail })],
      {
        status: 'REJECTED',
        reason,
      },
    );
    return rejected(result, reason);
  }

  // What the team's quota holds for this flavor with this request counted: approvers see "6 of 10 in use, 8 after this".
  const inUseAfter = (await deps.quotas.counters(request.team, request.flavor)).inUse;
  const first = request.stages[0];
  // The three steps carry times in the order they happened: checked, reserved, then asked.
  const quotaStep = newStep(stepId.quotaChecked(), 'quota_checked', 'ok', {
    at: new Date(Math.max(Date.now(), Date.parse(capacityStep.at) + 1)),
    detail: { flavor: request.flavor, count: request.count, limit: decision.limit, inUseAfter },
  });
  const now = new Date(Math.max(Date.now(), Date.parse(quotaStep.at) + 1));
  const asked = approvalRequestedStep(
    first,
    first.approvers.map((a) => a.email),
    new Date(now.getTime() + first.expireAfterSeconds * 1000).toISOString(),
    now,
  );
  try {
    await deps.requests.recordSteps(requestId, [capacityStep, quotaStep, asked], { status: 'AWAITING_APPROVAL' });
  } catch (error) {
    // Cancelled while we reserved: give the nodes back.
    if (error instanceof InvalidTransitionError) {
      await deps.quotas.release(share);
      return refused('CANCELLED_BY_USER');
    }
    throw error;
  }
  return { status: 'pending', stageIndex: 0, waitSeconds: firstWaitSeconds(request.stages[0]) };
}

/**
 * A retried run about to create its node pool makes sure its nodes are reserved for its attempt: the
 * retry reserved them, but a concurrent call for the same attempt may have given them back, and
 * reconciliation gives back what a finished request still holds. Usually this finds them held, and
 * confirms it (`renew`), so that a reconciliation that judged them left behind a moment ago leaves them.
 */
async function holdRetriedNodes(request: PoolRequestRecord, deps: CheckDeps): Promise<void> {
  const decision = quotaForRequest(deps.policy.teams, request);
  if (!decision.ok && decision.reason === 'FLAVOR_NOT_ALLOWED')
    throw new FlavorNotAllowedError(`the team may no longer use ${request.flavor}`);
  const share = {
    team: request.team,
    flavor: request.flavor,
    requestId: request.requestId,
    count: request.count,
    attempt: request.retries ?? 0,
  };
  const reserve = () =>
    decision.ok ? deps.quotas.reserveForAttempt(share, decision.maxInUseBefore) : Promise.resolve('refused' as const);
  let reservation = await reserve();
  if (reservation === 'held' && !(await deps.quotas.renew(share))) reservation = await reserve();
  if (!isCounted(reservation))
    throw new QuotaExceededError(`the team's quota has no room for ${request.count} ${request.flavor} node(s) now`);
}

/**
 * CheckRequest of a change to an existing node pool (a delete):
 *  1. a retried run (PROVISIONING) goes straight back to ApplyChange, its marker set again;
 *  2. nobody may approve a stage that applies -> REJECTED NO_ELIGIBLE_APPROVER;
 *  3. ModelArts: the node pool still carries the creating request's label and the record's flavor;
 *     otherwise it is not the one poolgate created (re-created in the console) -> REJECTED
 *     NODE_POOL_NOT_OURS, nothing changed. Gone already: nothing to check, the run sees it gone;
 *  4. the node pool's share is marked as being changed (quota reconciliation leaves it alone);
 *  5. record the check and, when stages apply, `approval_requested` of the first (AWAITING_APPROVAL);
 *     with none, the request goes to PROVISIONING at once.
 */
async function checkChange(request: PoolRequestRecord, deps: CheckDeps): Promise<ApprovalOutcome> {
  const { requestId } = request;
  const lastStage = request.stages.length - 1;
  const marker = {
    team: request.team,
    flavor: request.flavor,
    createId: request.createRequestId ?? '',
    changeId: requestId,
  };
  const refused = async (step: Step, reason: TerminalReason): Promise<ApprovalOutcome> => {
    const result = await deps.requests.recordStep(requestId, step, { status: 'REJECTED', reason });
    if (result.recorded) deps.recordMetric?.('rejected', 1, 'Count');
    return { status: 'refused', stageIndex: -1, waitSeconds: 0, reason };
  };
  if (request.status === 'PROVISIONING') {
    if (kindOf(request) !== 'extend') await deps.quotas.markOpen(marker);
    return { status: 'approved', stageIndex: lastStage, waitSeconds: 0 };
  }
  if (request.planError) {
    return refused(
      newStep(stepId.approvalRequested('none'), 'approval_requested', 'refused', {
        detail: { reason: 'NO_ELIGIBLE_APPROVER' },
      }),
      'NO_ELIGIBLE_APPROVER',
    );
  }
  // An extension changes only poolgate's record of the lease: nothing to read in ModelArts, no quota marker.
  const extension = kindOf(request) === 'extend';
  if (!deps.changes && !extension) throw new Error('checking a change needs the node pool read (CheckDeps.changes)');
  const shown = extension
    ? undefined
    : await deps.changes!.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName);
  const why = shown && notOurs(request, shown);
  if (why) {
    return refused(
      newStep(stepId.capacityChecked(), 'capacity_checked', 'refused', {
        detail: { reason: 'NODE_POOL_NOT_OURS', message: why },
      }),
      'NODE_POOL_NOT_OURS',
    );
  }
  if (!extension) await deps.quotas.markOpen(marker);
  const now = new Date();
  const checked = newStep(stepId.capacityChecked(), 'capacity_checked', 'ok', {
    at: now,
    detail: extension
      ? {
          check: 'lease',
          nodePool: request.nodePoolName,
          createdBy: request.createRequestId,
          extendBy: request.extend?.duration,
        }
      : {
          check: 'ownership',
          nodePool: request.nodePoolName,
          createdBy: request.createRequestId,
          flavor: request.flavor,
          ...(shown ? {} : { gone: true }),
        },
  });
  const first = request.stages[0];
  try {
    if (!first) {
      await deps.requests.recordSteps(requestId, [checked], { status: 'PROVISIONING' });
      return { status: 'approved', stageIndex: lastStage, waitSeconds: 0 };
    }
    const asked = approvalRequestedStep(
      first,
      first.approvers.map((a) => a.email),
      new Date(now.getTime() + first.expireAfterSeconds * 1000).toISOString(),
      now,
    );
    await deps.requests.recordSteps(requestId, [checked, asked], { status: 'AWAITING_APPROVAL' });
  } catch (error) {
    // Cancelled meanwhile: the marker goes with it.
    if (error instanceof InvalidTransitionError) {
      if (!extension) await deps.quotas.clearOpen(marker);
      return { status: 'refused', stageIndex: -1, waitSeconds: 0, reason: 'CANCELLED_BY_USER' };
    }
    throw error;
  }
  return { status: 'pending', stageIndex: 0, waitSeconds: firstWaitSeconds(first) };
}
