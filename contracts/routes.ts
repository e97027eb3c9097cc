import type { HttpFunctionId } from './functions';

/** One HTTP API route: API Gateway route key syntax (`{param}` path parameters). */
export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly functionId: HttpFunctionId;
}

/** Every public route. The stack wires exactly these; the local HTTP server routes exactly these. */
export const ROUTES: readonly RouteDefinition[] = [
  { method: 'POST', path: '/v2/{project_id}/pools/{pool_name}/nodepools', functionId: 'submit' },
  { method: 'GET', path: '/v2/{project_id}/pools/{pool_name}/nodepools', functionId: 'readNodePools' },
  {
    method: 'GET',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}',
    functionId: 'readNodePools',
  },
  {
    method: 'PATCH',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}',
    functionId: 'patchNodePool',
  },
  {
    method: 'DELETE',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}',
    functionId: 'deleteNodePool',
  },
  { method: 'GET', path: '/requests', functionId: 'listRequests' },
  { method: 'GET', path: '/nodepools', functionId: 'nodePoolInventory' },
  { method: 'GET', path: '/requests/{request_id}', functionId: 'getRequest' },
  { method: 'GET', path: '/requests/{request_id}/page', functionId: 'requestPage' },
  { method: 'POST', path: '/requests/{request_id}/cancel', functionId: 'cancelRequest' },
  { method: 'POST', path: '/requests/{request_id}/retry', functionId: 'retryRequest' },
  { method: 'POST', path: '/requests/{request_id}/extend', functionId: 'extendLease' },
  { method: 'GET', path: '/requests/{request_id}/extend', functionId: 'extendLease' },
  { method: 'POST', path: '/slack/interactions', functionId: 'slackInteractions' },
  { method: 'GET', path: '/approvals/{approval_id}', functionId: 'approvals' },
  { method: 'POST', path: '/approvals/{approval_id}', functionId: 'approvals' },
  { method: 'GET', path: '/openapi.json', functionId: 'openapi' },
  { method: 'GET', path: '/health', functionId: 'health' },
];
