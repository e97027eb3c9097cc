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
