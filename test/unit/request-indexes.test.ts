/**
 * The indexes behind GET /requests, on a real dynalite: request pages newest first with a status
 * filter, and awaiting=me (byStatus AWAITING_APPROVAL filtered on the request's approvers, checked
 * against the approvals) in step with votes, decisions, reminders, closes and later stages.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { Policy } from '../../lambdas/config/policy';
import type { PlannedStage } from '../../lambdas/domain/approval-plan';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep } from '../../lambdas/domain/steps';
import { listRequests } from '../../lambdas/use-cases/list-requests';
import { ensureTable, startDynamoDb } from '../../local/dynamodb';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const table = useTestTable();

const at = (minute: number) => `2026-11-26T10:${String(minute).padStart(2, '0')}:00.000Z`;

function stored(id: string, minute: number, change: Partial<PoolRequestRecord> = {}): PoolRequestRecord {
  return { ...requestRecord(id), createdAt: at(minute), updatedAt: at(minute), ...change };
}

describe('RequestRepository.page', () => {
  it('reads a partition newest first, page by page, and filters by status', async () => {
    const repo = new RequestRepository(table.db, table.tableName);
    for (let i = 0; i < 5; i++)
      await repo.create(stored(`p-${i}`, i, { team: 'paging', status: i % 2 ? 'REJECTED' : 'SUBMITTED' }));
    const first = await repo.page('byTeam', 'paging', { limit: 2 });
    expect(first.requests.map((r) => r.requestId)).toEqual(['p-4', 'p-3']);
    const second = await repo.page('byTeam', 'paging', { limit: 2, startAt: first.next });
    expect(second.requests.map((r) => r.requestId)).toEqual(['p-2', 'p-1']);
    const third = await repo.page('byTeam', 'paging', { limit: 2, startAt: second.next });
    expect(third.requests.map((r) => r.requestId)).toEqual(['p-0']);
    expect(third.next).toBeUndefined();

    const rejected = await repo.page('byTeam', 'paging', { limit: 10, status: 'REJECTED' });
    expect(rejected.requests.map((r) => r.requestId)).toEqual(['p-3', 'p-1']);
    // The view carries no index attribute.
    expect(Object.keys(first.requests[0])).not.toEqual(expect.arrayContaining(['gsiTeam']));
    expect((await repo.getMany(['p-1', 'p-4', 'nope'])).size).toBe(2);
  });
});

describe('awaiting=me', () => {
  const stage = (name: string, approvers: string[], requiredApprovals = 1): PlannedStage => ({
    name,
    approvers: approvers.map((email) => ({ email })),
    requiredApprovals,
    remindAfterSeconds: 3600,
    expireAfterSeconds: 7200,
    escalated: false,
    collectsOrderId: false,
  });
  const policy = { admins: [], teams: [], nodeTracking: { enabled: false } } as unknown as Policy;
  const deps = () => ({
    policy,
    now: () => new Date(),
    requests: new RequestRepository(table.db, table.tableName),
    approvals: new ApprovalRepository(table.db, table.tableName),
    linkKey: 'k',
    publicBaseUrl: 'http://x',
  });

  /** Every request id awaiting=me lists for `who`, page by page. */
  async function awaiting(who: string, limit = 20): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = await listRequests(
        who,
        { awaiting: 'me', limit: String(limit), ...(cursor ? { cursor } : {}) },
        deps(),
      );
      ids.push(...page.items.map((item) => item.requestId));
      if (!page.nextCursor) return ids;
      cursor = page.nextCursor;
    }
    throw new Error('too many pages');
  }

  async function submitted(id: string, minute: number, stages: PlannedStage[]): Promise<void> {
    await new RequestRepository(table.db, table.tableName).create(
      stored(id, minute, { team: 'awaiting', status: 'AWAITING_APPROVAL', stages }),
    );
  }

  const open = (requestId: string, stageIndex: number, s: PlannedStage) => ({
    approvalId: `${requestId}.${stageIndex}`,
    requestId,
    stageIndex,
    stageName: s.name,
    finalStage: false,
    approvers: s.approvers.map((a) => a.email),
    approverSlackIds: {},
    requiredApprovals: s.requiredApprovals,
    needsOrderId: false,
    createdAt: at(30),
    expiresAt: '2999-01-01T00:00:00.000Z',
    taskToken: 't1',
  });
  const vote = { vote: 'approve' as const, at: at(31) };

  it('lists a request for the approvers of its open stage, until they vote or the stage is settled', async () => {
    const approvals = new ApprovalRepository(table.db, table.tableName);
    const stages = [stage('manager', ['bob@example.com', 'dave@example.com']), stage('finance', ['carol@example.com'])];
    await submitted('a-1', 1, stages);
    // Planned, not yet asked: nobody waits for it.
    expect(await awaiting('bob@example.com')).toEqual([]);
    await approvals.open(open('a-1', 0, stages[0]));
    expect(await awaiting('bob@example.com')).toEqual(['a-1']);
    expect(await awaiting('dave@example.com')).toEqual(['a-1']);
    // A later stage's approver, and the requester, are not asked yet.
    expect(await awaiting('carol@example.com')).toEqual([]);
    expect(await awaiting('alice@example.com')).toEqual([]);

    // Bob's vote settles the manager stage: it leaves bob's and dave's lists; the finance stage opens for carol.
    await approvals.castVote('a-1.0', 'bob@example.com', vote, 'approved');
    expect(await awaiting('bob@example.com')).toEqual([]);
    expect(await awaiting('dave@example.com')).toEqual([]);
    await approvals.open(open('a-1', 1, stages[1]));
    const [forCarol] = (await listRequests('carol@example.com', { awaiting: 'me' }, deps())).items;
    expect(forCarol).toMatchObject({ requestId: 'a-1', awaiting: { approvalId: 'a-1.1', stage: 'finance' } });
    expect(forCarol.links.decide).toMatch(/^http:\/\/x\/approvals\/a-1\.1\?approver=carol%40example\.com&sig=/);

    // Two approvals needed: a vote takes it off the voter's list only.
    const two = [stage('manager', ['bob@example.com', 'dave@example.com'], 2)];
    await submitted('a-2', 2, two);
    await approvals.open(open('a-2', 0, two[0]));
    await approvals.castVote('a-2.0', 'bob@example.com', vote);
    expect(await awaiting('bob@example.com')).toEqual([]);
    expect(await awaiting('dave@example.com')).toEqual(['a-2']);
    // Decided by a racing threshold write, or closed (cancelled, expired): no longer waiting.
    await approvals.decide('a-2.0', 'approved', at(32));
    expect(await awaiting('dave@example.com')).toEqual([]);
    await submitted('a-3', 3, two);
    await approvals.open(open('a-3', 0, two[0]));
    expect(await awaiting('dave@example.com')).toEqual(['a-3']);
    await approvals.close('a-3.0', 'CANCELLED');
    expect(await awaiting('dave@example.com')).toEqual([]);
  });

  it('lists a request whose approval is still open only while the request waits for approval', async () => {
    const requests = new RequestRepository(table.db, table.tableName);
    const approvals = new ApprovalRepository(table.db, table.tableName);
    const one = [stage('manager', ['heidi@example.com'])];
    await submitted('f-1', 4, one);
    await approvals.open(open('f-1', 0, one[0]));
    expect(await awaiting('heidi@example.com')).toEqual(['f-1']);
    // The workflow failed (or the request was cancelled) before its approval was closed.
    await requests.recordStep('f-1', newStep('failed', 'failed', 'error'), {
      status: 'FAILED',
      reason: 'INTERNAL_ERROR',
    });
    expect(await awaiting('heidi@example.com')).toEqual([]);
  });

  it('lists a request for the escalation contacts a reminder adds', async () => {
    const requests = new RequestRepository(table.db, table.tableName);
    const approvals = new ApprovalRepository(table.db, table.tableName);
    const one = [stage('manager', ['bob@example.com'])];
    await submitted('e-1', 5, one);
    await approvals.open(open('e-1', 0, one[0]));
    expect(await awaiting('ivan@example.com')).toEqual([]);
    const reminded = await approvals.remind('e-1.0', [{ email: 'ivan@example.com' }]);
    await requests.recordStep('e-1', newStep('reminded:manager:1', 'reminded', 'ok'), undefined, {
      addApprovers: reminded!.approvers,
    });
    expect(await awaiting('ivan@example.com')).toEqual(['e-1']);
    // The set is a filter attribute of the item, not part of the record.
    const { Item } = await table.db.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: 'REQUEST#e-1', sk: 'META' } }),
    );
    expect(Item?.approverEmails).toEqual(new Set(['bob@example.com', 'ivan@example.com']));
    expect(await requests.get('e-1')).not.toHaveProperty('approverEmails');
  });

  it('pages exactly, newest request first, when the filter skips requests', async () => {
    const approvals = new ApprovalRepository(table.db, table.tableName);
    const forGrace = [stage('manager', ['grace@example.com'])];
    const forOthers = [stage('manager', ['judy@example.com'])];
    for (let i = 0; i < 7; i++) {
      const stages = i % 3 === 0 ? forOthers : forGrace;
      await submitted(`g-${i}`, 10 + i, stages);
      await approvals.open(open(`g-${i}`, 0, stages[0]));
    }
    const expected = ['g-5', 'g-4', 'g-2', 'g-1'];
    expect(await awaiting('grace@example.com')).toEqual(expected);
    for (const limit of [1, 2, 3]) expect(await awaiting('grace@example.com', limit)).toEqual(expected);
  });
});

describe('the local table', () => {
  it('is rebuilt with an index it lacks, keeping every item and a backup', async () => {
    const home = mkdtempSync(join(tmpdir(), 'poolgate-rebuild-'));
    const dynamo = await startDynamoDb({ host: '127.0.0.1', port: 0, dataDir: home });
    const client = new DynamoDBClient({
      endpoint: dynamo.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    try {
      // A table as an older poolgate made it: only the byTeam index.
      await client.send(
        new CreateTableCommand({
          TableName: 'poolgate',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: ['pk', 'sk', 'gsiTeam', 'createdAt'].map((AttributeName) => ({
            AttributeName,
            AttributeType: 'S',
          })),
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'byTeam',
              KeySchema: [
                { AttributeName: 'gsiTeam', KeyType: 'HASH' },
                { AttributeName: 'createdAt', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );
      // dynalite answers CREATING, and makes the table ACTIVE a moment later (later still on a busy machine).
      await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: 'poolgate' });
      for (let i = 0; i < 30; i++) {
        await client.send(
          new PutItemCommand({
            TableName: 'poolgate',
            Item: {
              pk: { S: `REQUEST#r-${i}` },
              sk: { S: 'META' },
              stepIds: { SS: ['submitted'] },
              n: { N: String(i) },
            },
          }),
        );
      }
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      await ensureTable(dynamo.url, 'poolgate', { backupDir: home });
      expect(stderr).toHaveBeenCalledWith(
        expect.stringMatching(
          /^poolgate: adding index\(es\) byRequester, byStatus, byLease to the local table \(30 items, saved to .*poolgate-backup-.*\.json\)\n$/,
        ),
      );
      stderr.mockRestore();
      const indexes = (
        await client.send(new DescribeTableCommand({ TableName: 'poolgate' }))
      ).Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName);
      expect(indexes?.sort()).toEqual(['byLease', 'byRequester', 'byStatus', 'byTeam']);
      const kept = await client.send(
        new GetItemCommand({ TableName: 'poolgate', Key: { pk: { S: 'REQUEST#r-29' }, sk: { S: 'META' } } }),
      );
      expect(kept.Item).toEqual({
        pk: { S: 'REQUEST#r-29' },
        sk: { S: 'META' },
        stepIds: { SS: ['submitted'] },
        n: { N: '29' },
      });
      expect(readdirSync(home).filter((f) => f.startsWith('poolgate-backup-'))).toHaveLength(1);
      // A table that has every index is left alone.
      await ensureTable(dynamo.url, 'poolgate', { backupDir: home });
      expect(readdirSync(home).filter((f) => f.startsWith('poolgate-backup-'))).toHaveLength(1);
    } finally {
      client.destroy();
      await dynamo.close();
    }
  });
});
