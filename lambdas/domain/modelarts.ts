/**
 * ModelArts' node-pool API as poolgate reads it (reference: the ModelArts API pages listed in
 * docs/modelarts.md), and what the domain takes from it: the ownership label, the facts the capacity
 * rules need, node counts. Pure: the client (adapters/modelarts/client.ts) fetches these shapes, the
 * use cases map them here.
 */
import type { FlavorFacts, PoolFacts } from './capacity';
import type { NodePoolRequest } from './nodepool-request';

/** The Kubernetes label poolgate puts on every node pool it creates: the request id. */
export const OWNER_LABEL = 'poolgate/request-id';

/**
 * Node counts of one state (`PoolResourceFlavorCount`): the SDK models type a bucket as one object,
 * and the simulator answers so; the Terraform provider reads it as a list, which is still accepted.
 */
export interface NodeCount {
  readonly flavor?: string;
  readonly count?: number;
  readonly maxCount?: number;
  readonly azs?: readonly { readonly az: string; readonly count: number }[];
  readonly nodePool?: string;
}

export type NodeCounts = NodeCount | readonly NodeCount[];

export interface NodePoolStatus {
  readonly resources?: {
    readonly creating?: NodeCounts;
    readonly available?: NodeCounts;
    readonly abnormal?: NodeCounts;
    readonly deleting?: NodeCounts;
  };
}

/**
 * A node pool as ModelArts returns it from Show, List and Delete (SDK model `NodePool`): the create
 * body as ModelArts keeps it (zones and `maxCount` may be filled in), `metadata` with the name only
 * (no annotations), plus a status.
 */
export type NodePool = NodePoolRequest & { readonly status?: NodePoolStatus };

/** ShowPool, as far as poolgate reads it (docs/modelarts.md): type, privilege and billing mode. */
export interface Pool {
  readonly metadata?: { readonly name?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: { readonly type?: string };
  readonly status?: { readonly phase?: string; readonly clusters?: readonly unknown[] };
}

/** One item of ListResourceFlavors, as far as poolgate reads it (notes §2). */
export interface ResourceFlavor {
  readonly metadata?: { readonly name?: string };
  readonly spec?: { readonly billingModes?: readonly number[] };
  /** Per AZ: `normal` or `soldout`. */
  readonly status?: { readonly phase?: Readonly<Record<string, string>> };
}

/** What the capacity rules need from ShowPool (shared with the dry run). */
export function poolFacts(pool: Pool): PoolFacts {
  const billingMode = pool.metadata?.annotations?.['os.modelarts/billing.mode'];
  return {
    type: pool.spec?.type,
    privileged: Array.isArray(pool.status?.clusters) && pool.status.clusters.length > 0,
    ...(typeof billingMode === 'string' ? { billingMode } : {}),
  };
}

/**
 * A node pool ShowNodePool found under the request's name that this request did not create (it
 * carries no ownership label of this request; a dry run has no request, so any node pool counts):
 * ModelArts would refuse the create.
 */
export function isSomeoneElses(existing: NodePool | undefined, requestId: string | undefined): boolean {
  if (existing === undefined) return false;
  return requestId === undefined || existing.spec?.resources?.labels?.[OWNER_LABEL] !== requestId;
}

/** What the capacity rules need from one ListResourceFlavors item (shared with the dry run). */
export function flavorFacts(flavor: ResourceFlavor): FlavorFacts[] {
  const name = flavor.metadata?.name;
  return name ? [{ name, billingModes: flavor.spec?.billingModes ?? [], phaseByAz: flavor.status?.phase ?? {} }] : [];
}

/** Node counts of one status bucket: the SDK types it as one object, other clients as a list. */
export function countOf(bucket: NodeCounts | undefined): number {
  if (!bucket) return 0;
  const list: ReadonlyArray<{ count?: number }> = Array.isArray(bucket) ? bucket : [bucket];
  return list.reduce((sum: number, b: { count?: number }) => sum + (b.count ?? 0), 0);
}
