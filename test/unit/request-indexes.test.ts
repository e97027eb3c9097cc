/**
 * The indexes behind GET /requests, on a real dynalite: request pages newest first with a status
 * filter, and the byApprover index of waiting items kept in step with votes, decisions, reminders
 * and closes by the approval repository itself.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { ensureTable, startDynamoDb } from '../../local/dynamodb';
import { startTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

let db: DynamoDBDocumentClient;
let tableName: string;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ db, tableName, stop } = await startTestTable());
});
afterAll(() => stop());

const at = (minute: number) => `2026-11-26T10:${String(minute).padStart(2, '0')}:00.000Z`;

function stored(id: string, minute: number, change: Partial<PoolRequestRecord> = {}): PoolRequestRecord {
  return { ...requestRecord(id), createdAt: at(minute), updatedAt: at(minute), ...change } as PoolRequestRecord;
}

/** Who the byApprover index says an approval waits for. */
async function waitingOn(approvalId: string): Promise<string[]> {
  const repo = new ApprovalRepository(db, tableName);
  const people = ['bob@example.com', 'dave@example.com', 'ivan@example.com'];
  const pages = await Promise.all(people.map((p) => repo.waitingFor(p, 100)));
  return pages.flatMap((page) => page.entries.filter((e) => e.approvalId === approvalId).map((e) => e.approver)).sort();
}

describe('RequestRepository.page', () => {
  it('reads a partition newest first, page by page, and filters by status', async () => {
    const repo = new RequestRepository(db, tableName);
    for (let i = 0; i < 5; i++) await repo.create(stored(`p-${i}`, i, { team: 'paging', status: i % 2 ? 'REJECTED' : 'SUBMITTED' }));
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

describe('ApprovalRepository waiting items', () => {
  const open = (approvalId: string, requiredApprovals = 1) => ({
    approvalId,
    requestId: `r-${approvalId}`,
    stageIndex: 0,
    stageName: 'manager',
    finalStage: true,
    approvers: ['bob@example.com', 'dave@example.com'],
    approverSlackIds: {},
    requiredApprovals,
    needsOrderId: false,
    createdAt: at(30),
    expiresAt: '2999-01-01T00:00:00.000Z',
    taskToken: 't1',
  });
  const vote = { vote: 'approve' as const, at: at(31) };

  it('marks every approver asked, and removes an approver who votes', async () => {
    const repo = new ApprovalRepository(db, tableName);
    await repo.open(open('w-vote', 2));
    expect(await waitingOn('w-vote')).toEqual(['bob@example.com', 'dave@example.com']);
    await repo.castVote('w-vote', 'bob@example.com', vote);
    expect(await waitingOn('w-vote')).toEqual(['dave@example.com']);
    // A new task token (a retry, a reminder run) does not ask bob again.
    await repo.open({ ...open('w-vote', 2), taskToken: 't2' });
    expect(await waitingOn('w-vote')).toEqual(['dave@example.com']);
  });

  it('removes everyone once a vote decides the stage, or once the approval is decided or closed', async () => {
    const repo = new ApprovalRepository(db, tableName);
    await repo.open(open('w-decided'));
    await repo.castVote('w-decided', 'bob@example.com', vote, 'approved');
    expect(await waitingOn('w-decided')).toEqual([]);

    await repo.open(open('w-threshold', 2));
    expect(await repo.decide('w-threshold', 'approved', at(32))).toBe(true);
    expect(await waitingOn('w-threshold')).toEqual([]);

    await repo.open(open('w-closed'));
    await repo.close('w-closed', 'CANCELLED');
    expect(await waitingOn('w-closed')).toEqual([]);
  });

  it('adds the escalation contacts a reminder brings in', async () => {
    const repo = new ApprovalRepository(db, tableName);
    await repo.open(open('w-remind'));
    await repo.remind('w-remind', [{ email: 'ivan@example.com' }]);
    expect(await waitingOn('w-remind')).toEqual(['bob@example.com', 'dave@example.com', 'ivan@example.com']);
  });

  it('lists what waits for one approver newest first, page by page, and reads approvals in a batch', async () => {
    const repo = new ApprovalRepository(db, tableName);
    for (let i = 0; i < 3; i++) await repo.open({ ...open(`w-page-${i}`), approvers: ['grace@example.com'], createdAt: at(40 + i) });
    const first = await repo.waitingFor('grace@example.com', 2);
    expect(first.entries.map((e) => e.approvalId)).toEqual(['w-page-2', 'w-page-1']);
    const second = await repo.waitingFor('grace@example.com', 2, first.next);
    expect(second.entries.map((e) => e.approvalId)).toEqual(['w-page-0']);
    const approvals = await repo.getMany(['w-page-0', 'w-page-2', 'w-missing']);
    expect([...approvals.keys()].sort()).toEqual(['w-page-0', 'w-page-2']);
    // Waiting items live beside their approval, never mistaken for one.
    const { Items } = await db.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'APPROVAL#w-page-0' } }));
    expect(Items?.map((i) => i.sk).sort()).toEqual(['META', 'WAITING#grace@example.com']);
    expect(Items?.find((i) => i.sk !== 'META')?.expiresAtEpoch).toEqual(expect.any(Number));
  });
});

describe('the local table', () => {
  it('is rebuilt with an index it lacks, keeping every item and a backup', async () => {
    const home = mkdtempSync(join(tmpdir(), 'poolgate-rebuild-'));
    const dynamo = await startDynamoDb({ host: '127.0.0.1', port: 0, dataDir: home });
    const client = new DynamoDBClient({ endpoint: dynamo.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      // A table as an older poolgate made it: no byApprover index.
      await client.send(
        new CreateTableCommand({
          TableName: 'poolgate',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: ['pk', 'sk', 'gsiTeam', 'createdAt'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
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
      for (let i = 0; i < 30; i++) {
        await client.send(new PutItemCommand({ TableName: 'poolgate', Item: { pk: { S: `REQUEST#r-${i}` }, sk: { S: 'META' }, stepIds: { SS: ['submitted'] }, n: { N: String(i) } } }));
      }
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      await ensureTable(dynamo.url, 'poolgate', { backupDir: home });
      expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^poolgate: adding index\(es\) byRequester, byStatus, byApprover to the local table \(30 items, saved to .*poolgate-backup-.*\.json\)\n$/));
      stderr.mockRestore();
      const indexes = (await client.send(new DescribeTableCommand({ TableName: 'poolgate' }))).Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName);
      expect(indexes?.sort()).toEqual(['byApprover', 'byRequester', 'byStatus', 'byTeam']);
      const kept = await client.send(new GetItemCommand({ TableName: 'poolgate', Key: { pk: { S: 'REQUEST#r-29' }, sk: { S: 'META' } } }));
      expect(kept.Item).toEqual({ pk: { S: 'REQUEST#r-29' }, sk: { S: 'META' }, stepIds: { SS: ['submitted'] }, n: { N: '29' } });
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
