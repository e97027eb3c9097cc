import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { getRequest } from '../use-cases/get-request';
import { authenticator, claims, linkKey, policy, publicBaseUrl, requests } from '../wiring';
import { errorResponse, header, json, pathParameter, type HttpResult } from './http';

/** GET /requests/{request_id} — status and the step timeline, for whoever may see the request. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context, { requestId: event.pathParameters?.request_id });
  try {
    const viewer = await authenticator().emailOf(header(event, 'authorization'));
    const deps = {
      policy: policy(),
      requests: requests(),
      claims: claims(),
      linkKey: await linkKey(),
      publicBaseUrl: publicBaseUrl(),
    };
    return json(200, await getRequest(pathParameter(event, 'request_id'), viewer, deps));
  } catch (error) {
    return errorResponse(error);
  }
};
