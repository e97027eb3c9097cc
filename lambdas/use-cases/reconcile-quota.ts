/**
 * Quota reconciliation (scheduled: an EventBridge schedule on AWS, a timer on the local stack): the
 * nodes a team uses are recomputed from the node pools in ModelArts that carry poolgate's label, so a
 * node pool deleted (or resized) in the console gives its quota back, and one poolgate created but
 * did not count (a create that took effect after its run gave up) is counted.
 *
 *  1. read every team's counted shares (`use#<id>`; `hold#<id>` marks a request still in flight, and
 *     so does a counted request that has not finished: a retry under way);
 *  2. list the node pools of each project and pool those requests live in;
 *  3. judged per request (../domain/quota-reconciliation.ts): a counted request whose node pool is
 *     gone (neither its label nor its name is listed) -> 0 nodes; its label removed -> its count
 *     followed, never 0 for that alone; resized -> its new count; a labelled node pool of a finished request
 *     that is not counted -> counted. Ambiguous ownership (its node pool gone while another carries
 *     its label, another flavor, a node pool poolgate refused) changes nothing and is reported;
 *  4. each correction is one conditional write (nothing changes if the request moved meanwhile) and a
 *     `quota_reconciled` step on the request saying what changed and why;
 *  5. a reservation a finished request still holds well after it finished is settled as its run
 *     would have (use if its node pool was created, given back otherwise).
 * A pool that cannot be listed changes nothing for its requests (reported, tried again next run).
 */
import { teamNamed } from '../domain/teams';
import type { Policy } from '../config/policy';
import type { NodePoolRequest } from '../domain/nodepool-request';
import type { PoolRequestRecord } from '../domain/pool-request';
import {
  judgeCounted,
  judgeUncounted,
  type CorrectionCause,
  type LabelledNodePool,
  type UnlabelledNodePool,
  type Verdict,
} from '../domain/quota-reconciliation';
import { isFinished } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import { OWNER_LABEL } from '../domain/modelarts';
import type { Clock, HeldShare, NodePoolListApi, QuotaStore, RequestStore } from './ports';

export type { NodePoolListApi } from './ports';
export interface ReconcileDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  readonly quotas: QuotaStore;
  readonly modelArts: NodePoolListApi;
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

export type { CorrectionCause };

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
  /**
   * `<requestId>: <why>` for each request whose labelled node pools do not say clearly what it holds
   * (its node pool gone but another carries its label, another flavor, a node pool poolgate refused):
   * its count was left as it is, for someone to look at. Reported again on every run until resolved.
   */
  readonly ambiguous: readonly string[];
}

const pairKey = (r: Pick<PoolRequestRecord, 'projectId' | 'poolName'>) => `${r.projectId}/${r.poolName}`;

export async function reconcileQuota(deps: ReconcileDeps): Promise<ReconcileReport> {
  const at = deps.now().toISOString();
  const shares = (await Promise.all(deps.policy.teams.map((team) => deps.quotas.shares(team.name)))).flat();
  const counted = new Map(shares.filter((s) => s.kind === 'use').map((s) => [s.requestId, s]));
  const inFlight = new Set(shares.filter((s) => s.kind === 'hold').map((s) => s.requestId));
  const countedRequests = await deps.requests.getMany([...counted.keys()]);

  const pairs = new Map<string, PoolRequestRecord>();
  for (const request of countedRequests.values()) pairs.set(pairKey(request), request);

  const proposed: QuotaCorrection[] = [];
  const ambiguous: string[] = [];
  const judged = (
    request: PoolRequestRecord,
    from: number,
    verdict: Verdict,
    share: { team: string; flavor: string },
  ) => {
    if (verdict.kind === 'ambiguous') ambiguous.push(`${request.requestId}: ${verdict.why}`);
    if (verdict.kind === 'correct')
      proposed.push({
        requestId: request.requestId,
        team: share.team,
        flavor: share.flavor,
        from,
        to: verdict.to,
        why: verdict.why,
      });
  };
  const uncounted: LabelledNodePool[] = [];
  const unreadable: string[] = [];
  for (const [pair, { projectId, poolName }] of pairs) {
    let listed: LabelledNodePool[];
    let all: ReadonlyArray<Pick<NodePoolRequest, 'metadata' | 'spec'>>;
    try {
      all = await deps.modelArts.listNodePools(projectId, poolName);
      listed = labelled(pair, all);
    } catch (error) {
      unreadable.push(`${pair}: ${(error as Error).message}`);
      continue;
    }
    for (const request of countedRequests.values()) {
      // A counted request still under way (a retry going on with the use reconciliation found) is its run's to settle.
      if (pairKey(request) !== pair || !isFinished(request.status)) continue;
      const share = counted.get(request.requestId)!;
      judged(request, share.count, judgeCounted(request, share.count, listed, withoutItsLabel(request, all)), share);
    }
    uncounted.push(...listed.filter((n) => !counted.has(n.owner) && !inFlight.has(n.owner)));
  }

  // A labelled node pool nobody counts: judged if its request has finished (an open one counts itself).
  const owners = await deps.requests.getMany([...new Set(uncounted.map((n) => n.owner))]);
  for (const request of owners.values()) {
    const inPolicy = teamNamed(deps.policy, request.team) !== undefined;
    if (inPolicy && isFinished(request.status)) judged(request, 0, judgeUncounted(request, uncounted), request);
  }

  const corrections: QuotaCorrection[] = [];
  for (const correction of proposed) {
    if (!(await deps.quotas.reconcileUse(correction, correction.from, correction.to))) continue;
    corrections.push(await recorded(correction, at, deps));
  }
  corrections.push(...(await settleLeftBehind(shares, at, deps)));
  return { at, pools: pairs.size - unreadable.length, unreadable, corrections, ambiguous };
}

/** How long after a request finished its own run may still be settling its reservation. */
export const LEFT_BEHIND_GRACE_MS = 5 * 60_000;

/**
 * A reservation a finished request still holds well after it finished and after it was made: its run
 * could not settle it (its Finalize ran out of retries, a retry call got no further than reserving).
 * Settled as the run would have: use if its node pool was created, given back otherwise, and only if it
 * was not made or confirmed again since it was read. A retried run confirms its reservation (or
 * reserves again) in CheckRequest, before it creates anything.
 */
async function settleLeftBehind(
  shares: readonly HeldShare[],
  at: string,
  deps: ReconcileDeps,
): Promise<QuotaCorrection[]> {
  const holds = shares.filter((s) => s.kind === 'hold');
  const holders = await deps.requests.getMany(holds.map((s) => s.requestId));
  const cutoff = Date.parse(at) - LEFT_BEHIND_GRACE_MS;
  const settled: QuotaCorrection[] = [];
  for (const share of holds) {
    const request = holders.get(share.requestId);
    // CREATED is finished either way: its node pool exists, so settling means committing, which its run's
    // Finalize (if it is still following the nodes) would do too, and then finds done.
    if (!request || !isFinished(request.status)) continue;
    // The reservation's own age (a retry's may be new on a request that failed long ago); an unstamped one, the request's.
    if (Date.parse(share.heldAt ?? request.updatedAt) > cutoff || Date.parse(request.updatedAt) > cutoff) continue;
    // Settled only if nobody made or confirmed it since it was read (`heldAt`): a retried run renews it before it creates.
    const created = request.steps.some((s) => s.step === 'node_pool_created');
    if (!(created ? await deps.quotas.commit(share) : await deps.quotas.release(share))) continue;
    const correction: QuotaCorrection = {
      requestId: share.requestId,
      team: share.team,
      flavor: share.flavor,
      from: share.count,
      to: created ? share.count : 0,
      why: 'reservation left behind',
    };
    settled.push(await recorded(correction, at, deps));
  }
  return settled;
}

/** The node pool of the request's name that does not carry its label (removed or changed outside poolgate), if any. */
function withoutItsLabel(
  request: PoolRequestRecord,
  nodePools: ReadonlyArray<Pick<NodePoolRequest, 'metadata' | 'spec'>>,
): UnlabelledNodePool | undefined {
  const named = nodePools.find((n) => n.metadata?.name === request.nodePoolName);
  const resources = named?.spec?.resources;
  if (!named || resources?.labels?.[OWNER_LABEL] === request.requestId) return undefined;
  return { flavor: resources?.flavor, count: resources?.count ?? 0 };
}

/** The listed node pools that carry poolgate's owner label. */
function labelled(
  pair: string,
  nodePools: ReadonlyArray<Pick<NodePoolRequest, 'metadata' | 'spec'>>,
): LabelledNodePool[] {
  const result: LabelledNodePool[] = [];
  for (const nodePool of nodePools) {
    const resources = nodePool.spec?.resources;
    const owner = resources?.labels?.[OWNER_LABEL];
    if (owner)
      result.push({ owner, pair, name: nodePool.metadata?.name, flavor: resources.flavor, count: resources.count });
  }
  return result;
}

/** A correction written to the counters, recorded on its request as a `quota_reconciled` step (what changed and why). */
async function recorded(
  correction: QuotaCorrection,
  at: string,
  deps: Pick<ReconcileDeps, 'requests'>,
): Promise<QuotaCorrection> {
  const { requestId, ...detail } = correction;
  await deps.requests.recordStep(
    requestId,
    newStep(stepId.quotaReconciled(at), 'quota_reconciled', 'ok', { at: new Date(at), detail }),
  );
  return correction;
}
