/**
 * RequestApproval (the waitForTaskToken step), for one stage:
 *  1. open the stage's approval (or, when it exists, only store the new task token: votes and expiry stay);
 *  2. record `approval_requested` and move the request to AWAITING_APPROVAL;
 *  3. e-mail each eligible approver a personal signed link.
 * A retry sends the e-mails again (at least once beats never); it records nothing twice.
 */
import type { ApprovalRepository } from '../adapters/dynamodb/approval-repository';
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { Mailer } from '../adapters/mailer';
import { approvalLink } from '../domain/approval-link';
import { approvalIdFor } from '../domain/approval';
import { NotFoundError } from '../domain/errors';
import { newStep, stepId } from '../domain/steps';
import { approvalRequestMail } from '../presentation/approval-mail';

export interface RequestApprovalInput {
  readonly requestId: string;
  readonly stageIndex: number;
  readonly taskToken: string;
}

export interface RequestApprovalDeps {
  readonly requests: RequestRepository;
  readonly approvals: ApprovalRepository;
  readonly mailer: Pick<Mailer, 'send'>;
  readonly linkKey: string;
  readonly publicBaseUrl: string;
  readonly now?: () => Date;
}

export async function requestApproval(input: RequestApprovalInput, deps: RequestApprovalDeps): Promise<{ approvalId: string; notified: number }> {
  const now = (deps.now ?? (() => new Date()))();
  const request = await deps.requests.get(input.requestId);
  if (!request) throw new NotFoundError(`request ${input.requestId} not found`);
  const stage = request.stages[input.stageIndex];
  if (!stage) throw new NotFoundError(`request ${input.requestId} has no approval stage ${input.stageIndex}`);

  const approvalId = approvalIdFor(request.requestId, input.stageIndex);
  const approval = await deps.approvals.open({
    approvalId,
    requestId: request.requestId,
    stageIndex: input.stageIndex,
    stageName: stage.name,
    finalStage: input.stageIndex === request.stages.length - 1,
    approvers: stage.approvers.map((a) => a.email),
    requiredApprovals: stage.requiredApprovals,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + stage.expireAfterSeconds * 1000).toISOString(),
    taskToken: input.taskToken,
  });

  await deps.requests.recordStep(
    request.requestId,
    newStep(stepId.approvalRequested(stage.name), 'approval_requested', 'ok', {
      at: now,
      detail: { stage: stage.name, approvers: approval.approvers, requiredApprovals: stage.requiredApprovals, expiresAt: approval.expiresAt },
    }),
    { status: 'AWAITING_APPROVAL' },
  );

  const waiting = approval.approvers.filter((email) => !approval.votes[email]);
  for (const approver of waiting) {
    const link = approvalLink(deps.publicBaseUrl, { approvalId, approver }, deps.linkKey);
    await deps.mailer.send(approvalRequestMail(request, stage.name, approver, link, approval.expiresAt));
  }
  return { approvalId, notified: waiting.length };
}
