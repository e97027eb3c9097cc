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
import type { NodePoolStore, StoredNodePool } from './store';

export interface ApiRequest {
  readonly method: string;
  /** As on the wire (percent-encoded), without the query. */
  readonly path: string;
  /** As on the wire: empty, or `?` and the query. */
  readonly query?: string;
  readonly body: string;
}

export interface SimResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export const BAD_REQUEST = 'ModelArts.50004000';
/** Inferred: the v2 API documents no "node pool not found" code; pool-not-found is ModelArts.50015001. */
export const NODE_POOL_NOT_FOUND = 'ModelArts.50015002';

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
  ['pool', 'GET', /^\/v2\/[^/]+\/pools\/[^/]+$/],
  ['flavors', 'GET', /^\/v1\/[^/]+\/resourceflavors$/],
];

/** Which ModelArts call a request is (fault rules select calls by it); undefined for anything else. */
export function operationOf(method: string, path: string): SimOperation | undefined {
  const trimmed = withoutTrailingSlash(path);
  return OPERATIONS.find(([, m, pattern]) => m === method && pattern.test(trimmed))?.[0];
}

/** Whether a request is a create-node-pool call (the simulator records those). */
export function isCreateNodePool(method: string, path: string): boolean {
  return method === 'POST' && NODE_POOLS.test(withoutTrailingSlash(path));
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
   * for the state the nodes are in: `creating` until the delay has passed, then `available`
   * (`abnormal` for a flavor whose nodes fail), `deleting` in a delete's answer.
   */
  function nodePoolView(stored: StoredNodePool, deleting = false) {
    const { apiVersion, kind, metadata, spec } = stored.nodePool;
    const resources = spec?.resources;
    const ready = Date.now() - Date.parse(stored.createdAt) >= options.nodeReadyDelayMs;
    const fails = flavorConfig(catalog, resources?.flavor)?.nodesFail === true;
    const state =
      deleting || stored.deleteRequestedAt ? 'deleting' : !ready ? 'creating' : fails ? 'abnormal' : 'available';
    const buckets = resources
      ? {
          [state]: {
            flavor: resources.flavor,
            count: resources.count,
            maxCount: resources.maxCount,
            azs: resources.azs ?? [],
            nodePool: metadata.name,
          },
        }
      : {};
    return {
      apiVersion,
      kind,
      metadata: { name: metadata.name },
      ...(spec ? { spec } : {}),
      status: { resources: buckets },
    };
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
    {
      method: 'GET',
      path: /^\/v1\/([^/]+)\/resourceflavors$/,
      handle: () => ({ status: 200, body: resourceFlavors(catalog) }),
    },
  ];

  return {
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
