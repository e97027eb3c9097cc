/**
 * Approval links: showing (GET, never decides) and deciding (POST).
 * Deciding:
 *  1. the link's signature binds it to this approval and this approver;
 *  2. the vote is one conditional write (first writer wins per approver; nothing after a decision or expiry);
 *  3. whoever writes the stage decision records it on the request with the status it causes ...
 *  4. ... and only then answers the workflow's task token.
 */
import type { ApprovalRepository } from '../adapters/dynamodb/approval-repository';
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { ApprovalOutcome, Workflow } from '../adapters/workflow';
import { verifyLinkSignature } from '../domain/approval-link';
import { votesOf, type ApprovalRecord } from '../domain/approval';
import { AlreadyDecidedError, ApprovalClosedError, InvalidLinkError, NotFoundError } from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import { newStep, stepId } from '../domain/steps';
import { tallyVotes, type StageOutcome, type Vote } from '../domain/votes';
import { logger } from '../adapters/logger';
import { approvalWaitSeconds } from './approval-timing';

export const MAX_COMMENT_CHARS = 2000;

export interface LinkProof {
  readonly approvalId: string;
  readonly approver: string;
  readonly signature: string;
}

export interface ApprovalDeps {
  readonly requests: RequestRepository;
  readonly approvals: ApprovalRepository;
  readonly workflow: Pick<Workflow, 'answer'>;
  readonly linkKey: string;
  readonly now?: () => Date;
}

export interface ApprovalContext {
  readonly approval: ApprovalRecord;
  readonly request: PoolRequestRecord;
  readonly approver: string;
}

/** Loads what a valid, still-open link shows; throws the error that says why it cannot be used. */
export async function openApprovalLink(proof: LinkProof, deps: ApprovalDeps): Promise<ApprovalContext> {
  const now = (deps.now ?? (() => new Date()))();
  const approver = proof.approver.toLowerCase();
  if (!verifyLinkSignature({ approvalId: proof.approvalId, approver }, proof.signature, deps.linkKey)) {
    throw new InvalidLinkError('this approval link is not valid (its signature does not match)');
  }
  const approval = await deps.approvals.get(proof.approvalId);
  if (!approval || !approval.approvers.includes(approver)) throw new InvalidLinkError('this approval link is not valid');
  assertStillOpen(approval, approver, now);
  const request = await deps.requests.get(approval.requestId);
  if (!request) throw new NotFoundError(`request ${approval.requestId} not found`);
  return { approval, request, approver };
}

export interface DecisionResult {
  readonly outcome: StageOutcome;
  readonly request: PoolRequestRecord;
  readonly approval: ApprovalRecord;
}

export async function decideApproval(proof: LinkProof, vote: Vote, comment: string | undefined, deps: ApprovalDeps): Promise<DecisionResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { approval, request, approver } = await openApprovalLink(proof, deps);
  const cast = { vote, at: now.toISOString(), ...(comment ? { comment: comment.slice(0, MAX_COMMENT_CHARS) } : {}) };

  // When this vote alone settles the stage, the vote and the decision are one write.
  const predicted = tallyVotes({ ...votesOf(approval), [approver]: vote }, approval.requiredApprovals);
  const written = await deps.approvals.castVote(approval.approvalId, approver, cast, predicted === 'pending' ? undefined : predicted);
  if (!written.ok) {
    assertStillOpen(written.approval ?? approval, approver, now);
    throw new AlreadyDecidedError('this approval was decided meanwhile');
  }
  let after = written.approval;
  let decidedByMe = after.decision !== undefined;
  const outcome = after.decision ?? tallyVotes(votesOf(after), after.requiredApprovals);
  if (!decidedByMe && outcome !== 'pending') {
    // Votes cast at the same moment reached the threshold together: one of us writes the decision.
    decidedByMe = await deps.approvals.decide(after.approvalId, outcome, cast.at);
    if (decidedByMe) after = { ...after, decision: outcome, decidedAt: cast.at };
  }

  const statusChange = !decidedByMe
    ? undefined
    : outcome === 'rejected'
      ? ({ status: 'REJECTED', reason: 'APPROVER_REJECTED' } as const)
      : after.finalStage
        ? ({ status: 'PROVISIONING' } as const)
        : undefined;
  const recorded = await deps.requests.recordStep(
    request.requestId,
    newStep(stepId.vote(after.stageName, approver), vote === 'approve' ? 'approved' : 'rejected', vote === 'approve' ? 'ok' : 'refused', {
      actor: approver,
      at: now,
      detail: { stage: after.stageName, ...(cast.comment ? { comment: cast.comment } : {}), ...(decidedByMe ? { decided: outcome } : {}) },
    }),
    statusChange,
  );

  if (decidedByMe) {
    const answer = await deps.workflow.answer(after.taskToken, workflowOutcome(recorded.request, after, outcome));
    if (answer === 'gone') {
      logger.warn('approval decided but its task no longer waits', { requestId: request.requestId, approvalId: after.approvalId });
      throw new ApprovalClosedError('this approval expired before the decision reached the workflow');
    }
  }
  return { outcome, request: recorded.request, approval: after };
}

function workflowOutcome(request: PoolRequestRecord, approval: ApprovalRecord, outcome: StageOutcome): ApprovalOutcome {
  if (outcome === 'rejected') return { status: 'rejected', stageIndex: approval.stageIndex, waitSeconds: 0 };
  const next = request.stages[approval.stageIndex + 1];
  if (approval.finalStage || !next) return { status: 'approved', stageIndex: approval.stageIndex, waitSeconds: 0 };
  return { status: 'pending', stageIndex: approval.stageIndex + 1, waitSeconds: approvalWaitSeconds(next) };
}

function assertStillOpen(approval: ApprovalRecord, approver: string, now: Date): void {
  if (approval.closed === 'CANCELLED') throw new ApprovalClosedError('this request was cancelled');
  if (approval.decision) throw new AlreadyDecidedError(`this approval was already decided: ${approval.decision}`);
  if (approval.closed === 'EXPIRED' || Date.parse(approval.expiresAt) <= now.getTime()) throw new ApprovalClosedError('this approval has expired');
  if (approval.votes[approver]) throw new AlreadyDecidedError(`you already voted: ${approval.votes[approver].vote}`);
}
