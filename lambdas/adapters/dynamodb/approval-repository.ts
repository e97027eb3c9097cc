/**
 * Approval items (`APPROVAL#<id>` / `META`). A vote is one conditional write (first writer wins
 * per approver); the decision is set at most once. Each operation is one write of this one item:
 * what waits for an approver is found from the requests (lambdas/use-cases/list-requests.ts), not
 * from items kept beside the approval.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApprovalRecord, CastVote, SlackMessageRef } from '../../domain/approval';
import type { StageOutcome } from '../../domain/votes';
import type { ApprovalStore, OpenApproval, VoteResult } from '../../use-cases/ports';
import { batchGetAll, conditionalWrite } from './client';
import { Expression, updateExpression } from './expression';

const key = (approvalId: string) => ({ pk: `APPROVAL#${approvalId}`, sk: 'META' });
/** Approvals are kept for audit well after they close; the request item keeps the history for good. */
const RETENTION_SECONDS = 90 * 24 * 3600;
export type { OpenApproval, VoteResult };

export class ApprovalRepository implements ApprovalStore {
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
    const x = new Expression();
    const [votes, ttl] = [x.name('votes'), x.name('expiresAtEpoch')];
    const set = [
      `${x.name('approvalId')} = ${x.value(approval.approvalId)}`,
      `${x.name('taskToken')} = ${x.value(approval.taskToken)}`,
      `${votes} = if_not_exists(${votes}, ${x.value({})})`,
      `${ttl} = if_not_exists(${ttl}, ${x.value(Math.floor(Date.parse(approval.expiresAt) / 1000) + RETENTION_SECONDS)})`,
      ...fields.map(([name, value]) => {
        const field = x.name(name);
        return `${field} = if_not_exists(${field}, ${x.value(value)})`;
      }),
    ];
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(approval.approvalId),
        UpdateExpression: updateExpression({ set }),
        ...x.attributes(),
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
    const x = new Expression();
    const now = x.value(vote.at);
    const myVote = `${x.name('votes')}.${x.name(approver)}`;
    const set = [`${myVote} = ${x.value(vote)}`];
    if (decision) set.push(`${x.name('decision')} = ${x.value(decision)}`, `${x.name('decidedAt')} = ${now}`);
    const written = await this.updateIfUndecided(approvalId, x, {
      set,
      condition: `attribute_not_exists(${myVote}) AND ${x.name('expiresAt')} > ${now} AND contains(${x.name('approvers')}, ${x.value(approver)})`,
    });
    return written ? { ok: true, approval: toRecord(written) } : { ok: false, approval: await this.get(approvalId) };
  }

  /** Sets the stage decision once; false when another writer decided first. */
  async decide(approvalId: string, decision: Exclude<StageOutcome, 'pending'>, at: string): Promise<boolean> {
    const x = new Expression();
    const set = [`${x.name('decision')} = ${x.value(decision)}`, `${x.name('decidedAt')} = ${x.value(at)}`];
    return (await this.updateIfUndecided(approvalId, x, { set })) !== undefined;
  }

  /** Records that the approvers were asked, and the Slack messages that asked them. */
  async markNotified(approvalId: string, at: string, slackMessages: readonly SlackMessageRef[]): Promise<void> {
    const x = new Expression();
    const [notifiedAt, slack] = [x.name('notifiedAt'), x.name('slackMessages')];
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(approvalId),
        UpdateExpression: updateExpression({
          set: [
            `${notifiedAt} = if_not_exists(${notifiedAt}, ${x.value(at)})`,
            `${slack} = list_append(if_not_exists(${slack}, ${x.value([])}), ${x.value([...slackMessages])})`,
          ],
        }),
        ConditionExpression: `attribute_exists(${x.name('pk')})`,
        ...x.attributes(),
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
    const x = new Expression();
    const approvers = x.name('approvers');
    const set = [`${approvers} = list_append(${approvers}, ${x.value(added.map((p) => p.email))})`];
    for (const person of added) {
      if (person.slackUserId)
        set.push(`${x.name('approverSlackIds')}.${x.name(person.email)} = ${x.value(person.slackUserId)}`);
    }
    const written = await this.updateIfUndecided(approvalId, x, {
      set,
      add: [`${x.name('reminders')} ${x.value(1)}`],
    });
    return written ? toRecord(written) : undefined;
  }

  /** Marks an undecided approval as no longer decidable (expired or cancelled). */
  async close(approvalId: string, reason: NonNullable<ApprovalRecord['closed']>): Promise<void> {
    const x = new Expression();
    await this.updateIfUndecided(approvalId, x, { set: [`${x.name('closed')} = ${x.value(reason)}`] });
  }

  /**
   * One UpdateItem of an approval that exists and is neither decided nor closed (and meets `condition`
   * too, when given): the approval as it is after the write, or undefined when the condition did not hold.
   */
  private async updateIfUndecided(
    approvalId: string,
    x: Expression,
    update: { set: string[]; add?: string[]; condition?: string },
  ): Promise<Record<string, unknown> | undefined> {
    const open = `attribute_exists(${x.name('pk')}) AND attribute_not_exists(${x.name('decision')}) AND attribute_not_exists(${x.name('closed')})`;
    const written = await conditionalWrite(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(approvalId),
          UpdateExpression: updateExpression(update),
          ConditionExpression: update.condition ? `${open} AND ${update.condition}` : open,
          ...x.attributes(),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return written ? (written.Attributes ?? {}) : undefined;
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
