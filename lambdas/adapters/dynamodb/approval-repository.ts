/**
 * Approval items (`APPROVAL#<id>` / `META`). A vote is one conditional write (first writer wins
 * per approver); the decision is set at most once. Each operation is one write of this one item:
 * what waits for an approver is found from the requests (lambdas/use-cases/list-requests.ts), not
 * from items kept beside the approval.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApprovalRecord, CastVote, SlackMessageRef } from '../../domain/approval';
import type { StageOutcome } from '../../domain/votes';
import { batchGetAll, isConditionFailure } from './client';

const key = (approvalId: string) => ({ pk: `APPROVAL#${approvalId}`, sk: 'META' });
/** Approvals are kept for audit well after they close; the request item keeps the history for good. */
const RETENTION_SECONDS = 90 * 24 * 3600;
export type OpenApproval = Omit<
  ApprovalRecord,
  'votes' | 'decision' | 'decidedAt' | 'closed' | 'notifiedAt' | 'reminders' | 'slackMessages'
>;

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
    const sets = [
      '#taskToken = :taskToken',
      '#votes = if_not_exists(#votes, :noVotes)',
      '#ttl = if_not_exists(#ttl, :ttl)',
    ];
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
    return toRecord(Attributes);
  }

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(approvalId), ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  /**
   * Records `approver`'s vote if the approval is still open, the approver has not voted and the
   * approval has not expired. With `decision`, the same write also decides the stage (used when
   * this vote alone settles it).
   */
  async castVote(
    approvalId: string,
    approver: string,
    vote: CastVote,
    decision?: Exclude<StageOutcome, 'pending'>,
  ): Promise<VoteResult> {
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
      return { ok: true, approval: toRecord(Attributes) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { ok: false, approval: await this.get(approvalId) };
    }
  }

  /** Sets the stage decision once; false when another writer decided first. */
  async decide(approvalId: string, decision: Exclude<StageOutcome, 'pending'>, at: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(approvalId),
          UpdateExpression: 'SET #decision = :decision, #decidedAt = :at',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#decision) AND attribute_not_exists(#closed)',
          ExpressionAttributeNames: { '#decision': 'decision', '#decidedAt': 'decidedAt', '#closed': 'closed' },
          ExpressionAttributeValues: { ':decision': decision, ':at': at },
        }),
      );
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
        UpdateExpression:
          'SET #notifiedAt = if_not_exists(#notifiedAt, :at), #slack = list_append(if_not_exists(#slack, :none), :messages)',
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
  async remind(
    approvalId: string,
    added: ReadonlyArray<{ email: string; slackUserId?: string }>,
  ): Promise<ApprovalRecord | undefined> {
    const names: Record<string, string> = {
      '#approvers': 'approvers',
      '#reminders': 'reminders',
      '#decision': 'decision',
      '#closed': 'closed',
    };
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
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#decision) AND attribute_not_exists(#closed)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Marks an undecided approval as no longer decidable (expired or cancelled). */
  async close(approvalId: string, reason: NonNullable<ApprovalRecord['closed']>): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(approvalId),
          UpdateExpression: 'SET #closed = :reason',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(#decision) AND attribute_not_exists(#closed)',
          ExpressionAttributeNames: { '#decision': 'decision', '#closed': 'closed' },
          ExpressionAttributeValues: { ':reason': reason },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Several approvals at once (BatchGetItem); missing ones are left out. */
  async getMany(approvalIds: readonly string[]): Promise<Map<string, ApprovalRecord>> {
    const items = await batchGetAll(this.db, this.tableName, [...new Set(approvalIds)].map(key));
    return new Map(items.map((item) => toRecord(item)).map((record) => [record.approvalId, record]));
  }
}

function toRecord(item: Record<string, unknown> | undefined): ApprovalRecord {
  if (!item) throw new Error('approval item missing from the response');
  const { pk: _pk, sk: _sk, expiresAtEpoch: _ttl, ...record } = item;
  return record as unknown as ApprovalRecord;
}
