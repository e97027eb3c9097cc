/**
 * Reads of node pools:
 * - `GET /v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}` and `.../nodepools` answer
 *   exactly what ModelArts answers (ShowNodePool, ListNodePools, read with poolgate's credentials),
 *   limited to the node pools poolgate created that the caller may read (their record, and ModelArts
 *   still shows the label of the request that created them); anything else is 404. A script polling
 *   ModelArts works against poolgate by changing only its base URL and credentials. Answers are
 *   cached a few seconds per ModelArts call, so polling scripts cannot use up poolgate's rate limit.
 * - `GET /nodepools` is poolgate's inventory: the node pools the caller may read, from their records
 *   (newest first, a team at a time, paged with signed cursors as `GET /requests`).
 */
import { leaseView } from '../domain/lease';
import type { Inventory, InventoryItem, ModelArtsNodePoolList } from '../../contracts/api';
import type { Policy } from '../config/policy';
import { BadQueryError, ForbiddenError, NotFoundError } from '../domain/errors';
import { decodeCursor, encodeCursor } from '../domain/list-cursor';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, mayListTeam } from '../domain/list-query';
import { OWNER_LABEL, type NodePool } from '../domain/modelarts';
import { nodePoolAccess } from '../domain/nodepool-access';
import { isPresent, type NodePoolName, type NodePoolRecord } from '../domain/nodepool-record';
import { kindOf } from '../domain/request-kind';
import { isFinal } from '../domain/status';
import { teamOf } from '../domain/teams';
import type { Claims, Clock, NodePoolReadApi, RequestStore } from './ports';

/** How long a ModelArts answer is served again (per call: project, pool and node pool). */
export const READ_CACHE_MS = 5_000;

export type { NodePoolReadApi };

export interface ReadDeps {
  readonly policy: Policy;
  readonly claims: Pick<Claims, 'record' | 'records'>;
  readonly modelArts: NodePoolReadApi;
  /** The time (the wiring's clock): how old a cached answer is. */
  readonly now: Clock;
}

/** A per-process cache of ModelArts answers (a Lambda container's life), a few seconds each. */
const cache = new Map<string, { at: number; value: Promise<unknown> }>();

function cached<T>(key: string, now: number, read: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit && now - hit.at < READ_CACHE_MS) return hit.value as Promise<T>;
  const value = read();
  cache.set(key, { at: now, value });
  // A failed read is not served again.
  value.catch(() => cache.delete(key));
  if (cache.size > 1000) for (const [k, v] of cache) if (now - v.at >= READ_CACHE_MS) cache.delete(k);
  return value;
}

/** Whether `nodePool`, as ModelArts shows it, is the record's node pool (its creating request's label). */
const isRecorded = (record: NodePoolRecord, nodePool: NodePool) =>
  nodePool.spec?.resources?.labels?.[OWNER_LABEL] === record.creatingRequestId;

const readable = (record: NodePoolRecord | undefined, viewer: string, policy: Policy): boolean =>
  isPresent(record) && nodePoolAccess(policy, record.team, viewer) !== 'none';

/** ShowNodePool, as ModelArts answers it, for a node pool the caller may read; 404 otherwise. */
export async function showNodePool(viewer: string, name: NodePoolName, deps: ReadDeps): Promise<NodePool> {
  const notFound = new NotFoundError(`node pool ${name.nodePoolName} not found`);
  const record = await deps.claims.record(name);
  if (!record || !readable(record, viewer, deps.policy)) throw notFound;
  const now = deps.now().getTime();
  const key = `show\n${name.projectId}\n${name.poolName}\n${name.nodePoolName}`;
  const shown = await cached(key, now, () =>
    deps.modelArts.showNodePool(name.projectId, name.poolName, name.nodePoolName),
  );
  if (!shown || !isRecorded(record, shown)) throw notFound;
  return shown;
}

/** ListNodePools, as ModelArts answers it, with only the node pools the caller may read. */
export async function listNodePools(
  viewer: string,
  pool: { readonly projectId: string; readonly poolName: string },
  deps: ReadDeps,
): Promise<Omit<ModelArtsNodePoolList, 'items'> & { items: NodePool[] }> {
  const now = deps.now().getTime();
  const listed = await cached(`list\n${pool.projectId}\n${pool.poolName}`, now, () =>
    deps.modelArts.listNodePools(pool.projectId, pool.poolName),
  );
  const records = await deps.claims.records(listed.map((n) => ({ ...pool, nodePoolName: n.metadata.name })));
  const byName = new Map(records.map((r) => [r.nodePoolName, r]));
  const items = listed.filter((n) => {
    const record = byName.get(n.metadata.name);
    return record !== undefined && readable(record, viewer, deps.policy) && isRecorded(record, n);
  });
  return { apiVersion: 'v2', kind: 'NodePoolList', items };
}

/** One node pool of poolgate's inventory (the API contract). */
export type { InventoryItem };

export interface InventoryDeps {
  readonly policy: Policy;
  readonly claims: Pick<Claims, 'inventory'>;
  readonly requests: Pick<RequestStore, 'getMany'>;
  readonly linkKey: string;
}

const INVENTORY_PARAMS = ['team', 'limit', 'cursor'];

/** `GET /nodepools`: a team's node pools (`team`, default the caller's), newest first, `limit` a page. */
export async function inventory(
  viewer: string,
  params: Readonly<Record<string, string | undefined>>,
  deps: InventoryDeps,
): Promise<Inventory> {
  const unknown = Object.keys(params).filter((p) => !INVENTORY_PARAMS.includes(p));
  if (unknown.length)
    throw new BadQueryError(`${unknown[0]}: unknown query parameter (known: ${INVENTORY_PARAMS.join(', ')})`);
  const limit = params.limit === undefined ? DEFAULT_PAGE_SIZE : Number(params.limit);
  if (!/^\d+$/.test(params.limit ?? '1') || limit < 1 || limit > MAX_PAGE_SIZE)
    throw new BadQueryError(`limit: must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  const team = params.team ?? teamOf(deps.policy, viewer)?.name;
  if (!team) throw new BadQueryError(`${viewer} is in no team: say which team's node pools to list with team=<name>`);
  if (!mayListTeam(deps.policy, team, viewer.toLowerCase()))
    throw new ForbiddenError(`${viewer} may not list the node pools of team ${team}`);
  const identity = ['nodepools', viewer, team].join('\n');
  const startAt = params.cursor ? decodeCursor(params.cursor, identity, deps.linkKey) : undefined;
  const page = await deps.claims.inventory(team, { limit, ...(startAt ? { startAt } : {}) });
  const holders = await deps.requests.getMany(page.records.map((r) => r.requestId));
  const items = page.records.filter(isPresent).map((r): InventoryItem => {
    const holder = holders.get(r.requestId);
    const open =
      holder && !isFinal(holder.status, deps.policy.nodeTracking.enabled)
        ? { requestId: holder.requestId, kind: kindOf(holder), status: holder.status }
        : undefined;
    return {
      projectId: r.projectId,
      poolName: r.poolName,
      nodePoolName: r.nodePoolName,
      team: r.team,
      flavor: r.flavor,
      count: r.count,
      billingMode: r.billingMode,
      ...(r.createdAt ? { createdAt: r.createdAt } : {}),
      createdBy: r.creatingRequestId,
      ...(open ? { openRequest: open } : {}),
      ...(r.leaseTerms ? { lease: leaseView(r.leaseTerms, r) } : {}),
      links: {
        createdBy: `/requests/${r.creatingRequestId}`,
        ...(open ? { openRequest: `/requests/${open.requestId}` } : {}),
      },
    };
  });
  return { items, nextCursor: page.next ? encodeCursor(page.next, identity, deps.linkKey) : null };
}
