/**
 * The API's fixed vocabularies, as plain data (no zod): the request statuses, the step names and
 * outcomes, the request kinds and triggers, the page sizes of `GET /requests`. The schemas of contracts/api.ts, the domain
 * (lambdas/domain) and the CLI all read them from here; the CLI imports this file at run time without
 * paying for zod.
 */

/**
 * SUBMITTED -> AWAITING_APPROVAL -> PROVISIONING -> CREATED -> ACTIVE (a scale: PROVISIONING -> ACTIVE;
 * a delete: -> DELETED);
 * terminal: DELETED, REJECTED, EXPIRED, CANCELLED, FAILED.
 */
export const REQUEST_STATUSES = [
  'SUBMITTED',
  'AWAITING_APPROVAL',
  'PROVISIONING',
  'CREATED',
  'ACTIVE',
  'DELETED',
  'EXTENDED',
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
  'node_pool_delete_requested',
  'node_pool_deleted',
  'node_pool_patched',
  /** A node pool poolgate created was changed outside it (found by the reconciliation; once per observation). */
  'unapproved_change',
  'lease_reminded',
  'lease_extended',
  'lease_expired',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export const STEP_OUTCOMES = ['ok', 'refused', 'error'] as const;
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/**
 * What a request does to its node pool (its `kind`) and what set it off (its `trigger`). Every kind runs
 * through the one workflow (lib/workflow-definition.ts): check, approval when the policy asks for it,
 * apply, track, finalize; the tasks dispatch on the kind.
 *
 *   create  POST   .../nodepools                  ends ACTIVE (CREATED without node tracking)
 *   scale   PATCH  .../nodepools/{nodepool_name}  ends ACTIVE once ModelArts shows the new count (a
 *                                                 labels/taints update: once ModelArts accepted it)
 *   delete  DELETE .../nodepools/{nodepool_name}  ends DELETED once ModelArts no longer shows it
 *   extend  POST   /requests/{id}/extend           ends EXTENDED once the lease's end has moved
 */
export const REQUEST_KINDS = ['create', 'scale', 'delete', 'extend'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** `user`: someone asked through the API; `lease`: the lease ran out (a deletion poolgate submitted). */
export const REQUEST_TRIGGERS = ['user', 'lease'] as const;
export type RequestTrigger = (typeof REQUEST_TRIGGERS)[number];

/** `GET /requests`: items per page unless `limit` says otherwise, and the most `limit` may ask. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
