/**
 * One error class per concept. Each carries the `error_code` of the documented error body; the
 * HTTP status is chosen in one place (lambdas/handlers/http.ts).
 */
export abstract class PoolGateError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request body breaks a rule of the ModelArts API (or a poolgate departure). */
export class ValidationError extends PoolGateError {
  readonly code = 'ModelArts.50004000';
}
export class PayloadTooLargeError extends PoolGateError {
  readonly code = 'PoolGate.0413';
}
export class UnauthenticatedError extends PoolGateError {
  readonly code = 'PoolGate.0401';
}
export class ForbiddenError extends PoolGateError {
  readonly code = 'PoolGate.0403';
}
export class NotFoundError extends PoolGateError {
  readonly code = 'PoolGate.0404';
}
/** Another request for the same project, pool and node-pool name is still open. */
export class OpenRequestExistsError extends PoolGateError {
  readonly code = 'PoolGate.0409';
  constructor(readonly openRequestId: string) {
    super(`request ${openRequestId} for this node pool is still open`);
  }
}
/** A create names a node pool that poolgate created and that still exists: delete it first. */
export class NodePoolExistsError extends PoolGateError {
  readonly code = 'PoolGate.5409';
  constructor(readonly creatingRequestId: string) {
    super(`a node pool of this name exists (created by request ${creatingRequestId}): delete it first`);
  }
}
/** Yearly/monthly node pools cannot be deleted through ModelArts: the billing center removes prepaid resources. */
export class PrepaidNodePoolError extends PoolGateError {
  readonly code = 'PoolGate.4409';
}
/**
 * A yearly/monthly node pool cannot shrink through poolgate: ModelArts refuses to lower a prepaid node
 * pool's count; prepaid nodes are removed by unsubscribing them in Huawei Cloud's billing center.
 */
export class PrepaidScaleDownError extends PoolGateError {
  readonly code = 'PoolGate.8409';
}
/** A PATCH whose Content-Type is neither application/merge-patch+json nor application/json. */
export class UnsupportedMediaTypeError extends PoolGateError {
  readonly code = 'PoolGate.0415';
}
/** The workflow could not be started now; the same Idempotency-Key resumes the request. */
export class ServiceUnavailableError extends PoolGateError {
  readonly code = 'PoolGate.0503';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
/** An approval link whose signature does not match. */
export class InvalidLinkError extends PoolGateError {
  readonly code = 'PoolGate.1403';
}
/** The approval (or this approver's vote) was already decided. */
export class AlreadyDecidedError extends PoolGateError {
  readonly code = 'PoolGate.1409';
}
/** The approval expired or its request was cancelled. */
export class ApprovalClosedError extends PoolGateError {
  readonly code = 'PoolGate.1410';
}
/** A status change that the transition table does not allow (a bug or a race, never user input). */
export class InvalidTransitionError extends PoolGateError {
  readonly code = 'PoolGate.0500';
}
/** An Idempotency-Key reused with a different request. */
export class IdempotencyKeyReusedError extends PoolGateError {
  readonly code = 'PoolGate.0422';
}
/** A request can be cancelled only before provisioning starts. */
export class NotCancellableError extends PoolGateError {
  readonly code = 'PoolGate.2409';
}
/** A retry of a request that is not FAILED, failed before it was approved, or cannot get its quota or name back. */
export class NotRetryableError extends PoolGateError {
  readonly code = 'PoolGate.3409';
}
/** A query parameter poolgate cannot use: unknown, out of range, or a list cursor it did not issue for this query. */
export class BadQueryError extends PoolGateError {
  readonly code = 'PoolGate.0400';
}
/** A request id prefix that matches several requests the caller may see (the message names them). */
export class AmbiguousIdError extends PoolGateError {
  readonly code = 'PoolGate.1400';
}
/** An `X-Lease` header poolgate refuses (not a duration, over the policy's limit, on yearly/monthly or on a change). */
export class LeaseRefusedError extends PoolGateError {
  readonly code = 'PoolGate.0400';
}
/** An extension that would take the lease past the policy's `maxTotal`. */
export class LeaseCapError extends PoolGateError {
  readonly code = 'PoolGate.6409';
}
/** The node pool has no lease to extend, or its deletion has started. */
export class LeaseNotExtendableError extends PoolGateError {
  readonly code = 'PoolGate.7409';
}
