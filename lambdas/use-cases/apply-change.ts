/**
 * ApplyChange (after the last approval, or at once when no stage applies): a request that changes an
 * existing node pool (a scale: see `applyPatch` below). For a delete:
 *  1. show first: gone already -> nothing to ask (its tracking sees it gone); its nodes deleting already
 *     (a retried or timed-out call was accepted) -> not asked again;
 *  2. still the node pool poolgate created (its label names the creating request, its flavor is the
 *     record's)? Otherwise it was re-created outside poolgate: never deleted, the request ends REJECTED;
 *  3. DeleteNodePool, and record `node_pool_delete_requested` (idempotent: a deterministic step id).
 * The workflow then follows the node pool until ModelArts no longer shows it (CheckNodes), always:
 * DELETED means gone, whatever the node-tracking setting.
 */
import type { WorkflowErrorName } from '../../contracts/workflow';
import type { Policy } from '../config/policy';
import { NotFoundError } from '../domain/errors';
import { countOf, OWNER_LABEL, type NodePool } from '../domain/modelarts';
import type { PoolRequestRecord } from '../domain/pool-request';
import { kindOf } from '../domain/request-kind';
import { newStep } from '../domain/steps';
import { trackingWaitSeconds } from '../domain/tracking-schedule';
import type { Created } from './create-node-pool';
import type { ApprovalStore, ChangeApi, Claims, Clock, LeaseRecords, QuotaStore, RequestStore } from './ports';
import { extensionAllowed, firstEvent, scheduleOf } from '../domain/lease';
import { ANNOTATION, MissingOrderIdError } from '../domain/billing';
import { patchAnnotations } from '../domain/nodepool-patch';
import { NodesAbnormalError } from './check-nodes';
import { enteredOrderId } from './create-node-pool';

export type { ChangeApi };

/** The node pool of that name is not the one poolgate created (label or flavor differ): nothing is changed. */
export class NodePoolNotOursError extends Error {
  override readonly name = 'NodePoolNotOursError' satisfies WorkflowErrorName;
}

/** An approved scale's node pool no longer has the count the scale was planned from: nothing is sent. */
export class NodePoolChangedError extends Error {
  override readonly name = 'NodePoolChangedError' satisfies WorkflowErrorName;
}

export interface ApplyDeps {
  readonly requests: RequestStore;
  readonly modelArts: ChangeApi;
  /** A yearly/monthly scale-up's order id may come from the finance stage's approval. */
  readonly approvals: Pick<ApprovalStore, 'get'>;
  /** An update clears its node pool's change marker when ModelArts accepted it. */
  readonly quotas: Pick<QuotaStore, 'clearOpen'>;
  readonly tracking: Policy['nodeTracking'];
  /** The time (the wiring's clock). */
  readonly now: Clock;
  /** What an extension changes: the node-pool record's lease. */
  readonly leases?: { readonly claims: Pick<Claims, 'record'>; readonly records: Pick<LeaseRecords, 'applyExtension'> };
}

/** An approved extension found the lease's deletion claimed first, or no lease left to extend. */
export class LeaseEndedError extends Error {
  override readonly name = 'LeaseEndedError' satisfies WorkflowErrorName;
}

/** An approved extension would take the lease past its cap (`lease.maxTotal`): nothing moved. */
export class LeaseMaxTotalError extends Error {
  override readonly name = 'LeaseMaxTotalError' satisfies WorkflowErrorName;
}

export const LEASE_EXTENDED_STEP_ID = 'lease-extended';

/**
 * An approved extension: the lease's end moves by its duration, in one write conditional on the
 * extension still holding the lease, the end being the one read, and no deletion claimed (whichever
 * lands first wins), and the lease staying within its cap (`lease.maxTotal`, checked on the record read
 * and held by the write: an extension applied meanwhile cannot be passed by this one; past it, the
 * request ends REJECTED / LEASE_MAX_TOTAL). Then `lease_extended` and EXTENDED on the request. A retried run finds it applied
 * (the record names it the last extension) and only records the step.
 */
async function extendLease(request: PoolRequestRecord, deps: ApplyDeps): Promise<Created> {
  if (!deps.leases) throw new Error('applying an extension needs the lease records (ApplyDeps.leases)');
  const done: Created = { nodePoolName: request.nodePoolName, alreadyExisted: true, track: false, waitSeconds: 0 };
  if (request.status === 'EXTENDED') return done;
  const seconds = request.extend?.seconds ?? 0;
  const record = await deps.leases.claims.record(request);
  let from: string | undefined;
  let to: string | undefined;
  if (record?.leaseLastExtension !== request.requestId) {
    if (
      !record?.leaseEndsAt ||
      !record.leaseTerms ||
      record.leaseDeletion ||
      record.leaseExtension !== request.requestId
    )
      throw new LeaseEndedError(
        record?.leaseDeletion
          ? `the lease of node pool ${request.nodePoolName} ended and its deletion started (request ${record.leaseDeletion}) before this extension was approved`
          : `node pool ${request.nodePoolName} has no lease this extension can move any more`,
      );
    // The cap is checked again here (the submission read an older record: another extension may have
    // been applied since), and the applying write holds it too, whatever this read saw.
    const allowed = extensionAllowed(record.leaseTerms, record.leaseExtendedSeconds ?? 0, seconds);
    if (!allowed.ok) throw new LeaseMaxTotalError(allowed.message);
    from = record.leaseEndsAt;
    to = new Date(Date.parse(from) + seconds * 1000).toISOString();
    const nextAt = new Date(firstEvent(scheduleOf(to, record.leaseTerms), deps.now().getTime())).toISOString();
    const { maxTotalSeconds } = record.leaseTerms;
    const moved = await deps.leases.records.applyExtension(request, {
      extensionId: request.requestId,
      fromEndsAt: from,
      toEndsAt: to,
      seconds,
      nextAt,
      ...(maxTotalSeconds !== undefined
        ? { maxExtendedBefore: maxTotalSeconds - record.leaseTerms.seconds - seconds }
        : {}),
    });
    if (!moved) {
      const again = await deps.leases.claims.record(request);
      if (again?.leaseLastExtension !== request.requestId) {
        const still = again?.leaseTerms
          ? extensionAllowed(again.leaseTerms, again.leaseExtendedSeconds ?? 0, seconds)
          : undefined;
        if (still && !still.ok && !again?.leaseDeletion) throw new LeaseMaxTotalError(still.message);
        throw new LeaseEndedError(
          `the lease of node pool ${request.nodePoolName} ended and its deletion started before this extension was approved`,
        );
      }
    }
  } else {
    to = record.leaseEndsAt;
    from = to ? new Date(Date.parse(to) - seconds * 1000).toISOString() : undefined;
  }
  await deps.requests.recordStep(
    request.requestId,
    newStep(LEASE_EXTENDED_STEP_ID, 'lease_extended', 'ok', {
      at: deps.now(),
      detail: { nodePool: request.nodePoolName, by: request.extend?.duration, from, to },
    }),
    { status: 'EXTENDED' },
  );
  return done;
}

export const DELETE_REQUESTED_STEP_ID = 'node-pool-delete-requested';
export const PATCHED_STEP_ID = 'node-pool-patched';

/** Why `nodePool` is not the request's node pool (undefined: it is). */
export function notOurs(request: PoolRequestRecord, nodePool: NodePool): string | undefined {
  const resources = nodePool.spec?.resources;
  const label = resources?.labels?.[OWNER_LABEL];
  if (label !== request.createRequestId)
    return `node pool ${request.nodePoolName} carries ${label ? `the label of request ${label}` : 'no poolgate label'}, not that of request ${request.createRequestId}: it was not created by poolgate's request, and is left as it is`;
  if (resources?.flavor !== request.flavor)
    return `node pool ${request.nodePoolName} has flavor ${resources?.flavor ?? '(none)'}, not ${request.flavor}: it is left as it is`;
  return undefined;
}

export async function applyChange(requestId: string, deps: ApplyDeps): Promise<Created> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  const kind = kindOf(request);
  if (kind === 'extend') return extendLease(request, deps);
  if (kind === 'scale') return applyPatch(request, deps);
  if (kind !== 'delete') throw new Error(`request ${requestId} is a ${kind} request: ApplyChange does not apply it`);
  const applied: Created = {
    nodePoolName: request.nodePoolName,
    alreadyExisted: true,
    track: true,
    // Just accepted (or found deleting / gone): the schedule's first wait.
    waitSeconds: trackingWaitSeconds(0, deps.tracking),
  };

  const { projectId, poolName, nodePoolName } = request;
  const shown = await deps.modelArts.showNodePool(projectId, poolName, nodePoolName);
  if (!shown) return applied;
  const why = notOurs(request, shown);
  if (why) throw new NodePoolNotOursError(why);
  const deleting = countOf(shown.status?.resources?.deleting) > 0;
  const answer = deleting ? shown : await deps.modelArts.deleteNodePool(projectId, poolName, nodePoolName);
  if (!answer) return applied;
  await deps.requests.recordStep(
    requestId,
    newStep(DELETE_REQUESTED_STEP_ID, 'node_pool_delete_requested', 'ok', {
      at: deps.now(),
      detail: { nodePool: nodePoolName, count: request.count, ...(deleting ? { alreadyDeleting: true } : {}) },
    }),
  );
  return applied;
}

/**
 * A scale: show first (still poolgate's node pool? gone -> NODES_ABNORMAL; its count no longer the
 * `change.from` the scale was planned from, before any patch was accepted -> NODE_POOL_CHANGED), then PatchNodePool with the
 * request's patch (poolgate's label always in it; billing annotations only when the count grows, the
 * node pool's billing mode explicitly, a yearly/monthly order id entered at the finance stage), and
 * record `node_pool_patched`. Patching is idempotent (the same merge patch twice gives the same node
 * pool), so a retried call asks again. A count change is followed (CheckNodes) until ModelArts shows
 * it; an update (labels, taints) ends here: ACTIVE in the same write, its marker cleared first.
 */
async function applyPatch(request: PoolRequestRecord, deps: ApplyDeps): Promise<Created> {
  const { requestId, projectId, poolName, nodePoolName } = request;
  const change = request.change;
  const patch = request.patch;
  if (!change || !patch) throw new Error(`scale request ${requestId} has no change or patch recorded`);
  const shown = await deps.modelArts.showNodePool(projectId, poolName, nodePoolName);
  if (!shown) throw new NodesAbnormalError(`node pool ${nodePoolName} disappeared from pool ${poolName}`);
  const why = notOurs(request, shown);
  if (why) throw new NodePoolNotOursError(why);
  // The plan (and its approval, its billing annotations, its quota) was made from `change.from`: a node
  // pool changed meanwhile (in the console) would be patched to a count nobody approved from there. Once
  // ModelArts accepted the patch (a retry of a scale whose nodes then failed), the count may be anywhere
  // between: the same patch is sent again.
  const shownCount = Number(shown.spec?.resources?.count ?? 0);
  const patched = request.steps.some((s) => s.step === 'node_pool_patched');
  if (!patched && shownCount !== change.from)
    throw new NodePoolChangedError(
      `node pool ${nodePoolName} has ${shownCount} node(s), not the ${change.from} this change was planned and approved from: nothing was sent; submit the change again`,
    );
  const orderId =
    change.kind === 'scale-up' && request.billing.mode === '1' && !request.billing.orderId
      ? await enteredOrderId(request, deps.approvals)
      : undefined;
  const requested: Record<string, string> = {
    ...(request.billing.orderId ? { [ANNOTATION.orderId]: request.billing.orderId } : {}),
    ...(request.billing.periodNum ? { [ANNOTATION.periodNum]: request.billing.periodNum } : {}),
    ...(request.billing.periodType ? { [ANNOTATION.periodType]: request.billing.periodType } : {}),
    ...(request.billing.autoRenew ? { [ANNOTATION.autoRenew]: request.billing.autoRenew } : {}),
  };
  const annotations = patchAnnotations(change, requested, request.billing.mode, orderId);
  if (request.billing.mode === '1' && annotations && !annotations[ANNOTATION.orderId])
    throw new MissingOrderIdError('a yearly/monthly node pool grows only with os.modelarts/order.id');
  const body = { ...(annotations ? { metadata: { annotations } } : {}), spec: patch.spec };
  await deps.modelArts.patchNodePool(projectId, poolName, nodePoolName, body);
  const step = newStep(PATCHED_STEP_ID, 'node_pool_patched', 'ok', {
    at: deps.now(),
    detail: {
      nodePool: nodePoolName,
      change: change.kind,
      from: change.from,
      to: change.to,
      ...(annotations ? { annotations } : {}),
    },
  });
  const track = change.kind !== 'update';
  if (track) {
    await deps.requests.recordStep(requestId, step);
  } else {
    // Nothing to follow: the marker goes before the request says ACTIVE (whoever sees it final may act at once).
    await deps.quotas.clearOpen({
      team: request.team,
      flavor: request.flavor,
      createId: request.createRequestId ?? '',
      changeId: requestId,
    });
    await deps.requests.recordStep(requestId, step, { status: 'ACTIVE' });
  }
  // The first wait of the schedule, counted from the acceptance (this call).
  return { nodePoolName, alreadyExisted: true, track, waitSeconds: trackingWaitSeconds(0, deps.tracking) };
}
