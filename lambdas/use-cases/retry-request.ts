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
 * A call gives back only the reservation it made itself, and only before `retried:<n>` may exist
 * (another call's, or the use of a node pool that reconciliation counted, is not its to give).
 */
import type { Policy } from '../config/policy';
import { InvalidTransitionError, NotRetryableError } from '../domain/errors';
import { assertMayChange, toRequestView, type PoolRequestRecord, type RequestView } from '../domain/pool-request';
import { isCounted, quotaForRequest, type QuotaDecision, type Reservation } from '../domain/quota';
import { latestRetryOf, resumePointOf, statusOnResume, type LatestRetry } from '../domain/retry';
import { isFinal, isTerminal } from '../domain/status';
import { kindOf } from '../domain/request-kind';
import { newStep, stepId } from '../domain/steps';
import { claimNodePoolName } from './submit-request';
import type { Claims, Clock, QuotaStore, RequestStore, WorkflowRuns } from './ports';
import { retriedRun, startOrUnavailable } from './runs';

export interface RetryDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  readonly quotas: QuotaStore;
  readonly claims: Claims;
  readonly workflow: Pick<WorkflowRuns, 'start'>;
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

export async function retryRequest(requestId: string, actor: string, deps: RetryDeps): Promise<RequestView> {
  const now = deps.now();
  const request = await deps.requests.get(requestId);
  const members = deps.policy.teams.find((t) => t.name === request?.team)?.members.map((m) => m.email) ?? [];
  assertMayChange(request, requestId, actor, 'retry', members, deps.policy.admins);

  if (request.status !== 'FAILED') {
    // A retry under way (or finished since): start its run in case the first call could not.
    const retry = latestRetryOf(request);
    if (!retry || isFinal(request.status, deps.policy.nodeTracking.enabled)) {
      throw new NotRetryableError(`request ${requestId} is ${request.status}: only a FAILED request can be retried`);
    }
    await startRetriedRun(request, retry, deps);
    return toRequestView(request, { nodeTracking: deps.policy.nodeTracking.enabled });
  }

  if (request.reason === 'NODE_POOL_CONFLICT') {
    throw new NotRetryableError(
      `request ${requestId} failed NODE_POOL_CONFLICT: a node pool named ${request.nodePoolName} exists in pool ${request.poolName} that this request did not create, so a retry would fail again; choose another name and submit the request again`,
    );
  }
  const resumeAt = resumePointOf(request.steps);
  if (!resumeAt) {
    throw new NotRetryableError(
      `request ${requestId} failed before it was approved (${request.reason ?? 'unknown reason'}): submit it again`,
    );
  }
  const attempt = (request.retries ?? 0) + 1;
  // Once `retried:<n>` may be recorded, this call gives nothing back: what it reserved may be the run's
  // (another call for the same attempt may have started it). A reservation left by a call that got
  // no further is given back by quota reconciliation; the run itself makes sure of its own.
  if (resumeAt === 'CreateNodePool') await takeBack(request, attempt, deps, now);
  // A change takes its node pool back, unless a later request has finished on it since (superseded).
  if (resumeAt === 'ApplyChange')
    await claimNodePoolName(request, request.requestId, deps, now, { kind: kindOf(request), retry: true });
  // Resuming at node tracking: the node pool exists, so a reservation the failed run never settled is use;
  // unless a later request on the node pool (a delete, a re-create) has finished since: its nodes are not ours.
  if (resumeAt === 'CheckNodes') {
    await claimNodePoolName(request, request.requestId, deps, now, { kind: kindOf(request), retry: true });
    await deps.quotas.commit(shareOf(request, request.retries ?? 0));
  }

  let retried;
  try {
    retried = await deps.requests.recordStep(
      requestId,
      newStep(stepId.retried(attempt), 'retried', 'ok', {
        actor,
        at: now,
        // The poll interval goes into the run's input: kept, so that a restart of the run asks for the same one.
        detail: {
          attempt,
          resumeAt,
          after: request.reason,
          pollIntervalSeconds: deps.policy.nodeTracking.pollIntervalSeconds,
        },
      }),
      { status: statusOnResume(resumeAt), from: ['FAILED'], retries: attempt },
    );
  } catch (error) {
    // Changed since we read it: another retry, recorded under another attempt number.
    if (!(error instanceof InvalidTransitionError)) throw error;
    throw new NotRetryableError(`request ${requestId} changed while retrying it: read it and try again`);
  }
  if (!retried.recorded && isTerminal(retried.request.status)) {
    // That attempt was recorded by another call and has ended since.
    throw new NotRetryableError(`request ${requestId} changed while retrying it: read it and try again`);
  }
  await startRetriedRun(
    retried.request,
    { attempt, resumeAt, pollIntervalSeconds: deps.policy.nodeTracking.pollIntervalSeconds },
    deps,
  );
  return toRequestView(retried.request, { nodeTracking: deps.policy.nodeTracking.enabled });
}

const shareOf = (request: PoolRequestRecord, attempt: number) => ({
  team: request.team,
  flavor: request.flavor,
  requestId: request.requestId,
  count: request.count,
  attempt,
});

/**
 * The quota and the node-pool name a failure before creation gave up, taken again for `attempt` (or
 * 409). The nodes may be counted already: another call for the same attempt reserved them, or
 * reconciliation counts a node pool the failed create made after all. If the name is taken, what this
 * call reserved is given back at once (a concurrent call that goes on anyway has its run reserve again).
 */
async function takeBack(request: PoolRequestRecord, attempt: number, deps: RetryDeps, now: Date): Promise<void> {
  const decision = quotaForRequest(deps.policy.teams, request);
  const share = shareOf(request, attempt);
  // A reservation the failed run still holds (its Finalize has not given it back yet, or never will) is taken over.
  const reservation: Reservation = decision.ok
    ? await deps.quotas.reserveForAttempt(share, decision.maxInUseBefore)
    : 'refused';
  if (reservation === 'busy')
    throw new NotRetryableError(`request ${request.requestId} changed while retrying it: read it and try again`);
  if (!isCounted(reservation))
    throw new NotRetryableError(
      `request ${request.requestId} cannot be retried now: ${quotaRefusal(decision, request)}`,
    );
  try {
    await claimNodePoolName(
      { projectId: request.projectId, poolName: request.poolName, nodePoolName: request.nodePoolName },
      request.requestId,
      deps,
      now,
      { retry: true },
    );
  } catch (error) {
    if (reservation === 'reserved') await deps.quotas.release(share);
    throw error;
  }
}

function quotaRefusal(decision: QuotaDecision, request: PoolRequestRecord): string {
  if (decision.ok)
    return `the team's quota of ${decision.limit} ${request.flavor} node(s) has no room for ${request.count} now (QUOTA_EXCEEDED)`;
  if (decision.reason === 'QUOTA_EXCEEDED')
    return `${request.count} node(s) exceed the team's quota of ${decision.limit} ${request.flavor} node(s) (QUOTA_EXCEEDED)`;
  return `the team may no longer use ${request.flavor} (FLAVOR_NOT_ALLOWED)`;
}

async function startRetriedRun(
  request: PoolRequestRecord,
  retry: Pick<LatestRetry, 'attempt' | 'resumeAt' | 'pollIntervalSeconds'>,
  deps: RetryDeps,
): Promise<void> {
  await startOrUnavailable(
    deps.workflow,
    request.requestId,
    'the same call',
    retriedRun(request, retry, deps.policy.nodeTracking),
    kindOf(request),
  );
}
