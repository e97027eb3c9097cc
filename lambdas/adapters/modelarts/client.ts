/**
 * A small ModelArts client for the node-pool API: every call signed with AK/SK, serialised once
 * (the exact bytes signed are the bytes sent), bounded by a timeout, and failed with an error that
 * says whether retrying can help.
 */
import type { ModelArtsNodePool } from '../../domain/nodepool-request';
import { ModelArtsError, ModelArtsRetryableError, type ModelArtsErrorDetail } from './errors';
import { signRequest, type Credentials } from './signer';

export interface ModelArtsClientOptions {
  readonly endpoint: string;
  readonly credentials: () => Promise<Credentials>;
  readonly timeoutMs: number;
}

/** A node pool as ModelArts returns it (the request shape plus a status). */
export type NodePool = ModelArtsNodePool & {
  metadata: ModelArtsNodePool['metadata'] & { labels?: Record<string, string> };
  spec: NonNullable<ModelArtsNodePool['spec']> & { resources: NonNullable<NonNullable<ModelArtsNodePool['spec']>['resources']> };
  status?: Record<string, unknown>;
};

/** `https://modelarts.{region}.myhuaweicloud.com`, except Hong Kong (`.myhuaweicloud.cn` in every SDK). */
export function endpointForRegion(region: string): string {
  return region === 'ap-southeast-1' ? 'https://modelarts.ap-southeast-1.myhuaweicloud.cn' : `https://modelarts.${region}.myhuaweicloud.com`;
}

const path = (...segments: string[]) => segments.map(encodeURIComponent).join('/');

export class ModelArtsClient {
  constructor(private readonly options: ModelArtsClientOptions) {}

  async createNodePool(projectId: string, poolName: string, body: unknown): Promise<NodePool> {
    return (await this.call('create node pool', 'POST', `/v2/${path(projectId)}/pools/${path(poolName)}/nodepools`, body)) as NodePool;
  }

  /** The node pool, or undefined when ModelArts answers 404. */
  async showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined> {
    return (await this.call('show node pool', 'GET', `/v2/${path(projectId)}/pools/${path(poolName)}/nodepools/${path(nodePoolName)}`, undefined, true)) as
      | NodePool
      | undefined;
  }

  async listNodePools(projectId: string, poolName: string): Promise<NodePool[]> {
    const list = (await this.call('list node pools', 'GET', `/v2/${path(projectId)}/pools/${path(poolName)}/nodepools`)) as { items?: NodePool[] };
    return list.items ?? [];
  }

  private async call(operation: string, method: string, pathname: string, body?: unknown, notFoundIsEmpty = false): Promise<unknown> {
    const url = new URL(pathname, this.options.endpoint);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = signRequest(
      { method, url, headers: text === undefined ? {} : { 'content-type': 'application/json;charset=UTF-8' }, body: text },
      await this.options.credentials(),
    );
    const { host: _host, ...sent } = headers; // fetch sets Host itself, to the same value
    let response: Response;
    try {
      response = await fetch(url, { method, headers: sent, body: text, signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (error) {
      const e = error as Error;
      throw new ModelArtsRetryableError(operation, { errorMsg: e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : e.message });
    }
    const raw = await response.text();
    if (response.ok) return raw ? JSON.parse(raw) : {};
    if (response.status === 404 && notFoundIsEmpty) return undefined;
    const detail = errorDetail(response, raw);
    if (response.status === 429 || response.status >= 500 || detail.errorCode === 'APIG.0308') throw new ModelArtsRetryableError(operation, detail);
    throw new ModelArtsError(operation, detail);
  }
}

function errorDetail(response: Response, raw: string): ModelArtsErrorDetail {
  let body: { error_code?: string; error_msg?: string } = {};
  try {
    body = JSON.parse(raw) as typeof body;
  } catch {
    body = { error_msg: raw.slice(0, 200) };
  }
  return {
    httpStatus: response.status,
    ...(body.error_code ? { errorCode: body.error_code } : {}),
    ...(body.error_msg ? { errorMsg: body.error_msg } : {}),
    ...(response.headers.get('x-request-id') ? { requestId: response.headers.get('x-request-id') ?? undefined } : {}),
  };
}
