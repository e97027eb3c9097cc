import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MARSHALL_OPTIONS } from '../../lambdas/adapters/dynamodb/client';
import { ensureTable, startDynamoDb, type LocalDynamoDb } from '../../local/dynamodb';

/** A real dynalite with poolgate's table, in a temp dir, for repository tests. */
export async function startTestTable(): Promise<{
  db: DynamoDBDocumentClient;
  tableName: string;
  stop: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'poolgate-ddb-'));
  const dynamo: LocalDynamoDb = await startDynamoDb({ host: '127.0.0.1', port: 0, dataDir: dir });
  const tableName = 'poolgate-test';
  await ensureTable(dynamo.url, tableName);
  const raw = new DynamoDBClient({
    endpoint: dynamo.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const db = DynamoDBDocumentClient.from(raw, { marshallOptions: MARSHALL_OPTIONS });
  return {
    db,
    tableName,
    stop: async () => {
      raw.destroy();
      await dynamo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a test file (or describe block) reads from the table that useTestTable starts for it. */
export interface TestTable {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * The one table fixture: starts dynalite with poolgate's table before the tests of the file (or of
 * the describe block) it is called in, and stops it after them. Read `db` and `tableName` inside a
 * hook or a test; the table exists from the first beforeAll on.
 */
export function useTestTable(): TestTable {
  let started: Awaited<ReturnType<typeof startTestTable>> | undefined;
  beforeAll(async () => {
    started = await startTestTable();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const current = () => {
    if (!started) throw new Error('the test table starts in beforeAll: read it inside a hook or a test');
    return started;
  };
  return {
    get db() {
      return current().db;
    },
    get tableName() {
      return current().tableName;
    },
  };
}
