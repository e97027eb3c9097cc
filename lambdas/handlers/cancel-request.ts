import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { cancelRequest } from '../use-cases/cancel-request';
import { claims, approvals, authenticator, notifier, policy, quotas, requests, workflow } from '../wiring';
import { errorResponse, header, json, pathParameter, type HttpResult } from './http';

/** POST /requests/{request_id}/cancel — by the requester or an admin, before provisioning. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context, { requestId: event.pathParameters?.request_id });
  try {
    const actor = await authenticator().emailOf(header(event, 'authorization'));
    const view = await cancelRequest(pathParameter(event, 'request_id'), actor, {
      policy: policy(),
      requests: requests(),
      approvals: approvals(),
      quotas: quotas(),
      workflow: workflow(),
      notifier: await notifier(),
      recordMetric,
      leases: claims(),
    });
    return json(200, view);
  } catch (error) {
    return errorResponse(error);
  }
};
