import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { listRequests } from '../use-cases/list-requests';
import { approvals, authenticator, clock, linkKey, policy, publicBaseUrl, requests } from '../wiring';
import { errorResponse, header, json, type HttpResult } from './http';

/** GET /requests — `{items, nextCursor}`, newest first; filters status, mine, team, awaiting=me; limit, cursor. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context);
  try {
    const viewer = await authenticator().emailOf(header(event, 'authorization'));
    const deps = {
      policy: policy(),
      requests: requests(),
      now: clock,
      approvals: approvals(),
      linkKey: await linkKey(),
      publicBaseUrl: publicBaseUrl(),
    };
    return json(200, await listRequests(viewer, event.queryStringParameters ?? {}, deps));
  } catch (error) {
    return errorResponse(error);
  }
};
