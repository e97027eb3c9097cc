/**
 * Approval items (`APPROVAL#<id>` / `META`). A vote is one conditional write (first writer wins
 * per approver); the decision is set at most once.
 *
 * Beside each approval, one small "waiting" item per approver who has been asked and has not voted
 * (`APPROVAL#<id>` / `WAITING#<email>`, indexed by `byApprover`): it answers "what waits for my
 * decision" without a scan. It is written when approvers are asked (open, remind) and deleted when
 * they vote or the stage is decided or closed; every write is a single-item write of its own, so a
 * crash in between can leave one behind: readers check it against the approval (`isWaitingFor`), and
 * it expires with the approval (TTL).
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { notYetVoted, type ApprovalRecord, type CastVote, type SlackMessageRef } from '../../domain/approval';
import type { IndexPosition } from '../../domain/list-cursor';
import type { StageOutcome } from '../../domain/votes';
import { batchGetAll, isConditionFailure } from './client';

const key = (approvalId: string) => ({ pk: `APPROVAL#${approvalId}`, sk: 'META' });
const waitingKey = (approvalId: string, approver: string) => ({ pk: `APPROVAL#${approvalId}`, sk: `WAITING#${approver}` });
/** Approvals are kept for audit well after they close; the request item keeps the history for good. */
const RETENTION_SECONDS = 90 * 24 * 3600;
/** A waiting item outlives its approval's expiry by a day at most (left behind only by a crash or a race). */
const WAITING_TTL_GRACE_SECONDS = 24 * 3600;
const BY_APPROVER = 'byApprover';

/** One approval that asked `approver` (from the byApprover index), newest first. */
export interface WaitingEntry {
  readonly approvalId: string;
  readonly requestId: string;
  readonly approver: string;
  readonly stageName: string;
  readonly askedAt: string;
  readonly expiresAt: string;
}

export interface WaitingPage {
  readonly entries: readonly WaitingEntry[];
  /** Where the next page starts; absent at the end. */
  readonly next?: IndexPosition;
}

export type OpenApproval = Omit<ApprovalRecord, 'votes' | 'decision' | 'decidedAt' | 'closed' | 'notifiedAt' | 'reminders' | 'slackMessages'>;

export type VoteResult =
  | { readonly ok: true; readonly approval: ApprovalRecord }
  | { readonly ok: false; readonly approval: ApprovalRecord | undefined };

export class ApprovalRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Creates the approval, or, when it exists (a retry, a reminder, a resumed execution), only
   * replaces its task token: votes, expiry and decision stay as they are.
   */
  async open(approval: OpenApproval): Promise<ApprovalRecord> {
    const fields = Object.entries(approval).filter(([name]) => name !== 'taskToken' && name !== 'approvalId');
    const names: Record<string, string> = { '#taskToken': 'taskToken', '#votes': 'votes', '#ttl': 'expiresAtEpoch' };
    const values: Record<string, unknown> = {
      ':taskToken': approval.taskToken,
      ':noVotes': {},
      ':ttl': Math.floor(Date.parse(approval.expiresAt) / 1000) + RETENTION_SECONDS,
    };
    const sets = ['#taskToken = :taskToken', '#votes = if_not_exists(#votes, :noVotes)', '#ttl = if_not_exists(#ttl, :ttl)'];
    fields.forEach(([name, value], i) => {
      names[`#f${i}`] = name;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = if_not_exists(#f${i}, :f${i})`);
    });
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(approval.approvalId),
        UpdateExpression: `SET approvalId = :id, ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':id': approval.approvalId },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const record = toRecord(Attributes);
    await this.markWaiting(record);
    return record;
  }

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key(approvalId), ConsistentRead: true }));
    return Item ? toRecord(Item) : undefined;
  }

  /**
   * Records `approver`'s vote if the approval is still open, the approver has not voted and the
   * approval has not expired. With `decision`, the same write also decides the stage (used when
   * this vote alone settles it).
   */
  async castVote(approvalId: string, approver: string, vote: CastVote, decision?: Exclude<StageOutcome, 'pending'>): Promise<VoteResult> {
    const sets = ['#votes.#who = :vote'];
    const values: Record<string, unknown> = { ':vote': vote, ':now': vote.at, ':approver': approver };
    if (decision) {
      sets.push('#decision = :decision', '#decidedAt = :now');
      values[':decision'] = decision;
    }
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(approvalId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#decision) AND attribute_not_exists(#closed) AND attribute_not_exists(#votes.#who) AND #expiresAt > :now AND contains(#approvers, :approver)',
          ExpressionAttributeNames: {
            '#votes': 'votes',
            '#who': approver,
            '#decision': 'decision',
            ...(decision ? { '#decidedAt': 'decidedAt' } : {}),
            '#closed': 'closed',
            '#expiresAt': 'expiresAt',
            '#approvers': 'approvers',
          },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = toRecord(Attributes);
      await this.clearWaiting(approvalId, decision ? record.approvers : [approver]);
      return { ok: true, approval: record };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { ok: false, approval: await this.get(approvalId) };
    }
  }

  /** Sets the stage decision once; false when another writer decided first. */
  async decide(approvalId: string, decision: Exclude<StageOutcome, 'pending'>, at: string): Promise<boolean> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(approvalId),
          UpdateExpression: 'SET #decision = :decision, #decidedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#decision) AND attribute_not_exists(#closed)',
          ExpressionAttributeNames: { '#decision': 'decision', '#decidedAt': 'decidedAt', '#closed': 'closed' },
          ExpressionAttributeValues: { ':decision': decision, ':at': at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      await this.clearWaiting(approvalId, toRecord(Attributes).approvers);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Records that the approvers were asked, and the Slack messages that asked them. */
  async markNotified(approvalId: string, at: string, slackMessages: readonly SlackMessageRef[]): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(approvalId),
        UpdateExpression: 'SET #notifiedAt = if_not_exists(#notifiedAt, :at), #slack = list_append(if_not_exists(#slack, :none), :messages)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#notifiedAt': 'notifiedAt', '#slack': 'slackMessages' },
        ExpressionAttributeValues: { ':at': at, ':none': [], ':messages': [...slackMessages] },
      }),
    );
  }

  /**
   * Counts a reminder and adds approvers (the team's escalation contacts) to an undecided approval.
   * Returns the approval as it is now, or undefined when it was decided or closed meanwhile.
   */
  async remind(approvalId: string, added: ReadonlyArray<{ email: string; slackUserId?: string }>): Promise<ApprovalRecord | undefined> {
    const names: Record<string, string> = { '#approvers': 'approvers', '#reminders': 'reminders', '#decision': 'decision', '#closed': 'closed' };
    const values: Record<string, unknown> = { ':one': 1, ':added': added.map((p) => p.email) };
    const sets = ['#approvers = list_append(#approvers, :added)'];
    added.forEach((person, i) => {
      if (!person.slackUserId) return;
      names['#slackIds'] = 'approverSlackIds';
      names[`#e${i}`] = person.email;
      values[`:s${i}`] = person.slackUserId;
      sets.push(`#slackIds.#e${i} = :s${i}`);
    });
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(approvalId),
          UpdateExpression: `SET ${sets.join(', ')} ADD #reminders :one`,
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#decision) AND attribute_not_exists(#closed)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = toRecord(Attributes);
      await this.markWaiting(record);
      return record;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Marks an undecided approval as no longer decidable (expired or cancelled). */
  async close(approvalId: string, reason: NonNullable<ApprovalRecord['closed']>): Promise<void> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(approvalId),
          UpdateExpression: 'SET #closed = :reason',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#decision) AND attribute_not_exists(#closed)',
          ExpressionAttributeNames: { '#decision': 'decision', '#closed': 'closed' },
          ExpressionAttributeValues: { ':reason': reason },
          ReturnValues: 'ALL_NEW',
        }),
      );
      await this.clearWaiting(approvalId, toRecord(Attributes).approvers);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * The approvals that asked `approver`, newest first, one page of the byApprover index. Entries may
   * be stale (a vote or decision raced the write): check each against its approval (`isWaitingFor`).
   */
  async waitingFor(approver: string, limit: number, startAt?: IndexPosition): Promise<WaitingPage> {
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_APPROVER,
        KeyConditionExpression: '#approver = :approver',
        ExpressionAttributeNames: { '#approver': 'gsiApprover' },
        ExpressionAttributeValues: { ':approver': approver },
        ScanIndexForward: false,
        Limit: limit,
        ...(startAt ? { ExclusiveStartKey: { ...startAt } } : {}),
      }),
    );
    const entries = (Items ?? []).map((item) => ({
      approvalId: String(item.approvalId),
      requestId: String(item.requestId),
      approver: String(item.gsiApprover),
      stageName: String(item.stageName),
      askedAt: String(item.createdAt),
      expiresAt: String(item.expiresAt),
    }));
    return { entries, ...(LastEvaluatedKey ? { next: LastEvaluatedKey as IndexPosition } : {}) };
  }

  /** Several approvals at once (BatchGetItem); missing ones are left out. */
  async getMany(approvalIds: readonly string[]): Promise<Map<string, ApprovalRecord>> {
    const items = await batchGetAll(this.db, this.tableName, [...new Set(approvalIds)].map(key));
    return new Map(items.map((item) => toRecord(item)).map((record) => [record.approvalId, record]));
  }

  /** One waiting item per approver of an open approval who has not voted (idempotent puts). */
  private async markWaiting(record: ApprovalRecord): Promise<void> {
    const ttl = Math.floor(Date.parse(record.expiresAt) / 1000) + WAITING_TTL_GRACE_SECONDS;
    for (const approver of notYetVoted(record)) {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...waitingKey(record.approvalId, approver),
            gsiApprover: approver,
            createdAt: record.createdAt,
            approvalId: record.approvalId,
            requestId: record.requestId,
            stageName: record.stageName,
            expiresAt: record.expiresAt,
            expiresAtEpoch: ttl,
          },
        }),
      );
    }
  }

  private async clearWaiting(approvalId: string, approvers: readonly string[]): Promise<void> {
    for (const approver of approvers) {
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: waitingKey(approvalId, approver) }));
    }
  }
}

function toRecord(item: Record<string, unknown> | undefined): ApprovalRecord {
  if (!item) throw new Error('approval item missing from the response');
  const { pk: _pk, sk: _sk, expiresAtEpoch: _ttl, ...record } = item;
  return record as unknown as ApprovalRecord;
}
