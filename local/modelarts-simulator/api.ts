/**
 * The ModelArts routes the simulator serves, as plain functions from a (signed, already verified)
 * request to a response. Error bodies are ModelArts' `{error_code, error_msg}`; codes the API pages
 * do not document are marked "inferred" (local/modelarts-simulator/README.md lists them).
 */
import {
  ModelArtsNodePoolSchema,
  parseNodePoolRequest,
  type ModelArtsNodePool,
} from '../../lambdas/domain/nodepool-request';
import {
  AVAILABILITY_ZONES,
  flavorConfig,
  poolConfig,
  poolView,
  resourceFlavors,
  type SimulatorCatalog,
} from './catalog';
import type { SimOperation } from './faults';
import { applyMergePatch, isJsonObject } from '../../lambdas/domain/merge-patch';
import type { NodePoolStore, StoredNodePool } from './store';

export interface ApiRequest {
  readonly method: string;
  /** As on the wire (percent-encoded), without the query. */
  readonly path: string;
  /** As on the wire: empty, or `?` and the query. */
  readonly query?: string;
  readonly body: string;
  /** The `Content-Type` header, when one was sent. */
  readonly contentType?: string;
}

export interface SimResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export const BAD_REQUEST = 'ModelArts.50004000';
/** Inferred: the v2 API documents no "node pool not found" code; pool-not-found is ModelArts.50015001. */
export const NODE_POOL_NOT_FOUND = 'ModelArts.50015002';
/** A third-party client's report of PatchNodePool without merge-patch (docs/modelarts.md). */
export const CONTENT_TYPE_NOT_SUPPORTED = 'ModelArts.50004100';

export function errorResponse(status: number, errorCode: string, errorMsg: string): SimResponse {
  return { status, body: { error_code: errorCode, error_msg: errorMsg } };
}

const PROJECT_ID = /^[0-9a-f]{32}$/i;
const NODE_POOLS = /^\/v2\/([^/]+)\/pools\/([^/]+)\/nodepools$/;

const OPERATIONS: ReadonlyArray<[SimOperation, string, RegExp]> = [
  ['create', 'POST', NODE_POOLS],
  ['list', 'GET', NODE_POOLS],
  ['show', 'GET', /^\/v2\/[^/]+\/pools\/[^/]+\/nodepools\/[^/]+$/],
  ['delete', 'DELETE', /^\/v2\/[^/]+\/pools\/[^/]+\/nodepools\/[^/]+$/],
  ['patch', 'PATCH', /^\/v2\/[^/]+\/pools\/[^/]+\/nodepools\/[^/]+$/],
  ['pool', 'GET', /^\/v2\/[^/]+\/pools\/[^/]+$/],
  ['flavors', 'GET', /^\/v1\/[^/]+\/resourceflavors$/],
];

/** Which ModelArts call a request is (fault rules select calls by it); undefined for anything else. */
export function operationOf(method: string, path: string): SimOperation | undefined {
  const trimmed = withoutTrailingSlash(path);
  return OPERATIONS.find(([, m, pattern]) => m === method && pattern.test(trimmed))?.[0];
}

/** Whether a request is a create or patch of a node pool (the simulator records those). */
export function isRecordedCall(method: string, path: string): boolean {
  const operation = operationOf(method, path);
  return operation === 'create' || operation === 'patch';
}

type Handler = (
  params: { projectId: string; poolName: string; nodePoolName: string },
  request: ApiRequest,
) => SimResponse;

interface Route {
  readonly method: string;
  /** Groups, in order: project id, pool name, node pool name. */
  readonly path: RegExp;
  readonly handle: Handler;
}

export interface ModelArtsApiOptions {
  /** Time from creation until a node pool's nodes are available. */
  readonly nodeReadyDelayMs: number;
  /** Time from an accepted DeleteNodePool until the node pool is gone (its nodes `deleting` meanwhile); default 0. */
  readonly nodeDeleteDelayMs?: number;
  readonly catalog?: SimulatorCatalog;
}

/** The router over the store: `handle` serves one request. */
export function modelArtsApi(store: NodePoolStore, options: ModelArtsApiOptions) {
  const catalog = options.catalog ?? {};
  /**
   * ShowNodePool, a ListNodePools item, DeleteNodePool's answer: the SDK models' `NodePool`.
   * `metadata` holds only the name; `status.resources` has one object (`PoolResourceFlavorCount`)
   * per state its nodes are in (./store.ts `nodeCounts`).
   */
  function nodePoolView(stored: StoredNodePool, deleting = false) {
    const { apiVersion, kind, metadata, spec } = stored.nodePool;
    const resources = spec?.resources;
    const buckets = resources
      ? Object.fromEntries(
          Object.entries(nodeCounts(stored, deleting)).map(([state, count]) => [
            state,
            {
              flavor: resources.flavor,
              count,
              maxCount: resources.maxCount,
              azs: resources.azs ?? [],
              nodePool: metadata.name,
            },
          ]),
        )
      : {};
    return {
      apiVersion,
      kind,
      metadata: { name: metadata.name },
      ...(spec ? { spec } : {}),
      status: { resources: buckets },
    };
  }

  /**
   * How many nodes are in each state: all `creating` until the node-ready delay after the creation (then
   * `available`, or `abnormal` for a flavor whose nodes fail), all `deleting` once a deletion is accepted;
   * after a count change, the added nodes `creating` for the node-ready delay, the removed ones `deleting`
   * for the delete delay. States with no nodes are left out.
   */
  function nodeCounts(stored: StoredNodePool, deleting = false): Partial<Record<string, number>> {
    const count = stored.nodePool.spec?.resources.count ?? 0;
    const now = Date.now();
    if (deleting || stored.deleteRequestedAt) return { deleting: count };
    if (now - Date.parse(stored.createdAt) < options.nodeReadyDelayMs) return { creating: count };
    const settled = flavorConfig(catalog, stored.nodePool.spec?.resources.flavor)?.nodesFail ? 'abnormal' : 'available';
    const change = stored.countChange;
    const since = change ? now - Date.parse(change.at) : Infinity;
    const counts: Record<string, number> = { [settled]: count };
    if (change && count > change.from && since < options.nodeReadyDelayMs) {
      Object.assign(counts, { [settled]: change.from, creating: count - change.from });
    } else if (change && count < change.from && since < (options.nodeDeleteDelayMs ?? 0)) {
      counts.deleting = change.from - count;
    }
    return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  }

  /** The node pool with `patch` merged into its spec, and the count change it makes (from the nodes settled now). */
  function patched(stored: StoredNodePool, specPatch: unknown): StoredNodePool {
    const spec =
      specPatch === undefined
        ? stored.nodePool.spec
        : (applyMergePatch(stored.nodePool.spec, specPatch) as ModelArtsNodePool['spec']);
    const before = stored.nodePool.spec?.resources.count;
    const after = spec?.resources?.count;
    if (before === after || typeof after !== 'number') return { ...stored, nodePool: { ...stored.nodePool, spec } };
    const counts = nodeCounts(stored);
    const from = (counts.available ?? 0) + (counts.abnormal ?? 0);
    return { ...stored, nodePool: { ...stored.nodePool, spec }, countChange: { from, at: new Date().toISOString() } };
  }

  const createNodePool: Handler = ({ projectId, poolName }, request) => {
    const parsed = parseNodePoolRequest(request.body, ModelArtsNodePoolSchema);
    if (!parsed.ok) return errorResponse(400, BAD_REQUEST, `Bad request. ${parsed.message}`);
    const pool = poolConfig(catalog, poolName);
    const resources = parsed.value.spec?.resources;
    // The API page: in a physical pool maxCount is the same as count ("pool does not support ..." is a tester's report).
    if (resources && poolView(poolName, catalog).spec.type === 'Dedicate' && resources.maxCount !== resources.count) {
      return errorResponse(400, BAD_REQUEST, 'Bad request. pool does not support maxCount more than count now');
    }
    // The API page and the SDK models: taints, tags (and, per Terraform's docs, network) only in a privileged pool.
    const privilegedOnly = (['taints', 'tags', 'network'] as const).filter((field) => resources?.[field] !== undefined);
    if ((pool.privileged ?? true) === false && privilegedOnly.length) {
      return errorResponse(
        400,
        BAD_REQUEST,
        `Bad request. ${privilegedOnly.join(', ')} cannot be specified for a non-privileged pool`,
      );
    }
    // Inferred: the duplicate-name answer is not documented.
    if (store.find(projectId, poolName, parsed.value.metadata.name)) {
      return errorResponse(400, BAD_REQUEST, `Bad request. node pool ${parsed.value.metadata.name} already exists`);
    }
    const nodePool =
      pool.fillsZones && resources && !resources.azs?.length ? withZoneFilledIn(parsed.value) : parsed.value;
    store.add({ projectId, poolName, createdAt: new Date().toISOString(), nodePool });
    // Create answers the node pool without a status (notes §7).
    return { status: 200, body: nodePool };
  };

  const showNodePool: Handler = ({ projectId, poolName, nodePoolName }) => {
    const stored = store.find(projectId, poolName, nodePoolName);
    return stored
      ? { status: 200, body: nodePoolView(stored) }
      : errorResponse(404, NODE_POOL_NOT_FOUND, `Node pool ${nodePoolName} not found.`);
  };

  /**
   * DeleteNodePool: 200 with the node pool in the SDK's NodePool shape (metadata only `name`, each status
   * bucket one object), its nodes `deleting` until `nodeDeleteDelayMs` after the first accepted call,
   * then gone. Yearly/monthly node pools are refused (the billing center removes prepaid resources).
   * Every call is counted per node pool in the state file.
   */
  const deleteNodePool: Handler = ({ projectId, poolName, nodePoolName }) => {
    store.countDeleteCall(projectId, poolName, nodePoolName);
    const stored = store.find(projectId, poolName, nodePoolName);
    if (!stored) return errorResponse(404, NODE_POOL_NOT_FOUND, `Node pool ${nodePoolName} not found.`);
    const annotations = stored.nodePool.metadata.annotations as Record<string, string> | undefined;
    // Inferred: the documented refusal has no documented code.
    if (annotations?.['os.modelarts/billing.mode'] === '1') {
      return errorResponse(
        400,
        BAD_REQUEST,
        `Bad request. node pool ${nodePoolName} is yearly/monthly: it cannot be deleted, unsubscribe it in the billing center`,
      );
    }
    store.markDeleting(projectId, poolName, nodePoolName, new Date().toISOString());
    return { status: 200, body: nodePoolView(stored, true) };
  };

  /**
   * PatchNodePool (notes: docs/modelarts.md): `spec.resources` required with flavor, count and maxCount, as the SDK
   * models have it; the body merges into the node pool as a JSON merge patch, and the result must pass the create
   * rules. The flavor is fixed; a node pool being deleted and a yearly/monthly count decrease are refused (inferred
   * codes). The billing annotations apply to the added nodes only: the stored node pool keeps its own. Every call is
   * counted per node pool in the state file.
   */
  const patchNodePool: Handler = ({ projectId, poolName, nodePoolName }, request) => {
    store.countPatchCall(projectId, poolName, nodePoolName);
    const mediaType = request.contentType?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/merge-patch+json' && mediaType !== 'application/json') {
      return errorResponse(400, CONTENT_TYPE_NOT_SUPPORTED, 'Content type not supported.');
    }
    const stored = store.find(projectId, poolName, nodePoolName);
    if (!stored) return errorResponse(404, NODE_POOL_NOT_FOUND, `Node pool ${nodePoolName} not found.`);
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return errorResponse(400, BAD_REQUEST, 'Bad request. request body is not valid JSON');
    }
    const resources = isJsonObject(body) && isJsonObject(body.spec) ? body.spec.resources : undefined;
    const missing = ['flavor', 'count', 'maxCount'].filter((f) => !isJsonObject(resources) || resources[f] == null);
    if (!isJsonObject(body) || !isJsonObject(resources) || missing.length) {
      const fields = missing.length ? missing : ['flavor', 'count', 'maxCount'];
      return errorResponse(
        400,
        BAD_REQUEST,
        `Bad request. spec.resources.${fields.join(', spec.resources.')}: is required`,
      );
    }
    if (stored.deleteRequestedAt) {
      return errorResponse(400, BAD_REQUEST, `Bad request. node pool ${nodePoolName} is being deleted`);
    }
    if (resources.flavor !== stored.nodePool.spec?.resources.flavor) {
      return errorResponse(400, BAD_REQUEST, 'Bad request. spec.resources.flavor: cannot be changed');
    }
    const changed = patched(stored, body.spec);
    const parsed = ModelArtsNodePoolSchema.safeParse(changed.nodePool);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return errorResponse(400, BAD_REQUEST, `Bad request. ${issue?.path.join('.')}: ${issue?.message}`);
    }
    const billing = stored.nodePool.metadata.annotations as Record<string, string> | undefined;
    const count = changed.nodePool.spec?.resources.count ?? 0;
    if (billing?.['os.modelarts/billing.mode'] === '1' && count < (stored.nodePool.spec?.resources.count ?? 0)) {
      return errorResponse(
        400,
        BAD_REQUEST,
        `Bad request. node pool ${nodePoolName} is yearly/monthly: remove its nodes in the billing center`,
      );
    }
    store.replace(changed);
    const annotations =
      isJsonObject(body.metadata) && isJsonObject(body.metadata.annotations) ? body.metadata.annotations : {};
    return { status: 200, body: { metadata: { annotations }, spec: changed.nodePool.spec } };
  };

  /**
   * Oldest first, all of them: ListNodePools has no query parameters and no paging (the SDK's
   * ListNodePoolsRequest has only the pool name); a query sent anyway is ignored.
   */
  const listNodePools: Handler = ({ projectId, poolName }) => {
    const items = store
      .list(projectId, poolName)
      .sort(
        (a, b) =>
          a.createdAt.localeCompare(b.createdAt) || a.nodePool.metadata.name.localeCompare(b.nodePool.metadata.name),
      )
      .map((stored) => nodePoolView(stored));
    return { status: 200, body: { apiVersion: 'v2', kind: 'NodePoolList', items } };
  };

  const routes: readonly Route[] = [
    {
      method: 'GET',
      path: /^\/v2\/([^/]+)\/pools\/([^/]+)$/,
      handle: ({ poolName }) => ({ status: 200, body: poolView(poolName, catalog) }),
    },
    { method: 'GET', path: NODE_POOLS, handle: listNodePools },
    { method: 'POST', path: NODE_POOLS, handle: createNodePool },
    { method: 'GET', path: /^\/v2\/([^/]+)\/pools\/([^/]+)\/nodepools\/([^/]+)$/, handle: showNodePool },
    { method: 'DELETE', path: /^\/v2\/([^/]+)\/pools\/([^/]+)\/nodepools\/([^/]+)$/, handle: deleteNodePool },
    { method: 'PATCH', path: /^\/v2\/([^/]+)\/pools\/([^/]+)\/nodepools\/([^/]+)$/, handle: patchNodePool },
    {
      method: 'GET',
      path: /^\/v1\/([^/]+)\/resourceflavors$/,
      handle: () => ({ status: 200, body: resourceFlavors(catalog) }),
    },
  ];

  return {
    /**
     * A change made "in the console" (unsigned `/_sim` route): `patch` merges into the whole node pool, unchecked;
     * a count change moves nodes through creating or deleting as PatchNodePool does. Not counted as a patch call.
     */
    changeInConsole(projectId: string, poolName: string, name: string, patch: unknown): SimResponse {
      const stored = store.find(projectId, poolName, name);
      if (!stored) return errorResponse(404, NODE_POOL_NOT_FOUND, `Node pool ${name} not found.`);
      if (!isJsonObject(patch))
        return errorResponse(400, BAD_REQUEST, 'Bad request. request body must be a JSON object');
      const metadata =
        patch.metadata === undefined
          ? stored.nodePool.metadata
          : ({
              ...(applyMergePatch(stored.nodePool.metadata, patch.metadata) as object),
              name,
            } as ModelArtsNodePool['metadata']);
      const changed = patched({ ...stored, nodePool: { ...stored.nodePool, metadata } }, patch.spec);
      store.replace(changed);
      return { status: 200, body: nodePoolView(changed) };
    },
    handle(request: ApiRequest): SimResponse {
      // Deletions whose delay has passed are gone (judged from stored times, so a restart resumes them).
      store.removeDeletedBefore(Date.now() - (options.nodeDeleteDelayMs ?? 0));
      const path = withoutTrailingSlash(request.path);
      for (const route of routes) {
        const match = route.method === request.method ? route.path.exec(path) : null;
        if (!match) continue;
        const [projectId = '', poolName = '', nodePoolName = ''] = match.slice(1).map(decodeSegment);
        // Inferred: an id that is not a project id is a bad parameter.
        if (!PROJECT_ID.test(projectId))
          return errorResponse(400, BAD_REQUEST, `Bad request. invalid project_id ${projectId}`);
        return route.handle({ projectId, poolName, nodePoolName }, request);
      }
      // API Gateway routes by method and path: anything else is an API it does not know.
      return errorResponse(404, 'APIG.0101', 'The API does not exist or has not been published in the environment');
    },
  };
}

/** The path that was signed always ends with `/`; the one sent may or may not. */
function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The node pool with all its nodes in the first AZ, as ModelArts fills in a zone the create left open. */
function withZoneFilledIn(nodePool: ModelArtsNodePool): ModelArtsNodePool {
  const spec = nodePool.spec;
  if (!spec) return nodePool;
  const azs = [{ az: AVAILABILITY_ZONES[0], count: spec.resources.count }];
  return { ...nodePool, spec: { ...spec, resources: { ...spec.resources, azs } } };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
