/**
 * Quota reconciliation (scheduled: an EventBridge schedule on AWS, a timer on the local stack): the
 * nodes a team uses are recomputed from the node pools in ModelArts that carry poolgate's label, so a
 * node pool deleted (or resized) in the console gives its quota back, and one poolgate created but
 * did not count (a create that took effect after its run gave up) is counted.
 *
 *  1. read every team's counted shares (`use#<id>`; `hold#<id>` marks a request still in flight);
 *  2. list the node pools of each project and pool those requests live in;
 *  3. a counted request whose labelled node pool is gone -> 0 nodes; resized -> its new count;
 *     a labelled node pool of a finished request that is not counted -> counted;
 *  4. each correction is one conditional write (nothing changes if the request moved meanwhile) and a
 *     `quota_reconciled` step on the request saying what changed and why.
 * A pool that cannot be listed changes nothing for its requests (reported, tried again next run).
 */
import type { QuotaRepository } from '../adapters/dynamodb/quota-repository';
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { Policy } from '../config/policy';
import type { NodePoolRequest } from '../domain/nodepool-request';
import type { PoolRequestRecord } from '../domain/pool-request';
import { isFinished } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import { OWNER_LABEL } from './create-node-pool';

export interface NodePoolListApi {
  listNodePools(projectId: string, poolName: string): Promise<ReadonlyArray<Pick<NodePoolRequest, 'metadata' | 'spec'>>>;
}

export interface ReconcileDeps {
  readonly policy: Policy;
  readonly requests: RequestRepository;
  readonly quotas: QuotaRepository;
  readonly modelArts: NodePoolListApi;
  readonly now?: () => Date;
}

export type CorrectionCause = 'node pool gone' | 'node count changed' | 'node pool found';

export interface QuotaCorrection {
  readonly requestId: string;
  readonly team: string;
  readonly flavor: string;
  readonly from: number;
  readonly to: number;
  readonly why: CorrectionCause;
}

export interface ReconcileReport {
  readonly at: string;
  /** Pools listed. */
  readonly pools: number;
  /** `<project>/<pool>` that could not be listed, with the error: their requests were left as they are. */
  readonly unreadable: readonly string[];
  /** Corrections written (one that lost a race with the request's own workflow is not among them). */
  readonly corrections: readonly QuotaCorrection[];
}

const pairKey = (r: Pick<PoolRequestRecord, 'projectId' | 'poolName'>) => `${r.projectId}/${r.poolName}`;

export async function reconcileQuota(deps: ReconcileDeps): Promise<ReconcileReport> {
  const at = (deps.now ?? (() => new Date()))().toISOString();
  const shares = (await Promise.all(deps.policy.teams.map((team) => deps.quotas.shares(team.name)))).flat();
  const counted = new Map(shares.filter((s) => s.kind === 'use').map((s) => [s.requestId, s]));
  const inFlight = new Set(shares.filter((s) => s.kind === 'hold').map((s) => s.requestId));
  const countedRequests = await deps.requests.getMany([...counted.keys()]);

  const pairs = new Map<string, PoolRequestRecord>();
  for (const request of countedRequests.values()) pairs.set(pairKey(request), request);

  const proposed: QuotaCorrection[] = [];
  const uncounted = new Map<string, number>();
  const unreadable: string[] = [];
  for (const [pair, { projectId, poolName }] of pairs) {
    let nodePools;
    try {
      nodePools = await deps.modelArts.listNodePools(projectId, poolName);
    } catch (error) {
      unreadable.push(`${pair}: ${(error as Error).message}`);
      continue;
    }
    const ours = new Map<string, number>();
    for (const nodePool of nodePools) {
      const owner = nodePool.spec?.resources?.labels?.[OWNER_LABEL];
      if (owner) ours.set(`${owner}\n${nodePool.metadata?.name}`, nodePool.spec.resources.count);
    }
    for (const request of countedRequests.values()) {
      if (pairKey(request) !== pair) continue;
      const share = counted.get(request.requestId)!;
      const to = ours.get(`${request.requestId}\n${request.nodePoolName}`) ?? 0;
      if (to !== share.count) proposed.push({ requestId: request.requestId, team: share.team, flavor: share.flavor, from: share.count, to, why: to === 0 ? 'node pool gone' : 'node count changed' });
    }
    for (const [ownerAndName, count] of ours) {
      const [owner] = ownerAndName.split('\n');
      if (!counted.has(owner) && !inFlight.has(owner)) uncounted.set(ownerAndName, count);
    }
  }

  // A labelled node pool nobody counts: count it if its request has finished (an open one will, itself).
  const owners = await deps.requests.getMany([...new Set([...uncounted.keys()].map((k) => k.split('\n')[0]))]);
  for (const [ownerAndName, count] of uncounted) {
    const [owner, name] = ownerAndName.split('\n');
    const request = owners.get(owner);
    const team = request && deps.policy.teams.some((t) => t.name === request.team);
    if (request && team && request.nodePoolName === name && isFinished(request.status)) {
      proposed.push({ requestId: owner, team: request.team, flavor: request.flavor, from: 0, to: count, why: 'node pool found' });
    }
  }

  const corrections: QuotaCorrection[] = [];
  for (const correction of proposed) {
    if (!(await deps.quotas.reconcileUse(correction, correction.from, correction.to))) continue;
    const { requestId: _id, ...detail } = correction;
    await deps.requests.recordStep(correction.requestId, newStep(stepId.quotaReconciled(at), 'quota_reconciled', 'ok', { at: new Date(at), detail }));
    corrections.push(correction);
  }
  return { at, pools: pairs.size - unreadable.length, unreadable, corrections };
}
