/**
 * HTTP plumbing shared by the API handlers: reading API Gateway v2 events and writing responses in
 * poolgate's error shape `{"error_code","error_msg"}`. The one place errors become statuses.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ErrorBody, SubmitAccepted } from '../../contracts/api';
import { logger } from '../adapters/logger';
import { linkProblemPage } from '../presentation/approval-page';
import {
  AlreadyDecidedError,
  AmbiguousIdError,
  ApprovalClosedError,
  BadQueryError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InvalidLinkError,
  LeaseCapError,
  LeaseNotExtendableError,
  LeaseRefusedError,
  NotCancellableError,
  NotFoundError,
  NodePoolExistsError,
  NotRetryableError,
  OpenRequestExistsError,
  PayloadTooLargeError,
  PoolGateError,
  PrepaidNodePoolError,
  PrepaidScaleDownError,
  ServiceUnavailableError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/errors';

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };

const SECURITY_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...SECURITY_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

/** 202 with the accepted request and `Location` naming it (submit, delete, scale, extend). */
export function acceptedResponse(accepted: Omit<SubmitAccepted, 'links'>): HttpResult {
  const self = `/requests/${accepted.requestId}`;
  const body: SubmitAccepted = { ...accepted, links: { self } };
  return json(202, body, { location: self });
}

export function html(statusCode: number, body: string): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      ...SECURITY_HEADERS,
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    },
    body,
  };
}

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}

export function bodyText(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export function pathParameter(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new NotFoundError(`missing path parameter ${name}`);
  return value;
}

const STATUS_BY_ERROR: ReadonlyArray<[abstract new (...args: never[]) => PoolGateError, number]> = [
  [ValidationError, 400],
  [BadQueryError, 400],
  [LeaseRefusedError, 400],
  [AmbiguousIdError, 400],
  [UnauthenticatedError, 401],
  [ForbiddenError, 403],
  [InvalidLinkError, 403],
  [NotFoundError, 404],
  [OpenRequestExistsError, 409],
  [NodePoolExistsError, 409],
  [PrepaidNodePoolError, 409],
  [PrepaidScaleDownError, 409],
  [AlreadyDecidedError, 409],
  [NotCancellableError, 409],
  [NotRetryableError, 409],
  [LeaseCapError, 409],
  [LeaseNotExtendableError, 409],
  [ApprovalClosedError, 410],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [IdempotencyKeyReusedError, 422],
  [ServiceUnavailableError, 503],
];

export interface HttpError {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Record<string, string>;
}

/** Maps any thrown value to a status and the documented error body; unexpected errors are logged, not shown. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof PoolGateError) {
    const statusCode = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1];
    if (statusCode) {
      const headers: Record<string, string> = {};
      if (error instanceof UnauthenticatedError) headers['www-authenticate'] = 'Bearer';
      if (error instanceof ServiceUnavailableError) headers['retry-after'] = String(error.retryAfterSeconds);
      return { statusCode, code: error.code, message: error.message, headers };
    }
  }
  logger.error('unexpected error', { error: error as Error });
  return { statusCode: 500, code: 'PoolGate.0500', message: 'internal error', headers: {} };
}

export function errorResponse(error: unknown): HttpResult {
  const e = toHttpError(error);
  return json(e.statusCode, { error_code: e.code, error_msg: e.message } satisfies ErrorBody, e.headers);
}

/**
 * The error answer of a page a person opens from a link: a browser (Accept: text/html) gets a page
 * that says what is wrong, titled by status (`titles`), an API client the JSON error body; both with
 * the same status and documented headers.
 */
export function errorPageOrJson(
  event: APIGatewayProxyEventV2,
  error: unknown,
  titles: Readonly<Record<number, string>>,
): HttpResult {
  if (!(header(event, 'accept') ?? '').includes('text/html')) return errorResponse(error);
  const e = toHttpError(error);
  const page = html(e.statusCode, linkProblemPage(titles[e.statusCode] ?? 'Something went wrong', e.message));
  return { ...page, headers: { ...page.headers, ...e.headers } };
}

/** `?dryRun=`: absent or "false" -> false, "true" -> true, anything else a 400. */
export function isDryRun(value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new BadQueryError('dryRun: must be "true" or "false"');
}
