/** DynamoDB for the local stack: dynalite with its data on disk, and poolgate's table created once. */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
  type AttributeValue,
  type WriteRequest,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TABLE_INDEXES, TABLE_KEYS } from '../contracts/table';
import { listen } from './listen';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, unknown>) => import('node:http').Server;

export interface LocalDynamoDb {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startDynamoDb(options: { host: string; port: number; dataDir: string }): Promise<LocalDynamoDb> {
  const server = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const listening = await listen(server, options.port, options.host);
  return {
    ...listening,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Creates the table with the same keys and indexes as the stack, unless it exists already. A table
 * made by an older poolgate that lacks an index of contracts/table.ts is rebuilt with it (dynalite
 * cannot add an index to a table): its items are saved to `backupDir` first, then put back.
 */
export async function ensureTable(
  endpoint: string,
  tableName: string,
  options: { backupDir?: string } = {},
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    let existing;
    try {
      existing = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    if (!existing) return await createTable(client, tableName);
    const present = new Set((existing.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    const missing = TABLE_INDEXES.filter((i) => !present.has(i.indexName)).map((i) => i.indexName);
    if (missing.length) await rebuildTable(client, tableName, missing, options.backupDir);
  } finally {
    client.destroy();
  }
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const attributes = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey]);
  TABLE_INDEXES.forEach((i) => [i.partitionKey, i.sortKey].forEach((a) => attributes.add(a)));
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
        IndexName: i.indexName,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' },
          { AttributeName: i.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  // dynalite creates asynchronously, like DynamoDB: wait until the table is ACTIVE before using it.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
}

async function rebuildTable(
  client: DynamoDBClient,
  tableName: string,
  missing: readonly string[],
  backupDir: string | undefined,
): Promise<void> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  if (backupDir) {
    const file = join(backupDir, `${tableName}-backup-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(items));
    process.stderr.write(
      `poolgate: adding index(es) ${missing.join(', ')} to the local table (${items.length} items, saved to ${file})\n`,
    );
  }
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  await waitUntilTableNotExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  await createTable(client, tableName);
  for (let i = 0; i < items.length; i += 25) {
    let pending: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt === 10) throw new Error(`could not restore ${pending.length} item(s) into ${tableName}`);
      const { UnprocessedItems } = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = UnprocessedItems?.[tableName] ?? [];
    }
  }
}
