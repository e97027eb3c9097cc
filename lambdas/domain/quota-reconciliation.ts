/**
 * What the quota reconciliation decides for one request, from the node pools that carry its label:
 * a new count, nothing, or "ambiguous" (the node pools do not say clearly what the request holds, so
 * its count is left as it is and the run reports why). Pure; the use case reads and writes.
 *
 * A node pool is the request's only when it has the request's node-pool name, in the request's pool,
 * with the request's flavor. A count is never moved onto another flavor's counter, and a node pool
 * poolgate refused (`NODE_POOL_CONFLICT`) is never counted.
 */
import type { PoolRequestRecord } from './pool-request';

/** A node pool carrying poolgate's owner label, as the reconciliation reads it. */
export interface LabelledNodePool {
  /** The label's value: a request id. */
  readonly owner: string;
  /** `<project>/<pool>` it was listed in. */
  readonly pair: string;
  readonly name: string;
  readonly flavor: string | undefined;
  readonly count: number;
}

/**
 * Why a count changed. `reservation left behind`: a finished request still held a reservation well
 * after it finished (its run could not settle it), settled as the run would have: use if its node pool
 * was created (`to` = the count), given back otherwise (`to` = 0).
 */
export type CorrectionCause = 'node pool gone' | 'node count changed' | 'node pool found' | 'reservation left behind';

export type Verdict =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'correct'; readonly to: number; readonly why: CorrectionCause }
  | { readonly kind: 'ambiguous'; readonly why: string };

export type ReconciledRequest = Pick<
  PoolRequestRecord,
  'requestId' | 'projectId' | 'poolName' | 'nodePoolName' | 'flavor' | 'reason'
>;

const UNCHANGED: Verdict = { kind: 'unchanged' };
const ambiguous = (why: string): Verdict => ({ kind: 'ambiguous', why });
const names = (nodePools: readonly LabelledNodePool[]) => nodePools.map((n) => `${n.pair}/${n.name}`).join(', ');
const otherFlavor = (nodePool: LabelledNodePool, request: ReconciledRequest) =>
  `node pool ${nodePool.name} carries its label but flavor ${nodePool.flavor ?? '(none)'}, not ${request.flavor}`;

/** The node pool of the request's name in its pool that does not carry its label (removed or changed outside poolgate). */
export interface UnlabelledNodePool {
  readonly flavor: string | undefined;
  readonly count: number;
}

/**
 * A request counted with `from` nodes, against the labelled node pools listed in its pool: its own
 * node pool's count; 0 when no node pool carries its label and none has its name; ambiguous when its
 * own node pool has another flavor, or is missing while another node pool carries its label.
 * `sameName`: a node pool of its name that no longer carries its label. A removed label never gives
 * nodes back by itself: its count is followed (what exists is used), unless its flavor differs
 * (ambiguous). The drift report says the label is gone (use-cases/report-drift.ts).
 */
export function judgeCounted(
  request: ReconciledRequest,
  from: number,
  listed: readonly LabelledNodePool[],
  sameName?: UnlabelledNodePool,
): Verdict {
  const labelled = listed.filter((n) => n.owner === request.requestId);
  const own = labelled.find((n) => n.name === request.nodePoolName);
  if (own && own.flavor !== request.flavor)
    return ambiguous(`${otherFlavor(own, request)}; its ${from} nodes are left as they are`);
  if (!own && labelled.length > 0) {
    return ambiguous(
      `node pool ${request.nodePoolName} is gone but ${names(labelled)} carries its label; its ${from} nodes are left as they are`,
    );
  }
  if (!own && sameName) {
    if (sameName.flavor !== request.flavor)
      return ambiguous(
        `node pool ${request.nodePoolName} no longer carries its label and has flavor ${sameName.flavor ?? '(none)'}, not ${request.flavor}; its ${from} nodes are left as they are`,
      );
    return sameName.count === from ? UNCHANGED : { kind: 'correct', to: sameName.count, why: 'node count changed' };
  }
  const to = own?.count ?? 0;
  if (to === from) return UNCHANGED;
  return { kind: 'correct', to, why: to === 0 ? 'node pool gone' : 'node count changed' };
}

/**
 * A finished request nobody counts, against every listed node pool carrying its label: counted when
 * its own node pool (name, pool, flavor) is there; ambiguous when only other node pools carry its
 * label, when its own has another flavor, or when poolgate refused the node pool (`NODE_POOL_CONFLICT`).
 */
export function judgeUncounted(request: ReconciledRequest, labelled: readonly LabelledNodePool[]): Verdict {
  const mine = labelled.filter((n) => n.owner === request.requestId);
  if (mine.length === 0) return UNCHANGED;
  if (request.reason === 'NODE_POOL_CONFLICT') {
    return ambiguous(
      `it ended NODE_POOL_CONFLICT (poolgate refused the node pool as not what was approved), yet ${names(mine)} carries its label; not counted`,
    );
  }
  const pair = `${request.projectId}/${request.poolName}`;
  const own = mine.find((n) => n.pair === pair && n.name === request.nodePoolName);
  if (!own)
    return ambiguous(
      `its node pool is ${pair}/${request.nodePoolName}, yet ${names(mine)} carries its label; not counted`,
    );
  if (own.flavor !== request.flavor) return ambiguous(`${otherFlavor(own, request)}; not counted`);
  return own.count > 0 ? { kind: 'correct', to: own.count, why: 'node pool found' } : UNCHANGED;
}
