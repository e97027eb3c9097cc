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
import type { CapacityApi, NodePool, QuotaStore, RequestStore } from './ports';
import { applyMergePatch } from '../domain/merge-patch';
import type { NodePoolRequest } from '../domain/nodepool-request';
import { releaseScaleHold } from './scale-quota';

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
    if (request.change?.kind === 'scale-up') await holdRetriedScale(request, deps);
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
  if (!shown && request.change) {
    return refused(
      newStep(stepId.capacityChecked(), 'capacity_checked', 'refused', {
        detail: {
          reason: 'NODE_POOL_GONE',
          message: `node pool ${request.nodePoolName} is no longer shown by ModelArts`,
        },
      }),
      'NODE_POOL_GONE',
    );
  }
  if (!extension) await deps.quotas.markOpen(marker);
  let now = new Date();
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
          ...(request.change ? { change: request.change.kind, from: request.change.from, to: request.change.to } : {}),
        },
  });
  const steps = [checked];
  if (request.change?.kind === 'scale-up' && shown) {
    // The added nodes: the flavor must be there for them, and the team's quota must have room for them.
    const added = await checkAddedNodes(request, shown, checked, deps);
    if (!added.ok) {
      const result = await deps.requests.recordSteps(requestId, added.steps, {
        status: 'REJECTED',
        reason: added.reason,
      });
      if (result.recorded) deps.recordMetric?.('rejected', 1, 'Count');
      await deps.quotas.clearOpen(marker);
      return { status: 'refused', stageIndex: -1, waitSeconds: 0, reason: added.reason };
    }
    steps.splice(0, steps.length, ...added.steps);
    now = new Date(Math.max(Date.now(), Date.parse(added.steps[added.steps.length - 1].at) + 1));
  }
  const first = request.stages[0];
  try {
    if (!first) {
      await deps.requests.recordSteps(requestId, steps, { status: 'PROVISIONING' });
      return { status: 'approved', stageIndex: lastStage, waitSeconds: 0 };
    }
    const asked = approvalRequestedStep(
      first,
      first.approvers.map((a) => a.email),
      new Date(now.getTime() + first.expireAfterSeconds * 1000).toISOString(),
      now,
    );
    await deps.requests.recordSteps(requestId, [...steps, asked], { status: 'AWAITING_APPROVAL' });
  } catch (error) {
    // Cancelled meanwhile: the marker and a scale-up's reservation go with it.
    if (error instanceof InvalidTransitionError) {
      await releaseScaleHold(request, deps);
      if (!extension) await deps.quotas.clearOpen(marker);
      return { status: 'refused', stageIndex: -1, waitSeconds: 0, reason: 'CANCELLED_BY_USER' };
    }
    throw error;
  }
  return { status: 'pending', stageIndex: 0, waitSeconds: firstWaitSeconds(first) };
}

/** A scale-up's reservation: the nodes it adds over what the node pool's share counts, under its own id. */
function scaleHold(request: PoolRequestRecord, delta: number) {
  return {
    team: request.team,
    flavor: request.flavor,
    requestId: request.requestId,
    count: delta,
    attempt: request.retries ?? 0,
  };
}

type AddedNodes =
  | { readonly ok: true; readonly steps: Step[] }
  | { readonly ok: false; readonly reason: TerminalReason; readonly steps: Step[] };

/**
 * A scale-up's checks: ModelArts can give the added nodes (the flavor known, billable the node pool's
 * way, not sold out in its zones; the pool's rules on the node pool after the patch), and the team's
 * quota has room for `target - counted` (what the node pool's share holds now, not what was once
 * approved): reserved under the scale's own id, atomically, never over the limit.
 */
async function checkAddedNodes(
  request: PoolRequestRecord,
  shown: NodePool,
  ownership: Step,
  deps: CheckDeps,
): Promise<AddedNodes> {
  const [pool, flavors] = await Promise.all([
    deps.modelArts.showPool(request.projectId, request.poolName),
    deps.modelArts.listResourceFlavors(request.projectId),
  ]);
  const resources = applyMergePatch(
    shown.spec?.resources,
    request.patch?.spec.resources,
  ) as NodePoolRequest['spec']['resources'];
  const capacity = checkCapacity(
    { kind: 'NodePool', apiVersion: 'v2', metadata: { name: request.nodePoolName }, spec: { resources } },
    { mode: request.billing.mode },
    pool && poolFacts(pool),
    flavors.flatMap(flavorFacts),
  );
  if (!capacity.ok) {
    const detail = { reason: capacity.reason, message: capacity.message };
    return {
      ok: false,
      reason: capacity.reason,
      steps: [newStep(stepId.capacityChecked(), 'capacity_checked', 'refused', { detail })],
    };
  }
  const capacityStep: Step = { ...ownership, detail: { ...ownership.detail, check: 'ownership and capacity' } };
  const counted = await deps.quotas.useOf({
    team: request.team,
    flavor: request.flavor,
    createId: request.createRequestId ?? '',
  });
  const delta = Math.max(request.count - counted, 0);
  const decision = quotaForRequest(deps.policy.teams, { ...request, count: delta });
  const reserved =
    delta === 0 ||
    (decision.ok && isCounted(await deps.quotas.reserve(scaleHold(request, delta), decision.maxInUseBefore)));
  const at = new Date(Math.max(Date.now(), Date.parse(capacityStep.at) + 1));
  if (!reserved) {
    const reason = decision.ok ? 'QUOTA_EXCEEDED' : decision.reason;
    const detail = {
      flavor: request.flavor,
      count: delta,
      counted,
      target: request.count,
      limit: decision.limit,
      reason,
    };
    return {
      ok: false,
      reason,
      steps: [capacityStep, newStep(stepId.quotaChecked(), 'quota_checked', 'refused', { at, detail })],
    };
  }
  const inUseAfter = (await deps.quotas.counters(request.team, request.flavor)).inUse;
  const detail = {
    flavor: request.flavor,
    count: delta,
    counted,
    target: request.count,
    limit: decision.ok ? decision.limit : undefined,
    inUseAfter,
  };
  return { ok: true, steps: [capacityStep, newStep(stepId.quotaChecked(), 'quota_checked', 'ok', { at, detail })] };
}

/** A retried scale-up reserves its delta again (what its target adds to the share now), for its attempt. */
async function holdRetriedScale(request: PoolRequestRecord, deps: CheckDeps): Promise<void> {
  const counted = await deps.quotas.useOf({
    team: request.team,
    flavor: request.flavor,
    createId: request.createRequestId ?? '',
  });
  const delta = Math.max(request.count - counted, 0);
  if (delta === 0) return;
  const decision = quotaForRequest(deps.policy.teams, { ...request, count: delta });
  if (!decision.ok && decision.reason === 'FLAVOR_NOT_ALLOWED')
    throw new FlavorNotAllowedError(`the team may no longer use ${request.flavor}`);
  const reservation = decision.ok
    ? await deps.quotas.reserveForAttempt(scaleHold(request, delta), decision.maxInUseBefore)
    : 'refused';
  if (!isCounted(reservation))
    throw new QuotaExceededError(`the team's quota has no room for ${delta} more ${request.flavor} node(s) now`);
}
