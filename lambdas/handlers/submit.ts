import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { dryRunRequest } from '../use-cases/dry-run-request';
import { submitRequest } from '../use-cases/submit-request';
import { leaseView } from '../domain/lease';
import { authenticator, claims, clock, modelArts, policy, quotas, requests, workflow } from '../wiring';
import {
  acceptedResponse,
  bodyText,
  errorResponse,
  header,
  isDryRun,
  json,
  pathParameter,
  type HttpResult,
} from './http';

/**
 * POST /v2/{project_id}/pools/{pool_name}/nodepools — the ModelArts request, gated.
 * With `?dryRun=true`: what would happen (200), nothing recorded.
 */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context);
  try {
    const requester = await authenticator().emailOf(header(event, 'authorization'));
    const input = {
      requester,
      projectId: pathParameter(event, 'project_id'),
      poolName: pathParameter(event, 'pool_name'),
      rawBody: bodyText(event),
      justification: header(event, 'x-justification'),
      lease: header(event, 'x-lease'),
    };
    if (isDryRun(event.queryStringParameters?.dryRun)) {
      return json(
        200,
        await dryRunRequest(input, {
          policy: policy(),
          requests: requests(),
          claims: claims(),
          quotas: quotas(),
          modelArts: modelArts(),
        }),
      );
    }
    const result = await submitRequest(
      { ...input, idempotencyKey: header(event, 'idempotency-key') },
      { policy: policy(), requests: requests(), claims: claims(), workflow: workflow(), recordMetric, now: clock },
    );
    logger.appendKeys({ requestId: result.requestId });
    logger.info('request submitted', { requester });
    return acceptedResponse({
      requestId: result.requestId,
      status: result.status,
      kind: 'create',
      ...(result.lease ? { lease: leaseView(result.lease) } : {}),
    });
  } catch (error) {
    return errorResponse(error);
  }
};
