import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger } from '../adapters/logger';
import { submitRequest } from '../use-cases/submit-request';
import { authenticator, claims, policy, requests, workflow } from '../wiring';
import { bodyText, errorResponse, header, json, pathParameter, type HttpResult } from './http';

/** POST /v2/{project_id}/pools/{pool_name}/nodepools — the ModelArts request, gated. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  logger.addContext(context ?? ({} as Context));
  try {
    const requester = await authenticator().emailOf(header(event, 'authorization'));
    const result = await submitRequest(
      {
        requester,
        projectId: pathParameter(event, 'project_id'),
        poolName: pathParameter(event, 'pool_name'),
        rawBody: bodyText(event),
        idempotencyKey: header(event, 'idempotency-key'),
        justification: header(event, 'x-justification'),
      },
      { policy: policy(), requests: requests(), claims: claims(), workflow: workflow() },
    );
    logger.info('request submitted', { requestId: result.requestId, requester });
    const self = `/requests/${result.requestId}`;
    return json(202, { requestId: result.requestId, status: result.status, links: { self } }, { location: self });
  } catch (error) {
    return errorResponse(error);
  }
};
