import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { requestPageHtml } from '../presentation/request-page';
import { openRequestPage } from '../use-cases/request-page';
import { leaseView } from '../domain/lease';
import { claims, linkKey, policy, requests } from '../wiring';
import { errorPageOrJson, html, pathParameter, type HttpResult } from './http';

const TITLES: Record<number, string> = { 403: 'Link not valid', 404: 'Not found' };

/** GET /requests/{request_id}/page?sig=... — the request, its billing and its timeline, read-only (HTML). */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context, { requestId: event.pathParameters?.request_id });
  try {
    const signature = new URLSearchParams(event.rawQueryString ?? '').get('sig') ?? '';
    const request = await openRequestPage(pathParameter(event, 'request_id'), signature, {
      requests: requests(),
      linkKey: await linkKey(),
    });
    const record = request.lease ? await claims().record(request) : undefined;
    const lease =
      request.lease && record?.creatingRequestId === request.requestId ? leaseView(request.lease, record) : undefined;
    return html(
      200,
      requestPageHtml(request, {
        price: policy().pricing[request.flavor],
        nodeTracking: policy().nodeTracking.enabled,
        timeZone: policy().displayTimeZone,
        ...(lease ? { lease } : {}),
      }),
    );
  } catch (error) {
    return errorPageOrJson(event, error, TITLES);
  }
};
