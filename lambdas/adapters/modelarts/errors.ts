/**
 * ModelArts call failures. The class name is what Step Functions matches: retryable errors go to the
 * workflow's Retry (backoff with jitter), final ones to its Catch (the request ends FAILED).
 */
export interface ModelArtsErrorDetail {
  readonly httpStatus?: number;
  readonly errorCode?: string;
  readonly errorMsg?: string;
  readonly requestId?: string;
}

function describe(operation: string, d: ModelArtsErrorDetail): string {
  const parts = [d.httpStatus ? `HTTP ${d.httpStatus}` : undefined, d.errorCode, d.errorMsg, d.requestId ? `X-Request-Id ${d.requestId}` : undefined];
  return `ModelArts ${operation} failed: ${parts.filter(Boolean).join(', ')}`;
}

/** 429 / APIG.0308 throttling, any 5xx, network errors and timeouts. */
export class ModelArtsRetryableError extends Error {
  override name = 'ModelArtsRetryableError';
  constructor(
    operation: string,
    readonly detail: ModelArtsErrorDetail,
  ) {
    super(describe(operation, detail));
  }
}

/** Any other 4xx: retrying would not help. */
export class ModelArtsError extends Error {
  override name = 'ModelArtsError';
  constructor(
    operation: string,
    readonly detail: ModelArtsErrorDetail,
  ) {
    super(describe(operation, detail));
  }
}
