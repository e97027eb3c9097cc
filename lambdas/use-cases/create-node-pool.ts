/**
 * CreateNodePool (after the last approval):
 *  1. build the ModelArts body: the request's own, plus billing annotations and poolgate's ownership label;
 *  2. show first: a node pool of that name carrying our label is ours already (a retried or timed-out create);
 *     one without it is someone else's and is never claimed;
 *  3. create it, and record `node_pool_created` with the annotations sent, moving the request to CREATED.
 * Retryable ModelArts errors are thrown for the workflow's Retry; final ones for its Catch.
 */
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import { billingAnnotations } from '../domain/billing';
import { NotFoundError } from '../domain/errors';
import type { NodePoolRequest } from '../domain/nodepool-request';
import type { PoolRequestRecord } from '../domain/pool-request';
import { newStep, stepId } from '../domain/steps';

/** The Kubernetes label poolgate puts on every node pool it creates: the request id. */
export const OWNER_LABEL = 'poolgate/request-id';

export interface NodePoolApi {
  showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePoolRequest | undefined>;
  createNodePool(projectId: string, poolName: string, body: NodePoolRequest): Promise<unknown>;
}

export class NodePoolConflictError extends Error {
  override name = 'NodePoolConflictError';
}

export interface CreateDeps {
  readonly requests: RequestRepository;
  readonly modelArts: NodePoolApi;
  readonly publicBaseUrl: string;
  /** The order id a finance approver entered, for yearly/monthly requests that came without one. */
  readonly orderId?: string;
}

export function modelArtsBody(request: PoolRequestRecord, publicBaseUrl: string, orderId?: string): NodePoolRequest {
  const body = structuredClone(request.body);
  const annotations = billingAnnotations(body, { consoleUrl: `${publicBaseUrl}/requests/${request.requestId}`, orderId });
  const resources = body.spec.resources;
  return {
    ...body,
    metadata: { ...body.metadata, annotations },
    spec: { ...body.spec, resources: { ...resources, labels: { ...resources.labels, [OWNER_LABEL]: request.requestId } } },
  };
}

export async function createNodePool(requestId: string, deps: CreateDeps): Promise<{ nodePoolName: string; alreadyExisted: boolean }> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  const body = modelArtsBody(request, deps.publicBaseUrl, deps.orderId);

  const existing = await deps.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName);
  if (existing && existing.spec?.resources?.labels?.[OWNER_LABEL] !== requestId) {
    throw new NodePoolConflictError(`node pool ${request.nodePoolName} already exists in pool ${request.poolName} and was not created by this request`);
  }
  if (!existing) await deps.modelArts.createNodePool(request.projectId, request.poolName, body);

  await deps.requests.recordStep(
    requestId,
    newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok', {
      detail: { nodePool: request.nodePoolName, annotations: body.metadata.annotations, ...(existing ? { alreadyExisted: true } : {}) },
    }),
    { status: 'CREATED' },
  );
  return { nodePoolName: request.nodePoolName, alreadyExisted: existing !== undefined };
}
