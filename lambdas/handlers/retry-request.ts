import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { retryRequest } from '../use-cases/retry-request';
import { authenticator, claims, clock, policy, quotas, requests, workflow } from '../wiring';
import { errorResponse, header, json, pathParameter, type HttpResult } from './http';

/** POST /requests/{request_id}/retry — by the requester or an admin, for a FAILED request. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context, { requestId: event.pathParameters?.request_id });
  try {
    const actor = await authenticator().emailOf(header(event, 'authorization'));
    const view = await retryRequest(pathParameter(event, 'request_id'), actor, {
      policy: policy(),
      requests: requests(),
      now: clock,
      quotas: quotas(),
      claims: claims(),
      workflow: workflow(),
    });
    return json(202, view, { location: view.links.self });
  } catch (error) {
    return errorResponse(error);
  }
};
