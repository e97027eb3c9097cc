import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { listNodePools, showNodePool } from '../use-cases/read-nodepools';
import { authenticator, claims, clock, modelArts, policy } from '../wiring';
import { errorResponse, header, json, pathParameter, type HttpResult } from './http';

/**
 * GET /v2/{project_id}/pools/{pool_name}/nodepools[/{nodepool_name}] — ModelArts' ShowNodePool and
 * ListNodePools, answered as ModelArts answers them, for the node pools the caller may read.
 */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context);
  try {
    const viewer = await authenticator().emailOf(header(event, 'authorization'));
    const deps = { policy: policy(), claims: claims(), modelArts: modelArts(), now: clock };
    const pool = { projectId: pathParameter(event, 'project_id'), poolName: pathParameter(event, 'pool_name') };
    const name = event.pathParameters?.nodepool_name;
    return json(
      200,
      name
        ? await showNodePool(viewer, { ...pool, nodePoolName: name }, deps)
        : await listNodePools(viewer, pool, deps),
    );
  } catch (error) {
    return errorResponse(error);
  }
};
