/**
 * The local stack's usage meter (local/usage-meter.ts): DynamoDB commands counted at the SDK with the
 * units dynalite reports, index writes derived from contracts/table.ts, handler durations.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_INDEXES } from '../../contracts/table';
import { UsageMeter } from '../../local/usage-meter';
import { useTestTable } from '../support/dynamodb';

const table = useTestTable();
let meter: UsageMeter;

beforeAll(async () => {
  meter = new UsageMeter();
  meter.meterDynamoDb(table.db);
});

/** An item in every index of the table (as a request item is in the request indexes). */
const indexed = (pk: string, status: string, padding = 0) => ({
  pk,
  sk: 'META',
  ...Object.fromEntries(TABLE_INDEXES.map((index) => [index.partitionKey, `${index.partitionKey}-value`])),
  gsiStatus: status,
  createdAt: '2026-11-26T00:00:00.000Z',
  padding: 'x'.repeat(padding),
});

it('counts each command with the units DynamoDB would bill, and the index writes an indexed item causes', async () => {
  await table.db.send(new PutCommand({ TableName: table.tableName, Item: indexed('REQUEST#m1', 'SUBMITTED', 1500) }));
  let usage = meter.snapshot().dynamodb.PutItemCommand;
  // About 1.6 KB: 2 write units in the table, and 2 again in each index the item is in.
  expect(usage).toEqual({
    calls: 1,
    tableUnits: 2,
    indexUnits: 2 * TABLE_INDEXES.length,
    conditionFailures: 0,
    errors: 0,
  });

  // Moving the item to another status key deletes its entry in byStatus and puts a new one.
  await table.db.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: { pk: 'REQUEST#m1', sk: 'META' },
      UpdateExpression: 'SET #gsiStatus = :to, #note = :note',
      ExpressionAttributeNames: { '#gsiStatus': 'gsiStatus', '#note': 'note' },
      ExpressionAttributeValues: { ':to': 'AWAITING_APPROVAL', ':note': 'n' },
    }),
  );
  usage = meter.snapshot().dynamodb.UpdateItemCommand;
  expect(usage).toEqual({
    calls: 1,
    tableUnits: 2,
    indexUnits: 2 * (TABLE_INDEXES.length + 1),
    conditionFailures: 0,
    errors: 0,
  });

  await table.db.send(
    new GetCommand({ TableName: table.tableName, Key: { pk: 'REQUEST#m1', sk: 'META' }, ConsistentRead: true }),
  );
  expect(meter.snapshot().dynamodb.GetItemCommand).toMatchObject({ calls: 1, tableUnits: 1 });

  // A refused conditional write is billed too; an item outside the indexes adds no index units.
  await expect(
    table.db.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: 'REQUEST#m1', sk: 'META' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  await table.db.send(
    new PutCommand({ TableName: table.tableName, Item: { pk: 'QUOTA#t', sk: 'FLAVOR#f', inUse: 1 } }),
  );
  expect(meter.snapshot().dynamodb.PutItemCommand).toEqual({
    calls: 3,
    tableUnits: 4,
    indexUnits: 2 * TABLE_INDEXES.length,
    conditionFailures: 1,
    errors: 0,
  });
  expect(meter.snapshot().dynamodbWritesByItem).toEqual({ REQUEST: 3, QUOTA: 1 });
});

it('times handler invocations and counts HTTP API requests', async () => {
  await meter.timeInvocation('submit', true, async () => new Promise((resolve) => setTimeout(resolve, 20)));
  await expect(meter.timeInvocation('finalize', false, async () => Promise.reject(new Error('x')))).rejects.toThrow(
    'x',
  );
  const snapshot = meter.snapshot();
  expect(snapshot.httpRequests).toBe(1);
  expect(snapshot.lambda.submit).toMatchObject({ invocations: 1, errors: 0 });
  expect(snapshot.lambda.submit?.durationsMs[0]).toBeGreaterThanOrEqual(15);
  expect(snapshot.lambda.finalize).toMatchObject({ invocations: 1, errors: 1 });
});

it('counts finished runs of scheduled functions apart from the per-request handler figures, failed runs too', async () => {
  const fresh = new UsageMeter();
  await fresh.timeScheduledRun('reconcileQuota', async () => 'done');
  await expect(
    fresh.timeScheduledRun('reconcileQuota', async () => {
      throw new Error('ModelArts down');
    }),
  ).rejects.toThrow('ModelArts down');
  await fresh.timeScheduledRun('sweepSubmitted', async () => undefined);
  expect(fresh.snapshot().scheduledRuns).toEqual({ reconcileQuota: 2, sweepSubmitted: 1 });
  expect(fresh.snapshot().lambda).toEqual({});
});
