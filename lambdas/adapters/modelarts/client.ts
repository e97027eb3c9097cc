/**
 * A small ModelArts client for the node-pool API (docs/modelarts.md "Client and signing"):
 * every call signed with AK/SK (`X-Project-Id` included, as the official SDK does), the body
 * serialised once so the bytes signed are the bytes sent, each call bounded by a timeout, and every
 * failure thrown as an error whose name says whether trying again can help (./errors.ts).
 */
import type { NodePool, Pool, ResourceFlavor } from '../../domain/modelarts';
import type { ModelArtsNodePool } from '../../domain/nodepool-request';
import { ModelArtsError, ModelArtsRetryableError, type ModelArtsFailureDetail } from './errors';
import { signRequest, type SigningCredentials } from './signer';

export interface ModelArtsClientOptions {
  /** Base URL: `endpointForRegion(region)`, a private endpoint, or the local simulator. */
  readonly endpoint: string;
  /** Asked before every call, so rotated or temporary credentials are picked up. */
  readonly credentials: () => Promise<SigningCredentials>;
  /** Each call (response body included) is aborted after this long. */
  readonly timeoutMs: number;
  /**
   * `limit` of each page of ListResourceFlavors (ModelArts allows at most 500; default 500).
   * ListNodePools has no paging: it is asked for without a query.
   */
  readonly pageSize?: number;
}

export type { NodeCount, NodeCounts, NodePool, NodePoolStatus, Pool, ResourceFlavor } from '../../domain/modelarts';

/** A list is read while ModelArts answers `metadata.continue`, at most this many pages; more is an error, never a silently short list. */
export const MAX_LIST_PAGES = 20;
const DEFAULT_PAGE_SIZE = 500;
const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
/** PatchNodePool's only documented Content-Type (others may be refused with ModelArts.50004100). */
export const MERGE_PATCH_CONTENT_TYPE = 'application/merge-patch+json';

interface ModelArtsCall {
  /** For error messages, e.g. `create node pool`. */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly projectId: string;
  /** The body's Content-Type (default JSON). */
  readonly contentType?: string;
  /** Segments after `/{version}/{project_id}/`, each URI-encoded here. */
  readonly path: readonly string[];
  /** API version segment: node pools are v2, resource flavors v1. */
  readonly version?: 'v1' | 'v2';
  readonly query?: Readonly<Record<string, string>>;
  /** The serialised JSON body, signed and sent as it is. */
  readonly body?: string;
  readonly absentOn404?: boolean;
}

/** `https://modelarts.{region}.myhuaweicloud.com`; Hong Kong (`ap-southeast-1`) is `.myhuaweicloud.cn` in every SDK. */
export function endpointForRegion(region: string): string {
  const domain = region === 'ap-southeast-1' ? 'myhuaweicloud.cn' : 'myhuaweicloud.com';
  return `https://modelarts.${region}.${domain}`;
}

export class ModelArtsClient {
  private readonly baseUrl: string;

  constructor(private readonly options: ModelArtsClientOptions) {
    this.baseUrl = options.endpoint.replace(/\/+$/, '');
  }

  /** `POST /v2/{project_id}/pools/{pool_name}/nodepools`; ModelArts answers with the node pool. */
  async createNodePool(projectId: string, poolName: string, body: ModelArtsNodePool): Promise<NodePool> {
    const operation = 'create node pool';
    const response = await this.call({
      operation,
      method: 'POST',
      projectId,
      path: ['pools', poolName, 'nodepools'],
      body: JSON.stringify(body),
    });
    return nodePoolFrom(response, operation);
  }

  /** `GET .../nodepools/{nodepool_name}`; undefined when ModelArts answers 404. */
  async showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined> {
    const operation = 'show node pool';
    const response = await this.call({
      operation,
      method: 'GET',
      projectId,
      path: ['pools', poolName, 'nodepools', nodePoolName],
      absentOn404: true,
    });
    return response === undefined ? undefined : nodePoolFrom(response, operation);
  }

  /**
   * `DELETE .../nodepools/{nodepool_name}` (no body); ModelArts answers with the node pool, its nodes
   * deleting. Undefined when ModelArts answers 404 (already gone). Refused for yearly/monthly node pools.
   */
  async deleteNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined> {
    const operation = 'delete node pool';
    const response = await this.call({
      operation,
      method: 'DELETE',
      projectId,
      path: ['pools', poolName, 'nodepools', nodePoolName],
      absentOn404: true,
    });
    return response === undefined ? undefined : nodePoolFrom(response, operation);
  }

  /**
   * `PATCH .../nodepools/{nodepool_name}` with a PatchNodePool body, sent as
   * `application/merge-patch+json` (ModelArts' documented type); ModelArts answers `{metadata, spec}`.
   * A 404 (the node pool is gone) is a ModelArtsError like any other refusal.
   */
  async patchNodePool(projectId: string, poolName: string, nodePoolName: string, body: unknown): Promise<unknown> {
    return this.call({
      operation: 'patch node pool',
      method: 'PATCH',
      projectId,
      path: ['pools', poolName, 'nodepools', nodePoolName],
      body: JSON.stringify(body),
      contentType: MERGE_PATCH_CONTENT_TYPE,
    });
  }

  /**
   * `GET .../nodepools`: every node pool of the pool. ModelArts documents no paging here (no query,
   * no `continue`), so none is asked for; a `metadata.continue` an answer carries anyway is followed
   * rather than taken for the end of the list.
   */
  async listNodePools(projectId: string, poolName: string): Promise<NodePool[]> {
    const operation = 'list node pools';
    const items = await this.listAll({ operation, projectId, path: ['pools', poolName, 'nodepools'] }, undefined);
    return items.map((item) => nodePoolFrom(item, operation));
  }

  /** `GET /v2/{project_id}/pools/{pool_name}`; undefined when ModelArts answers 404. */
  async showPool(projectId: string, poolName: string): Promise<Pool | undefined> {
    const response = await this.call({
      operation: 'show pool',
      method: 'GET',
      projectId,
      path: ['pools', poolName],
      absentOn404: true,
    });
    if (response === undefined) return undefined;
    if (!isObject(response)) throw unexpectedResponse('show pool', 'not a pool');
    return response;
  }

  /** `GET /v1/{project_id}/resourceflavors`, every page. */
  async listResourceFlavors(projectId: string): Promise<ResourceFlavor[]> {
    const list = { operation: 'list resource flavors', projectId, version: 'v1', path: ['resourceflavors'] } as const;
    return (await this.listAll(list, this.options.pageSize ?? DEFAULT_PAGE_SIZE)) as ResourceFlavor[];
  }

  /**
   * Every item of a paged list: a page of `pageSize` at a time (absent: the server's own page), the
   * next one asked for with the `metadata.continue` of the last, until a page has none. More than MAX_LIST_PAGES pages is a
   * ModelArtsError: a caller must not take a short list for the whole (the quota reconciliation
   * would give back the nodes of every node pool missing from it).
   */
  private async listAll(
    list: Pick<ModelArtsCall, 'operation' | 'projectId' | 'path' | 'version'>,
    pageSize: number | undefined,
  ): Promise<unknown[]> {
    const limit: Record<string, string> = pageSize === undefined ? {} : { limit: String(pageSize) };
    const items: unknown[] = [];
    let next: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const response = await this.call({
        ...list,
        method: 'GET',
        query: { ...limit, ...(next ? { continue: next } : {}) },
      });
      if (!isObject(response) || !Array.isArray(response.items))
        throw unexpectedResponse(list.operation, 'no items list');
      items.push(...(response.items as unknown[]));
      next =
        isObject(response.metadata) && typeof response.metadata.continue === 'string' && response.metadata.continue
          ? response.metadata.continue
          : undefined;
      if (!next) return items;
    }
    throw new ModelArtsError(list.operation, {
      errorMsg: `more than ${MAX_LIST_PAGES} pages; the list was not read to its end`,
    });
  }

  /** One signed call to `/{version}/{project_id}/{path}`: the parsed JSON answer, or undefined for a 404 when `absentOn404`. */
  private async call(request: ModelArtsCall): Promise<unknown> {
    const { operation, method, projectId, body } = request;
    const query = request.query ? `?${new URLSearchParams(request.query).toString()}` : '';
    const url = `${this.baseUrl}/${request.version ?? 'v2'}/${[projectId, ...request.path].map(encodeURIComponent).join('/')}${query}`;
    const signed = signRequest({
      ...(await this.options.credentials()),
      method,
      url,
      projectId,
      body,
      headers: body === undefined ? {} : { 'content-type': request.contentType ?? JSON_CONTENT_TYPE },
    });
    // fetch derives Host from the URL, to the value that was signed.
    const { host: _derivedFromUrl, ...headers } = signed;

    let status: number;
    let requestId: string | undefined;
    let text: string;
    try {
      // A redirect is never followed: the signature is for this URL, and ModelArts does not redirect.
      const response = await fetch(url, {
        method,
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.status;
      requestId = response.headers.get('x-request-id') ?? undefined;
      text = await response.text();
    } catch (error) {
      throw new ModelArtsRetryableError(operation, { errorMsg: this.transportFailure(error) });
    }

    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw unexpectedResponse(operation, 'the body is not JSON', status, requestId);
      }
    }
    if (status === 404 && request.absentOn404) return undefined;
    const detail: ModelArtsFailureDetail = { httpStatus: status, ...errorBody(text), requestId };
    const retryable = status === 429 || status >= 500 || detail.errorCode === 'APIG.0308';
    throw retryable ? new ModelArtsRetryableError(operation, detail) : new ModelArtsError(operation, detail);
  }

  private transportFailure(error: unknown): string {
    if (errorField(error, 'name') === 'TimeoutError') return `no response within ${this.options.timeoutMs} ms`;
    // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, a reset socket, ...) as its cause.
    const cause = errorField(error, 'cause') ?? error;
    return `network error: ${String(errorField(cause, 'message') ?? cause)}`;
  }
}

/**
 * A field of a thrown value. Not `instanceof Error`: fetch's errors come from Node's own realm,
 * which is not the caller's under a sandbox such as jest's.
 */
function errorField(error: unknown, field: 'name' | 'message' | 'cause'): unknown {
  return typeof error === 'object' && error !== null && field in error
    ? (error as Record<typeof field, unknown>)[field]
    : undefined;
}

/** `{error_code, error_msg}`; a body that is not (a gateway's HTML page) is kept as the message, briefly. */
function errorBody(text: string): Pick<ModelArtsFailureDetail, 'errorCode' | 'errorMsg'> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) {
      return {
        ...(typeof parsed.error_code === 'string' ? { errorCode: parsed.error_code } : {}),
        ...(typeof parsed.error_msg === 'string' ? { errorMsg: parsed.error_msg } : {}),
      };
    }
  } catch {
    // not JSON: fall through
  }
  return text.trim() === '' ? {} : { errorMsg: text.trim().slice(0, 200) };
}

/**
 * The node-pool shape is checked only as far as poolgate relies on it (a name). A 2xx that is not a
 * node pool is what a truncating proxy produces; it counts as retryable, and the workflow shows
 * before it creates, so a retry never creates twice.
 */
function nodePoolFrom(value: unknown, operation: string): NodePool {
  if (isObject(value) && isObject(value.metadata) && typeof value.metadata.name === 'string') return value as NodePool;
  throw unexpectedResponse(operation, 'not a node pool');
}

function unexpectedResponse(
  operation: string,
  what: string,
  httpStatus?: number,
  requestId?: string,
): ModelArtsRetryableError {
  return new ModelArtsRetryableError(operation, { httpStatus, errorMsg: `unexpected response: ${what}`, requestId });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
