import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * How items are turned into DynamoDB attributes. `convertClassInstanceToMap`: the SDK recognises a
 * plain object by `value.constructor.name === "Object"`, so a map with a key named `constructor`
 * (a node-pool label `{"constructor": "x"}` is valid) is "Unsupported type" without it, and the
 * request failed with 500. poolgate stores only plain objects, Sets and scalars.
 */
export const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: true } as const;

/** One document client per process; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB locally. */
let client: DynamoDBDocumentClient | undefined;

export function documentClient(): DynamoDBDocumentClient {
  client ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: MARSHALL_OPTIONS });
  return client;
}

export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * One conditional write (`db.send(new PutCommand(...))`, UpdateCommand...): its output, or `undefined`
 * when its condition did not hold and nothing was written. Every other error is thrown as it came.
 */
export async function conditionalWrite<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX = 100;

/** Reads many items by key (BatchGetItem, 100 at a time, unprocessed keys retried with backoff); missing ones are left out. */
export async function batchGetAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, string>[],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_MAX);
    for (let attempt = 0; pending.length && attempt < 5; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      const { Responses, UnprocessedKeys } = await db.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      items.push(...(Responses?.[tableName] ?? []));
      pending = (UnprocessedKeys?.[tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
    if (pending.length) throw new Error(`BatchGetItem left ${pending.length} key(s) unprocessed after retries`);
  }
  return items;
}
