/**
 * The request record poolgate keeps for one request on a node pool (its `kind`: create, scale, delete), and
 * the view of it that requesters and approvers see.
 */
import type { RequestSummary, RequestView } from '../../contracts/api';
import type { PlannedStage } from './approval-plan';
import type { BillingSummary } from './billing';
import { ForbiddenError, NotFoundError } from './errors';
import type { PatchBody } from './nodepool-patch';
import type { ScaleChange } from './scale-change';
import type { NodePoolRequest } from './nodepool-request';
import { kindOf, type RequestKind, type RequestTrigger } from './request-kind';
import { isFinal, type RequestStatus, type TerminalReason } from './status';
import type { Step } from './steps';
import { leaseView, type LeaseTerms, type RecordLease } from './lease';

export interface PoolRequestRecord {
  readonly requestId: string;
  /** What the request does to its node pool (absent on requests stored before kinds: `create`). */
  readonly kind?: RequestKind;
  /** Who set it off (absent on requests stored before triggers: `user`). */
  readonly trigger?: RequestTrigger;
  readonly status: RequestStatus;
  readonly reason?: TerminalReason;
  readonly requester: string;
  readonly team: string;
  readonly projectId: string;
  readonly poolName: string;
  readonly nodePoolName: string;
  readonly flavor: string;
  readonly count: number;
  readonly maxCount: number;
  /** A create's body exactly as the requester sent it (validated); a delete has none. */
  readonly body?: NodePoolRequest;
  /** A scale: what it changes (counts as ModelArts showed them at submission, and the target). */
  readonly change?: ScaleChange;
  /** A scale: the PatchNodePool body for ModelArts (poolgate's label in it; annotations added on growth). */
  readonly patch?: PatchBody;
  /** A change to an existing node pool (delete): the request that created it (its quota share's id, its label). */
  readonly createRequestId?: string;
  /** A change to an existing node pool: who created it (told when someone else deletes it). */
  readonly creator?: string;
  readonly billing: BillingSummary;
  readonly justification?: string;
  /** Approval stages fixed at submission; empty with `planError` when nobody may approve. */
  readonly stages: readonly PlannedStage[];
  readonly planError?: 'NO_ELIGIBLE_APPROVER';
  /** Hash of method, kind, requester, project, pool, node pool and body: tells a retry from a reused Idempotency-Key. */
  readonly fingerprint: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly steps: readonly Step[];
  /** How many times a FAILED request was retried (absent: never). */
  readonly retries?: number;
  /** A create's lease (the settings that apply, frozen at submission); absent: none. */
  readonly lease?: LeaseTerms;
  /** An extension: by how much it moves the lease's end (`duration` as asked, in seconds). */
  readonly extend?: { readonly duration: string; readonly seconds: number };
}

/** The views of a request the API answers with: declared once, in the API contract. */
export type { RequestSummary, RequestView };

export interface ViewOptions {
  /** Whether the nodes are followed after creation (policy `nodeTracking.enabled`); decides `final` for CREATED. */
  readonly nodeTracking?: boolean;
  /** The request page's signed URL. */
  readonly pageUrl?: string;
  /** A create's node-pool record, for its lease's end (absent: the lease as asked, its end not yet known). */
  readonly record?: Pick<RecordLease, 'leaseEndsAt' | 'leaseExtendedSeconds'> & { readonly creatingRequestId?: string };
}

export function toRequestSummary(r: PoolRequestRecord, options: ViewOptions = {}): RequestSummary {
  return {
    requestId: r.requestId,
    kind: kindOf(r),
    trigger: r.trigger ?? 'user',
    ...(r.lease
      ? {
          lease: leaseView(r.lease, options.record?.creatingRequestId === r.requestId ? options.record : undefined),
        }
      : {}),
    ...(r.extend ? { extend: { duration: r.extend.duration, createdBy: r.createRequestId ?? '' } } : {}),
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    final: isFinal(r.status, options.nodeTracking ?? true),
    requester: r.requester,
    team: r.team,
    projectId: r.projectId,
    poolName: r.poolName,
    nodePoolName: r.nodePoolName,
    flavor: r.flavor,
    count: r.count,
    maxCount: r.maxCount,
    ...(r.change ? { change: r.change } : {}),
    billing: r.billing,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    links: { self: `/requests/${r.requestId}`, ...(options.pageUrl ? { page: options.pageUrl } : {}) },
  };
}

export function toRequestView(r: PoolRequestRecord, options: ViewOptions = {}): RequestView {
  const { links, ...summary } = toRequestSummary(r, options);
  return {
    ...summary,
    ...(r.justification ? { justification: r.justification } : {}),
    steps: r.steps.map(({ id: _id, ...step }) => step),
    links,
  };
}

/** Who may read a request: its requester, members of its team, its approvers and the admins. */
export function canView(
  r: PoolRequestRecord,
  email: string,
  teamMembers: readonly string[],
  admins: readonly string[],
): boolean {
  const who = email.toLowerCase();
  return (
    r.requester === who ||
    teamMembers.includes(who) ||
    admins.includes(who) ||
    r.stages.some((s) => s.approvers.some((a) => a.email === who))
  );
}

/**
 * Who may change a request (cancel, retry): its requester or an admin. Someone else who may see it
 * gets a 403 that says who may; someone who may not even see it, a 404 (its existence stays hidden).
 */
export function assertMayChange(
  r: PoolRequestRecord | undefined,
  requestId: string,
  actor: string,
  action: 'cancel' | 'retry',
  teamMembers: readonly string[],
  admins: readonly string[],
): asserts r is PoolRequestRecord {
  const who = actor.toLowerCase();
  // A lease's deletion is poolgate's own act on the holder's behalf: only an admin may stop or repeat it.
  if (r && r.trigger === 'lease' && !admins.includes(who)) {
    if (!canView(r, who, teamMembers, admins)) throw new NotFoundError(`request ${requestId} not found`);
    throw new ForbiddenError(
      `${who} may read request ${requestId} but not ${action} it: it deletes a node pool whose lease ended, which only an admin${admins.length ? ` (${admins.join(', ')})` : ''} may ${action}`,
    );
  }
  if (r && (r.requester === who || admins.includes(who))) return;
  if (!r || !canView(r, who, teamMembers, admins)) throw new NotFoundError(`request ${requestId} not found`);
  const adminsText = admins.length ? ` or an admin (${admins.join(', ')})` : '';
  throw new ForbiddenError(
    `${who} may read request ${requestId} but not ${action} it: only its requester (${r.requester})${adminsText} may`,
  );
}

/** A create's body; a request of another kind has none (a bug to ask for it). */
export function createBody(r: PoolRequestRecord): NodePoolRequest {
  if (!r.body) throw new Error(`request ${r.requestId} is a ${kindOf(r)} request: it has no node-pool body`);
  return r.body;
}
