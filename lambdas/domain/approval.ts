/**
 * One approval: one stage of one request. Votes are kept per approver; the first writer of the
 * decision wins. The task token is stored here only, never in a link, page or log.
 */
import type { StageOutcome, Vote } from './votes';

export interface CastVote {
  readonly vote: Vote;
  readonly at: string;
  readonly comment?: string;
}

export interface ApprovalRecord {
  readonly approvalId: string;
  readonly requestId: string;
  readonly stageIndex: number;
  readonly stageName: string;
  readonly finalStage: boolean;
  readonly approvers: readonly string[];
  readonly requiredApprovals: number;
  readonly votes: Readonly<Record<string, CastVote>>;
  readonly decision?: Exclude<StageOutcome, 'pending'>;
  readonly decidedAt?: string;
  /** Set when the approval can no longer be decided: it expired or its request was cancelled. */
  readonly closed?: 'EXPIRED' | 'CANCELLED';
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly taskToken: string;
}

export function approvalIdFor(requestId: string, stageIndex: number): string {
  return `${requestId}.${stageIndex}`;
}

export function votesOf(record: ApprovalRecord): Record<string, Vote> {
  return Object.fromEntries(Object.entries(record.votes).map(([who, v]) => [who, v.vote]));
}
