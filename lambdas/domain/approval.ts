/**
 * One approval: one stage of one request. Votes are kept per approver; the first writer of the
 * decision wins. The task token is stored here only, never in a link, page or log.
 */
import type { StageOutcome, Vote } from './votes';

export interface CastVote {
  readonly vote: Vote;
  readonly at: string;
  readonly comment?: string;
  /** How the vote came in. */
  readonly via?: 'link' | 'slack';
  /** The ModelArts order id a finance approver entered (yearly/monthly requests without one). */
  readonly orderId?: string;
}

/** A Slack message that asked for this approval, updated once the stage is decided. */
export interface SlackMessageRef {
  readonly channel: string;
  readonly ts: string;
}

export interface ApprovalRecord {
  readonly approvalId: string;
  readonly requestId: string;
  readonly stageIndex: number;
  readonly stageName: string;
  readonly finalStage: boolean;
  readonly approvers: readonly string[];
  /** Slack user id of each approver that has one: how a Slack click is mapped to an approver. */
  readonly approverSlackIds: Readonly<Record<string, string>>;
  readonly requiredApprovals: number;
  /** The approvers of this stage must enter an order id to approve (yearly/monthly without one). */
  readonly needsOrderId: boolean;
  readonly votes: Readonly<Record<string, CastVote>>;
  readonly decision?: Exclude<StageOutcome, 'pending'>;
  readonly decidedAt?: string;
  /** Set when the approval can no longer be decided: it expired or its request was cancelled. */
  readonly closed?: 'EXPIRED' | 'CANCELLED';
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly taskToken: string;
  /** When the approvers were first asked (set once: a retry or a restart does not ask again). */
  readonly notifiedAt?: string;
  readonly reminders?: number;
  readonly slackMessages?: readonly SlackMessageRef[];
}

/** The e-mail of the approver behind a Slack user id, if they are an approver of this stage. */
export function approverBySlackId(record: ApprovalRecord, slackUserId: string): string | undefined {
  return Object.entries(record.approverSlackIds).find(([, id]) => id === slackUserId)?.[0];
}

export function approvalIdFor(requestId: string, stageIndex: number): string {
  return `${requestId}.${stageIndex}`;
}

export function votesOf(record: ApprovalRecord): Record<string, Vote> {
  return Object.fromEntries(Object.entries(record.votes).map(([who, v]) => [who, v.vote]));
}

/** Whether this approval still waits for `approver`: open, undecided, not expired, and they have not voted. */
export function isWaitingFor(record: ApprovalRecord, approver: string, now: Date): boolean {
  return (
    !record.decision &&
    !record.closed &&
    Date.parse(record.expiresAt) > now.getTime() &&
    record.approvers.includes(approver) &&
    !record.votes[approver]
  );
}
