import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { LeaseRefusedError } from '../domain/errors';
import { dryRunDelete, submitDelete } from '../use-cases/submit-delete';
import { authenticator, claims, clock, policy, requests, workflow } from '../wiring';
import { acceptedResponse, errorResponse, header, isDryRun, json, pathParameter, type HttpResult } from './http';

/**
 * DELETE /v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name} — ModelArts' DeleteNodePool, gated:
 * 202 with a `delete` request (Location: the request). With `?dryRun=true`: what would happen (200), nothing recorded.
 */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context);
  try {
    const requester = await authenticator().emailOf(header(event, 'authorization'));
    if (header(event, 'x-lease') !== undefined)
      throw new LeaseRefusedError(
        'X-Lease: only a create takes a lease; a lease changes only through an extension (POST /requests/{id}/extend)',
      );
    const input = {
      requester,
      projectId: pathParameter(event, 'project_id'),
      poolName: pathParameter(event, 'pool_name'),
      nodePoolName: pathParameter(event, 'nodepool_name'),
    };
    if (isDryRun(event.queryStringParameters?.dryRun)) {
      return json(200, await dryRunDelete(input, { policy: policy(), claims: claims(), requests: requests() }));
    }
    const result = await submitDelete(
      { ...input, idempotencyKey: header(event, 'idempotency-key') },
      { policy: policy(), requests: requests(), claims: claims(), workflow: workflow(), recordMetric, now: clock },
    );
    logger.appendKeys({ requestId: result.requestId });
    logger.info('delete submitted', { requester });
    return acceptedResponse({ requestId: result.requestId, status: result.status, kind: 'delete' });
  } catch (error) {
    return errorResponse(error);
  }
};
