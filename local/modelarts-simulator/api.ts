/**
 * The ModelArts routes the simulator serves, as plain functions from a (signed, already verified)
 * request to a response. Error bodies are ModelArts' `{error_code, error_msg}`; codes the API pages
 * do not document are marked "inferred" (local/modelarts-simulator/README.md lists them).
 */
import { ModelArtsNodePoolSchema, parseNodePoolRequest } from '../../lambdas/domain/nodepool-request';
import { flavorConfig, poolView, resourceFlavors, type SimulatorCatalog } from './catalog';
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
/** ListNodePools' `limit`, as the notes give it for ModelArts' paged lists (inferred for this one). */
const MAX_LIMIT = 500;
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
  /** ShowNodePool / ListNodePools item: the stored node pool plus where its nodes are. */
  function nodePoolView(stored: StoredNodePool) {
    const resources = stored.nodePool.spec?.resources;
    const ready = Date.now() - Date.parse(stored.createdAt) >= options.nodeReadyDelayMs;
    const fails = flavorConfig(catalog, resources?.flavor)?.nodesFail === true;
    const state = stored.deleteRequestedAt ? 'deleting' : !ready ? 'creating' : fails ? 'abnormal' : 'available';
    // A one-element list per state, as the Terraform provider reads it (the SDK types it as one object).
    const buckets = resources
      ? { [state]: [{ flavor: resources.flavor, count: resources.count, maxCount: resources.maxCount }] }
      : {};
    return { ...stored.nodePool, status: { resources: buckets } };
  }

  const createNodePool: Handler = ({ projectId, poolName }, request) => {
    const parsed = parseNodePoolRequest(request.body, ModelArtsNodePoolSchema);
    if (!parsed.ok) return errorResponse(400, BAD_REQUEST, `Bad request. ${parsed.message}`);
    const nodePool = parsed.value;
    const resources = nodePool.spec?.resources;
    // The API page: in a physical pool maxCount is the same as count ("pool does not support ..." is a tester's report).
    if (resources && poolView(poolName, catalog).spec.type === 'Dedicate' && resources.maxCount !== resources.count) {
      return errorResponse(400, BAD_REQUEST, 'Bad request. pool does not support maxCount more than count now');
    }
    // Inferred: the duplicate-name answer is not documented.
    if (store.find(projectId, poolName, nodePool.metadata.name)) {
      return errorResponse(400, BAD_REQUEST, `Bad request. node pool ${nodePool.metadata.name} already exists`);
    }
    store.add({ projectId, poolName, createdAt: new Date().toISOString(), nodePool });
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
    const resources = stored.nodePool.spec?.resources;
    return {
      status: 200,
      body: {
        apiVersion: stored.nodePool.apiVersion ?? 'v2',
        kind: 'NodePool',
        metadata: { name: nodePoolName },
        spec: stored.nodePool.spec,
        status: {
          resources: resources
            ? { deleting: { flavor: resources.flavor, count: resources.count, maxCount: resources.maxCount } }
            : {},
        },
      },
    };
  };

  /**
   * Oldest first; `limit` items at a time (all without one), `metadata.continue` while more remain.
   * The token names the last item given (creation time and name), so a node pool deleted between
   * two pages does not make the next page skip one.
   */
  const listNodePools: Handler = ({ projectId, poolName }, request) => {
    const query = new URLSearchParams(request.query ?? '');
    const limitText = query.get('limit');
    const limit = limitText === null || limitText === '0' ? Infinity : Number(limitText);
    if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT)) {
      return errorResponse(400, BAD_REQUEST, `Bad request. limit must be an integer from 0 to ${MAX_LIMIT}`);
    }
    const all = store
      .list(projectId, poolName)
      .sort(
        (a, b) =>
          a.createdAt.localeCompare(b.createdAt) || a.nodePool.metadata.name.localeCompare(b.nodePool.metadata.name),
      );
    const token = query.get('continue');
    let from = 0;
    if (token !== null) {
      const after = continueAfter(token);
      if (!after) return errorResponse(400, BAD_REQUEST, 'Bad request. invalid continue');
      from = all.findIndex(
        (n) =>
          n.createdAt > after.createdAt || (n.createdAt === after.createdAt && n.nodePool.metadata.name > after.name),
      );
      if (from === -1) from = all.length;
    }
    const page = all.slice(from, from + limit);
    const last = page.at(-1);
    const more = last !== undefined && from + page.length < all.length;
    const metadata = more
      ? { continue: Buffer.from(JSON.stringify([last.createdAt, last.nodePool.metadata.name])).toString('base64url') }
      : {};
    return { status: 200, body: { apiVersion: 'v2', kind: 'NodePoolList', metadata, items: page.map(nodePoolView) } };
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

/** The last item a `continue` token names; undefined for a token the simulator did not give. */
function continueAfter(token: string): { createdAt: string; name: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === 'string'))
      return { createdAt: parsed[0] as string, name: parsed[1] as string };
  } catch {
    // not a token of ours: fall through
  }
  return undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
