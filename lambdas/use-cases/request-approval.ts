/**
 * RequestApproval (the waitForTaskToken step), for one stage; it runs again after each reminder and
 * after a restart, each time with a new task token:
 *  1. open the stage's approval, or, when it exists, only store the new token (votes and expiry stay);
 *     the first stage's `approval_requested` was recorded with the checks: its time and expiry are
 *     the approval's;
 *  2. if the stage was settled while the token was being replaced, answer the new token at once:
 *     a vote that raced a reminder is never lost;
 *  3. a later stage: record its `approval_requested` (the request stays AWAITING_APPROVAL), once;
 *  4. the first time only, ask the approvers (e-mail with a personal link, Slack with buttons), then
 *     mark the approval notified (a run that crashed before the mark asks again).
 */
import type { RequestApprovalPayload } from '../../contracts/workflow';
import { approvalIdFor } from '../domain/approval';
import { InvalidTransitionError, NotFoundError } from '../domain/errors';
import { approvalRequestedStep, stepId } from '../domain/steps';
import type { Notifier } from './notifier';
import { stageNeedsOrderId, workflowOutcome } from './stage-outcome';
import type { ApprovalStore, Clock, RequestStore, WorkflowRuns } from './ports';

export type RequestApprovalInput = RequestApprovalPayload;

export interface RequestApprovalDeps {
  readonly requests: RequestStore;
  readonly approvals: ApprovalStore;
  readonly notifier: Pick<Notifier, 'askApprovers'>;
  readonly workflow: Pick<WorkflowRuns, 'answer'>;
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

export async function requestApproval(
  input: RequestApprovalInput,
  deps: RequestApprovalDeps,
): Promise<{ approvalId: string; notified: number }> {
  const now = deps.now();
  const request = await deps.requests.get(input.requestId);
  if (!request) throw new NotFoundError(`request ${input.requestId} not found`);
  const stage = request.stages[input.stageIndex];
  if (!stage) throw new NotFoundError(`request ${input.requestId} has no approval stage ${input.stageIndex}`);

  const approvalId = approvalIdFor(request.requestId, input.stageIndex);
  const asked = request.steps.find((s) => s.id === stepId.approvalRequested(stage.name));
  const askedExpiry = asked?.detail?.expiresAt;
  const approval = await deps.approvals.open({
    approvalId,
    requestId: request.requestId,
    stageIndex: input.stageIndex,
    stageName: stage.name,
    finalStage: input.stageIndex === request.stages.length - 1,
    approvers: stage.approvers.map((a) => a.email),
    approverSlackIds: Object.fromEntries(
      stage.approvers.flatMap((a) => (a.slackUserId ? [[a.email, a.slackUserId]] : [])),
    ),
    requiredApprovals: stage.requiredApprovals,
    needsOrderId: stageNeedsOrderId(request, input.stageIndex),
    createdAt: asked?.at ?? now.toISOString(),
    expiresAt:
      typeof askedExpiry === 'string'
        ? askedExpiry
        : new Date(now.getTime() + stage.expireAfterSeconds * 1000).toISOString(),
    taskToken: input.taskToken,
  });
  if (approval.decision) {
    await deps.workflow.answer(input.taskToken, workflowOutcome(request, approval, approval.decision));
    return { approvalId, notified: 0 };
  }

  if (!asked) {
    await deps.requests.recordStep(
      request.requestId,
      approvalRequestedStep(stage, approval.approvers, approval.expiresAt, now),
      { status: 'AWAITING_APPROVAL' },
    );
  }
  if (approval.notifiedAt) return { approvalId, notified: 0 };
  // Nobody is asked about a request that stopped waiting (cancelled while the workflow moved on).
  if (asked && request.status !== 'AWAITING_APPROVAL')
    throw new InvalidTransitionError(`request ${request.requestId} is ${request.status}: its approvers are not asked`);
  const waiting = approval.approvers.filter((email) => !approval.votes[email]);
  const slackMessages = await deps.notifier.askApprovers(request, approval, waiting);
  await deps.approvals.markNotified(approvalId, now.toISOString(), slackMessages);
  return { approvalId, notified: waiting.length };
}
