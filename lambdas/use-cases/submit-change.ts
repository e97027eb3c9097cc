/**
 * The steps a change to a node pool poolgate created (scale, delete) shares with the other kinds of
 * change: the caller's access to the node pool, the idempotency key and the node-pool claim, storing
 * the request and starting its run, and what a dry run shows of the node pool and its approvals.
 */
import { planApprovals } from '../domain/approval-plan';
import { ForbiddenError, IdempotencyKeyReusedError, NotFoundError, OpenRequestExistsError } from '../domain/errors';
import { nodePoolAccess } from '../domain/nodepool-access';
import { isPresent, type NodePoolName, type NodePoolRecord } from '../domain/nodepool-record';
import type { PoolRequestRecord } from '../domain/pool-request';
import type { ChangeKind, RequestKind } from '../domain/request-kind';
import { isFinal } from '../domain/status';
import { teamNamed } from '../domain/teams';
import { startOrUnavailable } from './runs';
import { claimIdempotency, claimNodePoolName, type SubmitDeps, type SubmitResult } from './submit-request';

/** A node pool poolgate created that still exists, with what its record always holds then. */
export type PresentRecord = NodePoolRecord & { team: string; creatingRequestId: string; flavor: string; count: number };

/** Who asks for a change to which node pool, and under which Idempotency-Key. */
export interface ChangeInput extends NodePoolName {
  readonly requester: string;
  readonly idempotencyKey?: string;
}

/**
 * The node pool the caller may change: 404 when poolgate has no such node pool or the caller may not
 * see it, 403 when the caller may only read it (`verb`: what the message says the caller may not do).
 */
export async function changeableNodePool(
  input: ChangeInput,
  deps: Pick<SubmitDeps, 'policy' | 'claims'>,
  verb: string,
): Promise<PresentRecord> {
  const record = await deps.claims.record(input);
  const notFound = new NotFoundError(`node pool ${input.nodePoolName} not found in pool ${input.poolName}`);
  if (!isPresent(record)) throw notFound;
  const access = nodePoolAccess(deps.policy, record.team, input.requester);
  if (access === 'none') throw notFound;
  if (access === 'read')
    throw new ForbiddenError(
      `${input.requester} may read node pool ${input.nodePoolName} but not ${verb} it (team ${record.team})`,
    );
  return record;
}

/**
 * The request id of a call: a repeated submission answers what its first one made (restarting a run
 * that never started), 422 for a key reused with another request; otherwise a new id.
 */
export async function idempotentRequestId(
  input: { readonly requester: string; readonly idempotencyKey?: string },
  fingerprint: string,
  kind: RequestKind,
  deps: SubmitDeps,
  now: Date,
): Promise<{ readonly replay: SubmitResult } | { readonly id: string }> {
  const requestId = await claimIdempotency(input, fingerprint, deps, now);
  const existing = requestId.fresh ? undefined : await deps.requests.get(requestId.id);
  if (existing) {
    if (existing.fingerprint !== fingerprint)
      throw new IdempotencyKeyReusedError('this Idempotency-Key was already used for a different request');
    if (existing.status === 'SUBMITTED')
      await startOrUnavailable(deps.workflow, existing.requestId, undefined, undefined, kind);
    return { replay: { requestId: existing.requestId, status: existing.status } };
  }
  return { id: requestId.id };
}

/** The request id of a change (idempotentRequestId); a new one claims the node pool (409 while another request holds it). */
export async function claimChange(
  input: ChangeInput,
  fingerprint: string,
  kind: RequestKind,
  deps: SubmitDeps,
  now: Date,
): Promise<{ readonly replay: SubmitResult } | { readonly id: string }> {
  const claimed = await idempotentRequestId(input, fingerprint, kind, deps, now);
  if ('id' in claimed) await claimNodePoolName(input, claimed.id, deps, now, { kind });
  return claimed;
}

/** Stores the new request and starts its run (503 when the run cannot start now). */
export async function storeAndStart(
  request: PoolRequestRecord & { kind: RequestKind },
  deps: SubmitDeps,
): Promise<SubmitResult> {
  await deps.requests.create(request);
  deps.recordMetric?.('submitted', 1, 'Count');
  await startOrUnavailable(deps.workflow, request.requestId, undefined, undefined, request.kind);
  return { requestId: request.requestId, status: 'SUBMITTED' };
}

/**
 * What a dry run of a change shows besides the change itself: 409 while another request is open on
 * the node pool, else what the request would become, the node pool, and who would be asked.
 */
export async function changeDryRunView(
  input: ChangeInput,
  record: PresentRecord,
  change: ChangeKind,
  deps: Pick<SubmitDeps, 'policy' | 'requests'>,
) {
  const holder = await deps.requests.get(record.requestId);
  if (holder && !isFinal(holder.status, deps.policy.nodeTracking.enabled))
    throw new OpenRequestExistsError(holder.requestId);
  const team = teamNamed(deps.policy, record.team);
  const plan = team ? planApprovals(team, input.requester, record.billingMode ?? '0', change) : undefined;
  const stages = plan?.ok
    ? plan.stages.map((s) => ({
        name: s.name,
        approvers: s.approvers.map((a) => a.email),
        requiredApprovals: s.requiredApprovals,
      }))
    : [];
  return {
    wouldBe: stages.length ? ('AWAITING_APPROVAL' as const) : ('PROVISIONING' as const),
    nodePool: {
      projectId: input.projectId,
      poolName: input.poolName,
      nodePoolName: input.nodePoolName,
      flavor: record.flavor,
      count: record.count,
      team: record.team,
      createdBy: record.creatingRequestId,
    },
    approval: { stages },
  };
}
