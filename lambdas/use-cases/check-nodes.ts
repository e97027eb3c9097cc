/**
 * CheckNodes (node tracking, after creation): reads the node pool until `count` nodes are available
 * (`nodes_active`, status ACTIVE) or any is abnormal (the request fails NODES_ABNORMAL), within the
 * policy's deadline from the creation or a retry (NODES_TIMEOUT). Between reads the workflow waits what the
 * tracking schedule says (../domain/tracking-schedule.ts): up to the next check counted from the change's
 * acceptance, so a retried or restarted run continues the schedule rather than starting it over.
 */
import type { NodesState, WorkflowErrorName } from '../../contracts/workflow';
import type { Policy } from '../config/policy';
import { NotFoundError } from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import { kindOf } from '../domain/request-kind';
import { newStep, type StepName } from '../domain/steps';
import { countOf } from '../domain/modelarts';
import { trackingWaitSince } from '../domain/tracking-schedule';
import type { Claims, Clock, NodeStatusApi, QuotaStore, RequestStore } from './ports';

/**
 * The steps that say ModelArts accepted a request's change, whatever its kind: the tracking schedule
 * counts from the latest of them (a scale's `node_pool_patched` counts once scales record it).
 */
const APPLIED_STEPS: ReadonlySet<string> = new Set([
  'node_pool_created',
  'node_pool_patched',
  'node_pool_delete_requested',
]);
const appliedAt = (request: PoolRequestRecord) => request.steps.findLast((s) => APPLIED_STEPS.has(s.step))?.at;

export class NodesAbnormalError extends Error {
  override readonly name = 'NodesAbnormalError' satisfies WorkflowErrorName;
}
export class NodesTimeoutError extends Error {
  override readonly name = 'NodesTimeoutError' satisfies WorkflowErrorName;
}

export interface CheckNodesDeps {
  readonly requests: RequestStore;
  /** What settling a scale writes besides: the quota share and the node-pool record's count. */
  readonly scale?: {
    readonly quotas: Pick<QuotaStore, 'moveIntoUse' | 'lowerUse'>;
    readonly claims: Pick<Claims, 'markCount'>;
  };
  readonly modelArts: NodeStatusApi;
  readonly tracking: Policy['nodeTracking'];
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

/** What one check found: CheckNodes' answer without the node pool it names (./check-nodes `checkNodes`). */
type Verdict = Omit<NodesState, 'nodePoolName' | 'track'>;

export async function checkNodes(requestId: string, deps: CheckNodesDeps): Promise<NodesState> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  const kind = kindOf(request);
  const verdict =
    kind === 'delete'
      ? await checkGone(request, deps)
      : kind === 'scale'
        ? await checkScaled(request, deps)
        : await checkAvailable(request, deps);
  // Written over the run's `$.created`: it names the node pool and its tracking again.
  return { nodePoolName: request.nodePoolName, track: true, ...verdict };
}

/**
 * The tracking deadline (the policy's node-tracking timeout): it runs from the request's latest `from`
 * step or retry (else its last update); past it, NodesTimeoutError with `message`.
 */
function checkDeadline(
  request: PoolRequestRecord,
  from: StepName,
  now: Date,
  deps: Pick<CheckNodesDeps, 'tracking'>,
  message: string,
): void {
  const since = Date.parse(
    request.steps.findLast((s) => s.step === from || s.step === 'retried')?.at ?? request.updatedAt,
  );
  if (now.getTime() - since > deps.tracking.timeoutSeconds * 1000) throw new NodesTimeoutError(message);
}

async function checkAvailable(request: PoolRequestRecord, deps: CheckNodesDeps): Promise<Verdict> {
  const now = deps.now();
  const requestId = request.requestId;
  if (request.status === 'ACTIVE') return { status: 'active', waitSeconds: 0, available: request.count };

  const nodePool = await deps.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName);
  if (!nodePool)
    throw new NodesAbnormalError(`node pool ${request.nodePoolName} disappeared from pool ${request.poolName}`);
  const resources = nodePool.status?.resources;
  const available = countOf(resources?.available);
  const abnormal = countOf(resources?.abnormal);
  if (abnormal > 0)
    throw new NodesAbnormalError(`${abnormal} node(s) of node pool ${request.nodePoolName} are abnormal`);
  if (available >= request.count) {
    await deps.requests.recordStep(
      requestId,
      newStep('nodes-active', 'nodes_active', 'ok', { at: now, detail: { available } }),
      { status: 'ACTIVE' },
    );
    return { status: 'active', waitSeconds: 0, available };
  }
  // The deadline runs from the creation, or from the retry that resumed the tracking.
  checkDeadline(
    request,
    'node_pool_created',
    now,
    deps,
    `only ${available} of ${request.count} node(s) available after ${deps.tracking.timeoutSeconds} s`,
  );
  return { status: 'waiting', waitSeconds: trackingWaitSince(appliedAt(request), now, deps.tracking), available };
}

/**
 * A delete: done (`gone`) once ModelArts no longer shows the node pool; its nodes deleting meanwhile.
 * The deadline (the policy's node-tracking timeout) runs from the accepted deletion, or from the retry.
 */
async function checkGone(request: PoolRequestRecord, deps: CheckNodesDeps): Promise<Verdict> {
  const now = deps.now();
  if (request.status === 'DELETED') return { status: 'gone', waitSeconds: 0, available: 0 };
  const nodePool = await deps.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName);
  if (!nodePool) return { status: 'gone', waitSeconds: 0, available: 0 };
  const resources = nodePool.status?.resources;
  const left = countOf(resources?.available) + countOf(resources?.deleting) + countOf(resources?.abnormal);
  checkDeadline(
    request,
    'node_pool_delete_requested',
    now,
    deps,
    `node pool ${request.nodePoolName} still shown (${left} node(s)) ${deps.tracking.timeoutSeconds} s after its deletion was asked`,
  );
  return {
    status: 'waiting',
    waitSeconds: trackingWaitSince(appliedAt(request), now, deps.tracking),
    available: left,
  };
}

/**
 * A scale: done once ModelArts shows the new count, i.e. `count` nodes available and none still being
 * added (a scale-up), or no more than `count` nodes left and none deleting (a scale-down). Then the
 * quota follows the nodes before the request says ACTIVE: a scale-up's reservation moves into the node
 * pool's share, a scale-down lowers the share (each one conditional write, the change marker with it),
 * and the record counts the new number; `nodes_active` and ACTIVE in one write. An abnormal node, or
 * the node pool gone, fails the request NODES_ABNORMAL; the deadline runs from `node_pool_patched`.
 */
async function checkScaled(request: PoolRequestRecord, deps: CheckNodesDeps): Promise<Verdict> {
  const now = deps.now();
  if (request.status === 'ACTIVE') return { status: 'active', waitSeconds: 0, available: request.count };
  const nodePool = await deps.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName);
  if (!nodePool)
    throw new NodesAbnormalError(`node pool ${request.nodePoolName} disappeared from pool ${request.poolName}`);
  const resources = nodePool.status?.resources;
  const available = countOf(resources?.available);
  const creating = countOf(resources?.creating);
  const deleting = countOf(resources?.deleting);
  const abnormal = countOf(resources?.abnormal);
  if (abnormal > 0)
    throw new NodesAbnormalError(`${abnormal} node(s) of node pool ${request.nodePoolName} are abnormal`);
  const up = request.change?.kind === 'scale-up';
  const done = up
    ? available >= request.count && creating === 0
    : deleting === 0 && available + creating <= request.count;
  if (done) {
    if (!deps.scale) throw new Error('settling a scale needs the quota and the record (CheckNodesDeps.scale)');
    const marker = {
      team: request.team,
      flavor: request.flavor,
      createId: request.createRequestId ?? '',
      changeId: request.requestId,
    };
    const quota = up
      ? { moved: await deps.scale.quotas.moveIntoUse(marker) }
      : { released: await deps.scale.quotas.lowerUse(marker, request.count) };
    await deps.scale.claims.markCount(request, request.requestId, request.count);
    await deps.requests.recordStep(
      request.requestId,
      newStep('nodes-active', 'nodes_active', 'ok', { at: now, detail: { available, ...quota } }),
      { status: 'ACTIVE' },
    );
    return { status: 'active', waitSeconds: 0, available };
  }
  checkDeadline(
    request,
    'node_pool_patched',
    now,
    deps,
    `node pool ${request.nodePoolName} shows ${available} available, ${creating} creating, ${deleting} deleting, not ${request.count}, ${deps.tracking.timeoutSeconds} s after the change was accepted`,
  );
  return { status: 'waiting', waitSeconds: trackingWaitSince(appliedAt(request), now, deps.tracking), available };
}
