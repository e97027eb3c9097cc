/**
 * Request statuses and the one place their transitions are checked.
 *
 *   create: SUBMITTED -> AWAITING_APPROVAL -> PROVISIONING -> CREATED -> ACTIVE
 *   scale:  SUBMITTED -> (AWAITING_APPROVAL) -> PROVISIONING -> ACTIVE (the new count shown, or the update accepted)
 *   delete: SUBMITTED -> (AWAITING_APPROVAL) -> PROVISIONING -> DELETED (ModelArts no longer shows it)
 *   extend: SUBMITTED -> (AWAITING_APPROVAL) -> PROVISIONING -> EXTENDED (the lease's end moved)
 *   terminal: REJECTED, EXPIRED, CANCELLED, FAILED (each with a machine-readable reason)
 */
import { REQUEST_STATUSES, type RequestStatus } from '../../contracts/api-values';

export { REQUEST_STATUSES, type RequestStatus };

export const TERMINAL_STATUSES: readonly RequestStatus[] = [
  'ACTIVE',
  'DELETED',
  'EXTENDED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
  'FAILED',
];
/** Statuses after which no approval or provisioning is pending any more: the node-pool name is free again. */
export const FINISHED_STATUSES: readonly RequestStatus[] = ['CREATED', ...TERMINAL_STATUSES];

export type TerminalReason =
  | 'QUOTA_EXCEEDED'
  | 'FLAVOR_NOT_ALLOWED'
  | 'PROJECT_NOT_ALLOWED'
  | 'POOL_NOT_FOUND'
  | 'FLAVOR_UNKNOWN'
  | 'FLAVOR_SOLD_OUT'
  | 'BILLING_MODE_UNSUPPORTED'
  | 'NOT_PRIVILEGED_POOL'
  | 'MAXCOUNT_NOT_ALLOWED'
  | 'NODE_POOL_EXISTS'
  | 'BILLING_MODE_REQUIRED'
  | 'APPROVER_REJECTED'
  | 'NO_ELIGIBLE_APPROVER'
  | 'APPROVAL_EXPIRED'
  | 'CANCELLED_BY_USER'
  | 'MODELARTS_ERROR'
  | 'NODE_POOL_CONFLICT'
  /** A delete found a node pool of that name that is not the one poolgate created (label or flavor differ). */
  | 'NODE_POOL_NOT_OURS'
  /** A scale found its node pool no longer shown by ModelArts. */
  | 'NODE_POOL_GONE'
  /** An approved scale found the node pool's count no longer the one it was planned (and approved) from. */
  | 'NODE_POOL_CHANGED'
  | 'NODES_ABNORMAL'
  | 'NODES_TIMEOUT'
  /** The node pool's lease ran out while the request waited (cancelled), or before an extension could move it. */
  | 'LEASE_ENDED'
  /** An approved extension would have taken the lease past the policy's `lease.maxTotal`. */
  | 'LEASE_MAX_TOTAL'
  | 'INTERNAL_ERROR';

const TRANSITIONS: Record<RequestStatus, readonly RequestStatus[]> = {
  // A change no stage applies to (a delete by default) goes straight to PROVISIONING.
  SUBMITTED: ['AWAITING_APPROVAL', 'PROVISIONING', 'REJECTED', 'CANCELLED', 'FAILED'],
  AWAITING_APPROVAL: ['PROVISIONING', 'REJECTED', 'EXPIRED', 'CANCELLED', 'FAILED'],
  // A delete rejected right before the call (the node pool is no longer the one poolgate created).
  // A scale: ACTIVE once ModelArts shows the new count (an update: once ModelArts accepted it).
  // An extension is applied in one write (EXTENDED), or refused when the lease's deletion won (REJECTED).
  PROVISIONING: ['CREATED', 'ACTIVE', 'DELETED', 'EXTENDED', 'REJECTED', 'FAILED'],
  CREATED: ['ACTIVE', 'FAILED'],
  ACTIVE: [],
  DELETED: [],
  EXTENDED: [],
  REJECTED: [],
  EXPIRED: [],
  CANCELLED: [],
  FAILED: [],
};

export function canTransition(from: RequestStatus, to: RequestStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Every status from which `to` may be reached: the condition of the update that records the change. */
export function sourcesOf(to: RequestStatus): RequestStatus[] {
  return REQUEST_STATUSES.filter((from) => canTransition(from, to));
}

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function isFinished(status: RequestStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/**
 * No further status change will come: a terminal status, or CREATED when the nodes are not tracked
 * (node tracking off: CREATED is where the workflow ends). What a client waiting on a request stops at.
 */
export function isFinal(status: RequestStatus, nodeTracking: boolean): boolean {
  return isTerminal(status) || (status === 'CREATED' && !nodeTracking);
}
