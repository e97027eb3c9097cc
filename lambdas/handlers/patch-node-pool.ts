import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { LeaseRefusedError, UnsupportedMediaTypeError } from '../domain/errors';
import { dryRunScale, submitScale } from '../use-cases/submit-scale';
import { authenticator, claims, clock, modelArts, policy, requests, workflow } from '../wiring';
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

/** The Content-Types a PATCH may carry: ModelArts' documented one, and what Huawei's SDKs send. */
export const PATCH_CONTENT_TYPES = ['application/merge-patch+json', 'application/json'] as const;

function checkContentType(value: string | undefined): void {
  const type = (value ?? '').split(';')[0].trim().toLowerCase();
  if (!(PATCH_CONTENT_TYPES as readonly string[]).includes(type))
    throw new UnsupportedMediaTypeError(
      `Content-Type must be application/merge-patch+json (or application/json), not ${value ? JSON.stringify(value) : 'absent'}`,
    );
}

/**
 * PATCH /v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name} — ModelArts' PatchNodePool, gated:
 * 202 with a `scale` request (Location: the request). With `?dryRun=true`: what would happen (200), nothing recorded.
 */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context);
  try {
    const requester = await authenticator().emailOf(header(event, 'authorization'));
    // Only a create takes a lease (issue 18); a PATCH never changes one, so the header is refused, not ignored.
    if (header(event, 'x-lease') !== undefined)
      throw new LeaseRefusedError(
        'X-Lease: only a create takes a lease; a lease changes only through an extension (POST /requests/{id}/extend)',
      );
    checkContentType(header(event, 'content-type'));
    const input = {
      requester,
      projectId: pathParameter(event, 'project_id'),
      poolName: pathParameter(event, 'pool_name'),
      nodePoolName: pathParameter(event, 'nodepool_name'),
      rawBody: bodyText(event),
    };
    if (isDryRun(event.queryStringParameters?.dryRun)) {
      return json(
        200,
        await dryRunScale(input, { policy: policy(), claims: claims(), requests: requests(), modelArts: modelArts() }),
      );
    }
    const result = await submitScale(
      { ...input, idempotencyKey: header(event, 'idempotency-key') },
      {
        policy: policy(),
        requests: requests(),
        claims: claims(),
        workflow: workflow(),
        modelArts: modelArts(),
        recordMetric,
        now: clock,
      },
    );
    logger.appendKeys({ requestId: result.requestId });
    logger.info('scale submitted', { requester });
    return acceptedResponse({ requestId: result.requestId, status: result.status, kind: 'scale' });
  } catch (error) {
    return errorResponse(error);
  }
};
