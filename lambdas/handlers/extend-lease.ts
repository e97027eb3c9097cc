import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { ForbiddenError, InvalidLinkError, LeaseRefusedError, NotFoundError } from '../domain/errors';
import { verifyExtendLink } from '../domain/lease-link';
import { nodePoolAccess } from '../domain/nodepool-access';
import { extendPageHtml, extensionAskedHtml } from '../presentation/extend-page';
import { leaseEstimate } from '../use-cases/sweep-leases';
import { extendableLease, submitExtension } from '../use-cases/submit-extension';
import { authenticator, claims, clock, linkKey, policy, requests, workflow } from '../wiring';
import {
  acceptedResponse,
  bodyText,
  errorPageOrJson,
  errorResponse,
  header,
  html,
  pathParameter,
  type HttpResult,
} from './http';

const TITLES: Record<number, string> = {
  400: 'Extension refused',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Extension refused',
};

/**
 * POST /requests/{request_id}/extend with a bearer token and `{"duration": "P7D"}`: an `extend` request
 * for the lease of the node pool that request created (202). GET with a reminder's signed link
 * (`?as=<email>&sig=...`): the page with the form; POST of that form (same query): the extension asked as
 * the link's person, who must be a member of the owning team or an admin (403 otherwise).
 */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context, { requestId: event.pathParameters?.request_id });
  const query = new URLSearchParams(event.rawQueryString ?? '');
  const signed = query.has('sig');
  try {
    const createRequestId = pathParameter(event, 'request_id');
    const requester = signed
      ? await linkPerson(createRequestId, query.get('as') ?? '', query.get('sig') ?? '')
      : await authenticator().emailOf(header(event, 'authorization'));
    const deps = { policy: policy(), requests: requests(), claims: claims(), leases: claims(), workflow: workflow() };
    if (event.requestContext.http.method === 'GET') {
      if (!signed) throw new NotFoundError('open the extension link of a reminder, or POST with a bearer token');
      const { record } = await extendableLease({ createRequestId, requester }, deps);
      const deleteAt = new Date(Date.parse(record.leaseEndsAt!) + record.leaseTerms!.graceSeconds * 1000).toISOString();
      const estimate = leaseEstimate(record, policy());
      return html(
        200,
        extendPageHtml(record, requester, {
          action: `/requests/${encodeURIComponent(createRequestId)}/extend?${query.toString()}`,
          deleteAt,
          timeZone: policy().displayTimeZone,
          ...(estimate ? { estimate } : {}),
        }),
      );
    }
    const duration = signed ? new URLSearchParams(bodyText(event)).get('duration') : parseDuration(bodyText(event));
    const result = await submitExtension(
      { createRequestId, requester, duration, idempotencyKey: header(event, 'idempotency-key') },
      { ...deps, recordMetric, now: clock },
    );
    logger.appendKeys({ requestId: result.requestId });
    logger.info('extension submitted', { requester, createRequestId });
    if (signed) {
      const request = await requests().get(result.requestId);
      return html(202, extensionAskedHtml(request?.nodePoolName ?? '', result.requestId, result.status));
    }
    return acceptedResponse({ requestId: result.requestId, status: result.status, kind: 'extend' });
  } catch (error) {
    return signed ? errorPageOrJson(event, error, TITLES) : errorResponse(error);
  }
};

/** The person a signed extension link names: the signature must match, and they must still be allowed. */
async function linkPerson(createRequestId: string, email: string, signature: string): Promise<string> {
  if (!email || !verifyExtendLink(createRequestId, email, signature, await linkKey()))
    throw new InvalidLinkError('this extension link is not valid (altered or incomplete)');
  const creating = await requests().get(createRequestId);
  if (!creating) throw new NotFoundError(`request ${createRequestId} not found`);
  if (nodePoolAccess(policy(), creating.team, email) !== 'change')
    throw new ForbiddenError(
      `${email} may not extend the lease of node pool ${creating.nodePoolName}: only members of team ${creating.team} or an admin may`,
    );
  return email.toLowerCase();
}

function parseDuration(body: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || '{}');
  } catch {
    throw new LeaseRefusedError('the body must be JSON: {"duration": "P7D"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new LeaseRefusedError('the body must be a JSON object: {"duration": "P7D"}');
  const { duration, ...rest } = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new LeaseRefusedError(`unknown field ${unknown[0]}: the body is {"duration": "P7D"}`);
  return duration;
}
