/**
 * Extension: a member of the owning team (or an admin) asks to move a lease's end
 * (`POST /requests/{id}/extend` with `{"duration": "P7D"}`, the id being the creating request's; or the
 * form of the reminder's personal link).
 *  1. the creating request's node pool exists, poolgate created it, and it has a lease (404 / 409);
 *  2. the caller may change the node pool (403);
 *  3. the duration is positive, and the lease with its extensions stays within `maxTotal` (409 PoolGate.6409);
 *  4. the idempotency key (header, else a hash of requester, lease and duration) maps to one request id;
 *  5. at most one open extension per lease: a conditional write on the record's `leaseExtension`
 *     (an extension does not hold the node-pool record itself, so a scale or delete may still come);
 *  6. store the `extend` request (approval stages: those naming `extend`, else the create stages), start its run.
 * Once approved, ApplyChange moves the end in one conditional write, only if the deletion is not claimed.
 */
import type { Team } from '../config/policy';
import { planApprovals } from '../domain/approval-plan';
import {
  ForbiddenError,
  LeaseCapError,
  LeaseNotExtendableError,
  LeaseRefusedError,
  NotFoundError,
  OpenRequestExistsError,
} from '../domain/errors';
import { extensionAllowed, extensionSeconds, formatSeconds } from '../domain/lease';
import { nodePoolAccess } from '../domain/nodepool-access';
import { isPresent, type NodePoolRecord } from '../domain/nodepool-record';
import type { PoolRequestRecord } from '../domain/pool-request';
import { isFinal } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import { teamNamed } from '../domain/teams';
import type { LeaseRecords } from './ports';
import { idempotentRequestId, storeAndStart } from './submit-change';
import { requestFingerprint, type SubmitDeps, type SubmitResult } from './submit-request';

export interface ExtendInput {
  /** The request that created the leased node pool. */
  readonly createRequestId: string;
  readonly requester: string;
  readonly duration: unknown;
  readonly idempotencyKey?: string;
}

export interface ExtendDeps extends SubmitDeps {
  readonly leases: Pick<LeaseRecords, 'claimExtension'>;
}

/** The stages an extension goes through: those that name `extend`, else the create stages. */
export function extensionPlan(team: Team, requester: string) {
  const named = team.stages.some((s) => s.when?.changes?.includes('extend'));
  return planApprovals(team, requester, '0', named ? 'extend' : 'create');
}

/** The leased node pool the caller may extend, or the error to answer. */
export async function extendableLease(
  input: Pick<ExtendInput, 'createRequestId' | 'requester'>,
  deps: Pick<ExtendDeps, 'policy' | 'claims' | 'requests'>,
): Promise<{ creating: PoolRequestRecord; record: NodePoolRecord & { team: string; creatingRequestId: string } }> {
  const notFound = new NotFoundError(`request ${input.createRequestId} not found`);
  const creating = await deps.requests.get(input.createRequestId);
  if (!creating || (creating.kind ?? 'create') !== 'create') throw notFound;
  const record = await deps.claims.record(creating);
  const access = nodePoolAccess(deps.policy, creating.team, input.requester);
  if (access === 'none') throw notFound;
  if (access === 'read')
    throw new ForbiddenError(
      `${input.requester} may read the lease of node pool ${creating.nodePoolName} but not extend it: only members of team ${creating.team} or an admin may`,
    );
  if (!isPresent(record) || record.creatingRequestId !== creating.requestId)
    throw new LeaseNotExtendableError(
      `node pool ${creating.nodePoolName} of request ${creating.requestId} does not exist (not created yet, or deleted)`,
    );
  if (!record.leaseTerms || !record.leaseEndsAt)
    throw new LeaseNotExtendableError(`node pool ${creating.nodePoolName} has no lease: it lives until deleted`);
  if (record.leaseDeletion)
    throw new LeaseNotExtendableError(
      `the lease of node pool ${creating.nodePoolName} has ended and its deletion has started (request ${record.leaseDeletion})`,
    );
  return { creating, record };
}

export async function submitExtension(input: ExtendInput, deps: ExtendDeps): Promise<SubmitResult> {
  const now = deps.now();
  const { creating, record } = await extendableLease(input, deps);
  const seconds = extensionSeconds(input.duration);
  if (seconds === undefined)
    throw new LeaseRefusedError(
      `duration: must be a positive ISO 8601 duration such as P7D or PT12H; got ${JSON.stringify(input.duration ?? null)}`,
    );
  const duration = String(input.duration);
  const allowed = extensionAllowed(record.leaseTerms!, record.leaseExtendedSeconds ?? 0, seconds);
  if (!allowed.ok) throw new LeaseCapError(allowed.message);

  const fingerprint = requestFingerprint({
    method: 'POST',
    kind: 'extend',
    requester: input.requester,
    projectId: creating.projectId,
    poolName: creating.poolName,
    nodePoolName: `${creating.nodePoolName}\n${creating.requestId}`,
    rawBody: duration,
  });
  const claimed = await idempotentRequestId(input, fingerprint, 'extend', deps, now);
  if ('replay' in claimed) return claimed.replay;
  const requestId = { id: claimed.id };

  // At most one open extension per lease.
  if (!(await deps.leases.claimExtension(record, requestId.id))) {
    const current = await deps.claims.record(record);
    if (current?.leaseDeletion)
      throw new LeaseNotExtendableError(`the lease of node pool ${creating.nodePoolName} has ended`);
    const holderId = current?.leaseExtension;
    const holder = holderId ? await deps.requests.get(holderId) : undefined;
    if (holderId && holder && !isFinal(holder.status, true)) throw new OpenRequestExistsError(holderId);
    if (!(await deps.leases.claimExtension(record, requestId.id, holderId)))
      throw new OpenRequestExistsError(holderId ?? 'unknown');
  }

  const team = teamNamed(deps.policy, record.team);
  const plan = team ? extensionPlan(team, input.requester) : undefined;
  const request: PoolRequestRecord & { kind: 'extend' } = {
    requestId: requestId.id,
    kind: 'extend',
    trigger: 'user',
    status: 'SUBMITTED',
    requester: input.requester,
    team: record.team,
    projectId: record.projectId,
    poolName: record.poolName,
    nodePoolName: record.nodePoolName,
    flavor: record.flavor ?? creating.flavor,
    count: record.count ?? creating.count,
    maxCount: record.count ?? creating.count,
    billing: { mode: record.billingMode ?? '0' },
    createRequestId: record.creatingRequestId,
    ...(record.creator ? { creator: record.creator } : {}),
    extend: { duration, seconds },
    stages: plan?.ok ? plan.stages : [],
    ...(plan?.ok ? {} : { planError: 'NO_ELIGIBLE_APPROVER' as const }),
    fingerprint,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    steps: [
      newStep(stepId.submitted(), 'submitted', 'ok', {
        actor: input.requester,
        at: now,
        detail: {
          extendBy: duration,
          leaseEndsAt: record.leaseEndsAt,
          extendedSoFar: formatSeconds(record.leaseExtendedSeconds ?? 0),
        },
      }),
    ],
  };
  return storeAndStart(request, deps);
}
