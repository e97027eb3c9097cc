import type { WorkflowErrorName } from '../../../contracts/workflow';

/**
 * ModelArts call failures. The error name is what Step Functions matches: `ModelArtsRetryableError`
 * goes to the workflow's Retry (backoff with jitter), `ModelArtsError` to its Catch (the request
 * ends FAILED). Both keep what ModelArts said, for the request's history and for support tickets
 * (Huawei support asks for the X-Request-Id).
 */
export interface ModelArtsFailureDetail {
  /** Absent when no response came back (network error, timeout). */
  readonly httpStatus?: number;
  /** `error_code` of the response body, e.g. `ModelArts.50004000`, `APIG.0308`. */
  readonly errorCode?: string;
  /** `error_msg` of the response body, or the start of a body that is not ModelArts JSON. */
  readonly errorMsg?: string;
  /** The `X-Request-Id` response header. */
  readonly requestId?: string;
}

abstract class ModelArtsFailure extends Error implements ModelArtsFailureDetail {
  readonly httpStatus?: number;
  readonly errorCode?: string;
  readonly errorMsg?: string;
  readonly requestId?: string;

  constructor(
    /** What was attempted, e.g. `create node pool`. */
    readonly operation: string,
    detail: ModelArtsFailureDetail,
  ) {
    super(describe(operation, detail));
    this.httpStatus = detail.httpStatus;
    this.errorCode = detail.errorCode;
    this.errorMsg = detail.errorMsg;
    this.requestId = detail.requestId;
  }
}

/** 429 or `APIG.0308` (throttling), any 5xx, a network error or a timeout: trying again may succeed. */
export class ModelArtsRetryableError extends ModelArtsFailure {
  override readonly name = 'ModelArtsRetryableError' satisfies WorkflowErrorName;
}

/** Any other 4xx: the same request will fail again. */
export class ModelArtsError extends ModelArtsFailure {
  override readonly name = 'ModelArtsError' satisfies WorkflowErrorName;
}

function describe(operation: string, detail: ModelArtsFailureDetail): string {
  const facts = [
    detail.httpStatus === undefined ? undefined : `HTTP ${detail.httpStatus}`,
    detail.errorCode,
    detail.errorMsg,
    detail.requestId === undefined ? undefined : `X-Request-Id ${detail.requestId}`,
  ];
  return `ModelArts ${operation} failed: ${facts.filter((fact) => fact !== undefined).join(', ')}`;
}
