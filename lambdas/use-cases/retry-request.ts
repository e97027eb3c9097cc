/**
 * Retry: the requester (or an admin) runs a FAILED request again from the step that failed, without
 * asking anyone to approve it again (lambdas/domain/retry.ts says where it resumes).
 *  1. resuming at CreateNodePool: reserve the quota again (the failure gave it back) and take the
 *     node-pool name back; either refused -> 409, nothing changed;
 *  2. record `retried:<n>` moving the request FAILED -> PROVISIONING (or CREATED), in one conditional
 *     write: of two retries at once, one records it and both start the same run;
 *  3. start the run `<id>-retry-<n>` (CheckRequest hands it straight to its resume point).
 * Repeating the call while that retry is under way starts nothing new (the run's name is taken)
 * and answers the same: a client whose first call got a 503 or lost its answer may simply repeat it.
 */
import type { ClaimRepository } from '../adapters/dynamodb/claim-repository';
import type { QuotaRepository } from '../adapters/dynamodb/quota-repository';
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { Workflow } from '../adapters/workflow';
import type { Policy } from '../config/policy';
import { InvalidTransitionError, NotFoundError, NotRetryableError } from '../domain/errors';
import { toRequestView, type PoolRequestRecord, type RequestView } from '../domain/pool-request';
import { quotaFor } from '../domain/quota';
import { resumePointOf, statusOnResume, type ResumePoint } from '../domain/retry';
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
    const attempt = request.retries ?? 0;
    const resumeAt = request.steps.find((s) => s.id === stepId.retried(attempt))?.detail?.resumeAt as ResumePoint | undefined;
    if (!resumeAt || isFinal(request.status, deps.policy.nodeTracking.enabled)) {
      throw new NotRetryableError(`request ${requestId} is ${request.status}: only a FAILED request can be retried`);
    }
    await start(request, attempt, resumeAt, deps);
    return toRequestView(request, { nodeTracking: deps.policy.nodeTracking.enabled });
  }

  const resumeAt = resumePointOf(request.steps);
  if (!resumeAt) {
    throw new NotRetryableError(`request ${requestId} failed before it was approved (${request.reason ?? 'unknown reason'}): submit it again`);
  }
  if (resumeAt === 'CreateNodePool') await takeBack(request, deps, now);

  const attempt = (request.retries ?? 0) + 1;
  let retried;
  try {
    retried = await deps.requests.recordStep(
      requestId,
      newStep(stepId.retried(attempt), 'retried', 'ok', { actor, at: now, detail: { attempt, resumeAt, after: request.reason } }),
      { status: statusOnResume(resumeAt), from: ['FAILED'], retries: attempt },
    );
  } catch (error) {
    // Changed since we read it: another retry, recorded under another attempt number.
    if (error instanceof InvalidTransitionError) throw new NotRetryableError(`request ${requestId} changed while retrying it: read it and try again`);
    throw error;
  }
  if (!retried.recorded && isTerminal(retried.request.status)) {
    // That attempt was recorded by another call and has ended since: what we reserved is ours to give back.
    if (resumeAt === 'CreateNodePool') await deps.quotas.release({ team: request.team, flavor: request.flavor, requestId, count: request.count });
    throw new NotRetryableError(`request ${requestId} changed while retrying it: read it and try again`);
  }
  await start(retried.request, attempt, resumeAt, deps);
  return toRequestView(retried.request, { nodeTracking: deps.policy.nodeTracking.enabled });
}

/** The quota and the node-pool name a failure before creation gave up, taken again (or 409). */
async function takeBack(request: PoolRequestRecord, deps: RetryDeps, now: Date): Promise<void> {
  const team = deps.policy.teams.find((t) => t.name === request.team);
  const decision = team ? quotaFor(team, request.flavor, request.count) : ({ ok: false, reason: 'FLAVOR_NOT_ALLOWED' } as const);
  const share = { team: request.team, flavor: request.flavor, requestId: request.requestId, count: request.count };
  if (!decision.ok || !(await deps.quotas.reserve(share, decision.maxInUseBefore))) {
    const why = decision.ok ? `the team's quota of ${decision.limit} ${request.flavor} node(s) has no room for ${request.count}` : `the team may no longer use ${request.flavor}`;
    throw new NotRetryableError(`request ${request.requestId} cannot be retried now: ${why} (QUOTA_EXCEEDED)`);
  }
  try {
    await claimNodePoolName({ projectId: request.projectId, poolName: request.poolName, nodePoolName: request.nodePoolName }, request.requestId, deps, now);
  } catch (error) {
    await deps.quotas.release(share);
    throw error;
  }
}

async function start(request: PoolRequestRecord, attempt: number, resumeAt: ResumePoint, deps: RetryDeps): Promise<void> {
  const tracking = deps.policy.nodeTracking;
  const created = resumeAt === 'CheckNodes' ? { nodePoolName: request.nodePoolName, track: true, waitSeconds: tracking.pollIntervalSeconds } : null;
  await startOrUnavailable(deps.workflow, request.requestId, 'the same call', { attempt, created });
}
