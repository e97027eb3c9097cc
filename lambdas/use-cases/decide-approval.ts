/**
 * Deciding an approval, from a personal link (GET shows, POST decides) or a Slack button.
 *  1. who decides: the link's signature binds it to one approval and one approver; a Slack click is
 *     mapped from Slack's (signed) user id to an approver of the stage;
 *  2. the vote is one conditional write (first writer wins per approver; nothing after a decision,
 *     a cancellation or the expiry);
 *  3. whoever writes the stage decision records it on the request, with the status it causes ...
 *  4. ... then answers the workflow's task token (if a reminder is replacing the token at that
 *     moment, RequestApproval answers the new one itself), and updates the stage's Slack messages.
 */
import { logger } from '../adapters/logger';
import { verifyLinkSignature } from '../domain/approval-link';
import { votesOf, type ApprovalRecord, type CastVote } from '../domain/approval';
import {
  AlreadyDecidedError,
  ApprovalClosedError,
  InvalidLinkError,
  NotFoundError,
  ValidationError,
} from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import { newStep, stepId } from '../domain/steps';
import { tallyVotes, type StageOutcome, type Vote } from '../domain/votes';
import { approvalWaitSeconds, type RecordMetric } from './metrics';
import type { Notifier } from './notifier';
import { workflowOutcome } from './stage-outcome';
import type { ApprovalStore, Clock, RequestStore, WorkflowRuns } from './ports';

export const MAX_COMMENT_CHARS = 2000;
const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface LinkProof {
  readonly approvalId: string;
  readonly approver: string;
  readonly signature: string;
}

export interface ApprovalDeps {
  readonly requests: RequestStore;
  readonly approvals: ApprovalStore;
  readonly workflow: Pick<WorkflowRuns, 'answer'>;
  readonly notifier: Pick<Notifier, 'showSettled'>;
  readonly linkKey: string;
  readonly recordMetric?: RecordMetric;
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

/** An approver of an approval, identified (by a link signature or by Slack), before any check of state. */
export interface Decider {
  readonly approval: ApprovalRecord;
  readonly approver: string;
  readonly via: 'link' | 'slack';
}

export interface ApprovalContext extends Decider {
  readonly request: PoolRequestRecord;
}

export function verifyLink(proof: LinkProof, key: string): void {
  if (
    !verifyLinkSignature({ approvalId: proof.approvalId, approver: proof.approver.toLowerCase() }, proof.signature, key)
  ) {
    throw new InvalidLinkError('this approval link is not valid (its signature does not match)');
  }
}

/** Identifies the approver behind a link; throws when the link is not valid. */
export async function deciderFromLink(
  proof: LinkProof,
  deps: Pick<ApprovalDeps, 'approvals' | 'linkKey'>,
): Promise<Decider> {
  verifyLink(proof, deps.linkKey);
  const approver = proof.approver.toLowerCase();
  const approval = await deps.approvals.get(proof.approvalId);
  if (!approval || !approval.approvers.includes(approver))
    throw new InvalidLinkError('this approval link is not valid');
  return { approval, approver, via: 'link' };
}

/** Loads what a still-open approval shows its approver; throws the error that says why it cannot be used. */
export async function openApproval(
  decider: Decider,
  deps: Pick<ApprovalDeps, 'requests' | 'now'>,
): Promise<ApprovalContext> {
  assertStillOpen(decider.approval, decider.approver, deps.now());
  const request = await deps.requests.get(decider.approval.requestId);
  if (!request) throw new NotFoundError(`request ${decider.approval.requestId} not found`);
  return { ...decider, request };
}

export interface DecisionInput {
  readonly vote: Vote;
  readonly comment?: string;
  readonly orderId?: string;
}

export interface DecisionResult {
  readonly outcome: StageOutcome;
  readonly request: PoolRequestRecord;
  readonly approval: ApprovalRecord;
}

export async function decide(decider: Decider, input: DecisionInput, deps: ApprovalDeps): Promise<DecisionResult> {
  const now = deps.now();
  const { approval, request, approver } = await openApproval(decider, deps);
  const orderId = input.orderId?.trim();
  if (approval.needsOrderId && input.vote === 'approve') {
    if (!orderId)
      throw new ValidationError(
        'orderId: the ModelArts order id is required to approve a yearly/monthly request that has none',
      );
    if (!ORDER_ID.test(orderId)) throw new ValidationError('orderId: must be 1-64 letters, digits, "-" or "_"');
  }
  const cast: CastVote = {
    vote: input.vote,
    at: now.toISOString(),
    via: decider.via,
    ...(input.comment ? { comment: input.comment.slice(0, MAX_COMMENT_CHARS) } : {}),
    ...(approval.needsOrderId && orderId && input.vote === 'approve' ? { orderId } : {}),
  };

  // When this vote alone settles the stage, the vote and the decision are one write.
  const predicted = tallyVotes({ ...votesOf(approval), [approver]: input.vote }, approval.requiredApprovals);
  const written = await deps.approvals.castVote(
    approval.approvalId,
    approver,
    cast,
    predicted === 'pending' ? undefined : predicted,
  );
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
    newStep(
      stepId.vote(after.stageName, approver),
      input.vote === 'approve' ? 'approved' : 'rejected',
      input.vote === 'approve' ? 'ok' : 'refused',
      {
        actor: approver,
        at: now,
        detail: {
          stage: after.stageName,
          via: decider.via,
          ...(cast.comment ? { comment: cast.comment } : {}),
          ...(cast.orderId ? { orderId: cast.orderId } : {}),
          ...(decidedByMe ? { decided: outcome } : {}),
        },
      },
    ),
    statusChange,
  );

  if (decidedByMe && outcome !== 'pending') {
    deps.recordMetric?.(
      'approvalWaitTime',
      approvalWaitSeconds(recorded.request, after.stageName, after.createdAt, now),
      'Seconds',
    );
    if (outcome === 'rejected') deps.recordMetric?.('rejected', 1, 'Count');
    else if (after.finalStage) deps.recordMetric?.('approved', 1, 'Count');
    await answerWorkflow(recorded.request, after, outcome, deps);
    await deps.notifier.showSettled(
      recorded.request,
      after,
      outcome === 'approved' ? `approved by ${approver}` : `rejected by ${approver}`,
    );
  }
  return { outcome, request: recorded.request, approval: after };
}

/**
 * Answers the task token stored with the approval. A token that no longer waits means either the
 * stage expired (the decision came too late) or a reminder is replacing the token right now; in that
 * case RequestApproval finds the decision and answers the new token itself.
 */
async function answerWorkflow(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  outcome: Exclude<StageOutcome, 'pending'>,
  deps: ApprovalDeps,
): Promise<void> {
  const output = workflowOutcome(request, approval, outcome);
  let token = approval.taskToken;
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await deps.workflow.answer(token, output)) === 'delivered') return;
    const current = await deps.approvals.get(approval.approvalId);
    if (!current || current.closed) break;
    if (current.taskToken === token) {
      logger.info('decision recorded while the task token is being replaced; RequestApproval will answer it', {
        approvalId: approval.approvalId,
      });
      return;
    }
    token = current.taskToken;
  }
  throw new ApprovalClosedError('this approval expired before the decision reached the workflow');
}

function assertStillOpen(approval: ApprovalRecord, approver: string, now: Date): void {
  if (approval.closed === 'CANCELLED') throw new ApprovalClosedError('this request was cancelled');
  if (approval.decision) throw new AlreadyDecidedError(`this approval was already decided: ${approval.decision}`);
  if (approval.closed === 'EXPIRED' || Date.parse(approval.expiresAt) <= now.getTime())
    throw new ApprovalClosedError('this approval has expired');
  if (approval.votes[approver]) throw new AlreadyDecidedError(`you already voted: ${approval.votes[approver].vote}`);
}
