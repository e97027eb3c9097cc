/**
 * The API's fixed vocabularies, as plain data (no zod): the request statuses, the step names and
 * outcomes, the page sizes of `GET /requests`. The schemas of contracts/api.ts, the domain
 * (lambdas/domain) and the CLI all read them from here; the CLI imports this file at run time without
 * paying for zod.
 */

/** SUBMITTED -> AWAITING_APPROVAL -> PROVISIONING -> CREATED -> ACTIVE; terminal: REJECTED, EXPIRED, CANCELLED, FAILED. */
export const REQUEST_STATUSES = [
  'SUBMITTED',
  'AWAITING_APPROVAL',
  'PROVISIONING',
  'CREATED',
  'ACTIVE',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
  'FAILED',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** The steps of a request's timeline. */
export const STEP_NAMES = [
  'submitted',
  'capacity_checked',
  'quota_checked',
  'approval_requested',
  'reminded',
  'approved',
  'rejected',
  'expired',
  'cancelled',
  'node_pool_created',
  'nodes_active',
  'failed',
  'retried',
  'quota_reconciled',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export const STEP_OUTCOMES = ['ok', 'refused', 'error'] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/** `GET /requests`: items per page unless `limit` says otherwise, and the most `limit` may ask. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
