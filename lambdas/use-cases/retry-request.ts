/**
 * Retry: the requester (or an admin) runs a FAILED request again from the step that failed, without
 * asking anyone to approve it again (lambdas/domain/retry.ts says where it resumes).
 *  1. resuming at CreateNodePool: reserve the quota again for this attempt (the failure gave it back)
 *     and take the node-pool name back; either refused -> 409, nothing changed. A reservation the
 *     failed run still holds (its Finalize has not given it back yet, or never will) is taken over;
 *  2. record `retried:<n>` moving the request FAILED -> PROVISIONING (or CREATED), in one conditional
 *     write: of two retries at once, one records it and both start the same run;
 *  3. start the run `<id>-retry-<n>` (CheckRequest hands it straight to its resume point).
 * Repeating the call while that retry is under way starts nothing new (the run's name is taken)
 * and answers the same: a client whose first call got a 503 or lost its answer may simply repeat it.
 * A call gives back only the reservation it made itself (another call's, or the use of a node pool
 * that reconciliation counted, is not its to give).
 */
import type { ClaimRepository } from '../adapters/dynamodb/claim-repository';
import type { QuotaRepository } from '../adapters/dynamodb/quota-repository';
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { Resumption, Workflow } from '../adapters/workflow';
import type { Policy } from '../config/policy';
import { InvalidTransitionError, NotFoundError, NotRetryableError } from '../domain/errors';
import { toRequestView, type PoolRequestRecord, type RequestView } from '../domain/pool-request';
import { isCounted, quotaFor, type QuotaDecision, type Reservation } from '../domain/quota';
import { latestRetryOf, resumePointOf, statusOnResume, type LatestRetry } from '../domain/retry';
import { isFinal, isTerminal } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import { claimNodePoolName, startOrUnavailable } from './submit-request';

export interface RetryDeps {
  readonly policy: Policy;
  readonly requests: RequestRepository;
  readonly quotas: QuotaRepository;
  readonly claims: ClaimRepository;
  readonly workflow: Pick<Workflow, 'start'>;
  readonly now?: () => Date;
}

export async function retryRequest(requestId: string, actor: string, deps: RetryDeps): Promise<RequestView> {
  const now = (deps.now ?? (() => new Date()))();
  const request = await deps.requests.get(requestId);
  if (!request || (request.requester !== actor && !deps.policy.admins.includes(actor))) throw new NotFoundError(`request ${requestId} not found`);

  if (request.status !== 'FAILED') {
    // A retry under way (or finished since): start its run in case the first call could not.
    const retry = latestRetryOf(request);
    if (!retry || isFinal(request.status, deps.policy.nodeTracking.enabled)) {
      throw new NotRetryableError(`request ${requestId} is ${request.status}: only a FAILED request can be retried`);
    }
    await startRetriedRun(request, retry, deps);
    return toRequestView(request, { nodeTracking: deps.policy.nodeTracking.enabled });
  }

  const resumeAt = resumePointOf(request.steps);
  if (!resumeAt) {
    throw new NotRetryableError(`request ${requestId} failed before it was approved (${request.reason ?? 'unknown reason'}): submit it again`);
  }
  const attempt = (request.retries ?? 0) + 1;
  const reservedHere = resumeAt === 'CreateNodePool' && (await takeBack(request, attempt, deps, now));
  // Resuming at node tracking: the node pool exists, so a reservation the failed run never settled is use.
  if (resumeAt === 'CheckNodes') await deps.quotas.commit(shareOf(request, request.retries ?? 0));
  const giveBack = async () => {
    if (reservedHere) await deps.quotas.release(shareOf(request, attempt));
  };

  let retried;
  try {
    retried = await deps.requests.recordStep(
      requestId,
      newStep(stepId.retried(attempt), 'retried', 'ok', { actor, at: now, detail: { attempt, resumeAt, after: request.reason } }),
      { status: statusOnResume(resumeAt), from: ['FAILED'], retries: attempt },
    );
  } catch (error) {
    // Changed since we read it: another retry, recorded under another attempt number.
    if (!(error instanceof InvalidTransitionError)) throw error;
    await giveBack();
    throw new NotRetryableError(`request ${requestId} changed while retrying it: read it and try again`);
  }
  if (!retried.recorded && isTerminal(retried.request.status)) {
    // That attempt was recorded by another call and has ended since.
    await giveBack();
    throw new NotRetryableError(`request ${requestId} changed while retrying it: read it and try again`);
  }
  await startRetriedRun(retried.request, { attempt, resumeAt }, deps);
  return toRequestView(retried.request, { nodeTracking: deps.policy.nodeTracking.enabled });
}

const shareOf = (request: PoolRequestRecord, attempt: number) => ({ team: request.team, flavor: request.flavor, requestId: request.requestId, count: request.count, attempt });

/**
 * The quota and the node-pool name a failure before creation gave up, taken again for `attempt` (or
 * 409). True when this call reserved the nodes (or took over the failed run's reservation); false when
 * they were counted already (another call for the same attempt reserved them, or reconciliation counts
 * a node pool that exists).
 */
async function takeBack(request: PoolRequestRecord, attempt: number, deps: RetryDeps, now: Date): Promise<boolean> {
  const team = deps.policy.teams.find((t) => t.name === request.team);
  const decision: QuotaDecision = team ? quotaFor(team, request.flavor, request.count) : { ok: false, reason: 'FLAVOR_NOT_ALLOWED' };
  const share = shareOf(request, attempt);
  let reservation: Reservation = 'refused';
  if (decision.ok) {
    reservation = await deps.quotas.reserve(share, decision.maxInUseBefore);
    // The failed run still holds its reservation (its Finalize has not given it back yet, or never
    // will): this attempt takes it over; if that run let go meanwhile, reserve anew.
    if (reservation === 'busy') reservation = (await deps.quotas.takeOver(share)) ? 'reserved' : await deps.quotas.reserve(share, decision.maxInUseBefore);
  }
  if (reservation === 'busy') throw new NotRetryableError(`request ${request.requestId} changed while retrying it: read it and try again`);
  if (!isCounted(reservation)) throw new NotRetryableError(`request ${request.requestId} cannot be retried now: ${quotaRefusal(decision, request)}`);
  try {
    await claimNodePoolName({ projectId: request.projectId, poolName: request.poolName, nodePoolName: request.nodePoolName }, request.requestId, deps, now);
  } catch (error) {
    if (reservation === 'reserved') await deps.quotas.release(share);
    throw error;
  }
  return reservation === 'reserved';
}

function quotaRefusal(decision: QuotaDecision, request: PoolRequestRecord): string {
  if (decision.ok) return `the team's quota of ${decision.limit} ${request.flavor} node(s) has no room for ${request.count} now (QUOTA_EXCEEDED)`;
  if (decision.reason === 'QUOTA_EXCEEDED') return `${request.count} node(s) exceed the team's quota of ${decision.limit} ${request.flavor} node(s) (QUOTA_EXCEEDED)`;
  return `the team may no longer use ${request.flavor} (FLAVOR_NOT_ALLOWED)`;
}

/**
 * The run `<id>-retry-<attempt>` (CheckRequest hands it to its resume point). It is the same however
 * often it is asked for, so a second start of a run that exists changes nothing.
 */
export function retriedRun(request: PoolRequestRecord, retry: Pick<LatestRetry, 'attempt' | 'resumeAt'>, tracking: Policy['nodeTracking']): Resumption {
  const created = retry.resumeAt === 'CheckNodes' ? { nodePoolName: request.nodePoolName, track: true, waitSeconds: tracking.pollIntervalSeconds } : null;
  return { attempt: retry.attempt, created };
}

async function startRetriedRun(request: PoolRequestRecord, retry: Pick<LatestRetry, 'attempt' | 'resumeAt'>, deps: RetryDeps): Promise<void> {
  await startOrUnavailable(deps.workflow, request.requestId, 'the same call', retriedRun(request, retry, deps.policy.nodeTracking));
}
