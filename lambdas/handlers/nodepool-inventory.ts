import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { inventory } from '../use-cases/read-nodepools';
import { authenticator, claims, linkKey, policy, requests } from '../wiring';
import { errorResponse, header, json, type HttpResult } from './http';

/** GET /nodepools — poolgate's inventory: `{items, nextCursor}`, a team's node pools newest first; team, limit, cursor. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context);
  try {
    const viewer = await authenticator().emailOf(header(event, 'authorization'));
    const deps = { policy: policy(), claims: claims(), requests: requests(), linkKey: await linkKey() };
    return json(200, await inventory(viewer, event.queryStringParameters ?? {}, deps));
  } catch (error) {
    return errorResponse(error);
  }
};
