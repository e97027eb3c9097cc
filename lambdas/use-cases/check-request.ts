/**
 * CheckRequest (first workflow step):
 *  1. someone is eligible to approve;
 *  2. the team may use the flavor, and its quota has room: reserve the nodes (atomic, idempotent);
 *  3. hand the first approval stage, with its wait, to the workflow.
 * A refusal ends the request REJECTED with a reason, in the same write as its step.
 */
import type { QuotaRepository } from '../adapters/dynamodb/quota-repository';
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { ApprovalOutcome } from '../adapters/workflow';
import type { Policy } from '../config/policy';
import { InvalidTransitionError, NotFoundError } from '../domain/errors';
import { quotaFor } from '../domain/quota';
import { newStep, stepId } from '../domain/steps';
import { firstWaitSeconds } from './approval-timing';

export interface CheckDeps {
  readonly policy: Policy;
  readonly requests: RequestRepository;
  readonly quotas: QuotaRepository;
}

export async function checkRequest(requestId: string, deps: CheckDeps): Promise<ApprovalOutcome> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  const refused = (reason: string): ApprovalOutcome => ({ status: 'refused', stageIndex: -1, waitSeconds: 0, reason });

  if (request.planError || request.stages.length === 0) {
    // Nobody may approve: refuse before anything is reserved.
    await deps.requests.recordStep(
      requestId,
      newStep(stepId.approvalRequested('none'), 'approval_requested', 'refused', { detail: { reason: 'NO_ELIGIBLE_APPROVER' } }),
      { status: 'REJECTED', reason: 'NO_ELIGIBLE_APPROVER' },
    );
    return refused('NO_ELIGIBLE_APPROVER');
  }

  const team = deps.policy.teams.find((t) => t.name === request.team);
  const decision = team ? quotaFor(team, request.flavor, request.count) : ({ ok: false, reason: 'FLAVOR_NOT_ALLOWED' } as const);
  const share = { team: request.team, flavor: request.flavor, requestId, count: request.count };
  const reserved = decision.ok && (await deps.quotas.reserve(share, decision.maxInUseBefore));
  if (!reserved) {
    const reason = decision.ok ? 'QUOTA_EXCEEDED' : decision.reason;
    const detail = { flavor: request.flavor, count: request.count, limit: decision.limit };
    await deps.requests.recordStep(requestId, newStep(stepId.quotaChecked(), 'quota_checked', 'refused', { detail: { ...detail, reason } }), {
      status: 'REJECTED',
      reason,
    });
    return refused(reason);
  }

  try {
    await deps.requests.recordStep(
      requestId,
      newStep(stepId.quotaChecked(), 'quota_checked', 'ok', { detail: { flavor: request.flavor, count: request.count, limit: decision.limit } }),
      { status: 'SUBMITTED' },
    );
  } catch (error) {
    // Cancelled while we reserved: give the nodes back.
    if (error instanceof InvalidTransitionError) {
      await deps.quotas.release(share);
      return refused('CANCELLED_BY_USER');
    }
    throw error;
  }
  return { status: 'pending', stageIndex: 0, waitSeconds: firstWaitSeconds(request.stages[0]) };
}
