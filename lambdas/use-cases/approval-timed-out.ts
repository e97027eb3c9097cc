/**
 * ApprovalTimedOut (the Catch of RequestApproval's timeout): remind, or let the stage expire.
 *  - settled meanwhile (a vote raced the timeout): hand the outcome on;
 *  - past `expiresAt`: the stage expires (Finalize ends the request EXPIRED; nothing is auto-approved);
 *  - otherwise: add the team's escalation contacts, remind whoever has not voted, record `reminded`,
 *    and wait again (RequestApproval runs with a new token; links and votes stay valid).
 */
import type { ApprovalOutcome, ApprovalTimedOutPayload } from '../../contracts/workflow';
import { teamNamed } from '../domain/teams';
import type { Policy } from '../config/policy';
import { approvalIdFor } from '../domain/approval';
import { NotFoundError } from '../domain/errors';
import { newStep } from '../domain/steps';
import { reminderOrExpiryWaitSeconds } from './approval-timing';
import type { Notifier } from './notifier';
import { workflowOutcome } from './stage-outcome';
import type { ApprovalStore, Clock, RequestStore } from './ports';

export interface TimedOutDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  readonly approvals: ApprovalStore;
  readonly notifier: Pick<Notifier, 'askApprovers'>;
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

export async function approvalTimedOut(input: ApprovalTimedOutPayload, deps: TimedOutDeps): Promise<ApprovalOutcome> {
  const now = deps.now();
  const request = await deps.requests.get(input.requestId);
  if (!request) throw new NotFoundError(`request ${input.requestId} not found`);
  const approvalId = approvalIdFor(request.requestId, input.stageIndex);
  const approval = await deps.approvals.get(approvalId);
  const stage = request.stages[input.stageIndex];
  if (!approval || !stage) throw new NotFoundError(`approval ${approvalId} not found`);
  if (approval.decision) return workflowOutcome(request, approval, approval.decision);
  const expiresAt = new Date(approval.expiresAt);
  if (expiresAt.getTime() <= now.getTime() || approval.closed)
    return { status: 'expired', stageIndex: input.stageIndex, waitSeconds: 0 };

  const team = teamNamed(deps.policy, request.team);
  const added = (team?.escalation ?? []).filter(
    (p) => p.email !== request.requester && !approval.approvers.includes(p.email),
  );
  const reminded = await deps.approvals.remind(approvalId, added);
  if (!reminded) {
    const settled = await deps.approvals.get(approvalId);
    if (settled?.decision) return workflowOutcome(request, settled, settled.decision);
    return { status: 'expired', stageIndex: input.stageIndex, waitSeconds: 0 };
  }
  const waiting = reminded.approvers.filter((email) => !reminded.votes[email]);
  const slackMessages = await deps.notifier.askApprovers(request, reminded, waiting, true);
  await deps.approvals.markNotified(approvalId, now.toISOString(), slackMessages);
  await deps.requests.recordStep(
    request.requestId,
    newStep(`reminded:${stage.name}:${reminded.reminders ?? 1}`, 'reminded', 'ok', {
      at: now,
      detail: {
        stage: stage.name,
        reminded: waiting,
        ...(added.length ? { escalatedTo: added.map((p) => p.email) } : {}),
      },
    }),
    undefined,
    // Everyone the approval asks now may list it with awaiting=me (the whole list: a retried run, whose
    // contacts the approval already holds, still adds them).
    { addApprovers: reminded.approvers },
  );
  return {
    status: 'pending',
    stageIndex: input.stageIndex,
    waitSeconds: reminderOrExpiryWaitSeconds(stage, expiresAt, now),
  };
}
