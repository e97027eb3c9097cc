/** Small helpers the reliability suites share: bounded concurrency, the quota item, the simulator. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ModelArtsClient, type NodePool } from '../../../lambdas/adapters/modelarts/client';
import { LOCAL_TABLE_NAME } from '../../../local/main';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../../local/settings';
import type { RunningStack } from '../../../local/harness/stack';
import { POOL, PROJECT_ID } from '../../../local/harness/requests';

/** Runs `task` on every item, at most `concurrency` at a time; results in the items' order. */
export async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await task(items[i], i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** The team's quota counter for a flavor, as stored (inUse, reserved, used, and each request's `hold#`/`use#` share). */
export async function quotaItem(stack: RunningStack, team: string, flavor: string): Promise<Record<string, unknown>> {
  const raw = new DynamoDBClient({
    endpoint: stack.endpoints.dynamoDb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const { Item } = await DynamoDBDocumentClient.from(raw).send(
      new GetCommand({
        TableName: LOCAL_TABLE_NAME,
        Key: { pk: `QUOTA#${team}`, sk: `FLAVOR#${flavor}` },
        ConsistentRead: true,
      }),
    );
    return Item ?? {};
  } finally {
    raw.destroy();
  }
}

/** Each request's share in a quota item: `hold#<id>` (reserved) and `use#<id>` (committed). */
export function shares(item: Record<string, unknown>, prefix: 'hold#' | 'use#'): Map<string, number> {
  return new Map(
    Object.entries(item).flatMap(([key, value]) =>
      key.startsWith(prefix) ? [[key.slice(prefix.length), Number(value)] as [string, number]] : [],
    ),
  );
}

/** Every node pool of the test pool, read with a signed call as poolgate makes them. */
export async function nodePools(stack: RunningStack, pool = POOL): Promise<NodePool[]> {
  const client = new ModelArtsClient({
    endpoint: stack.endpoints.modelArts,
    credentials: async () => ({ accessKey: DEV_HUAWEI_ACCESS_KEY, secretKey: DEV_HUAWEI_SECRET_KEY }),
    timeoutMs: 10_000,
  });
  return client.listNodePools(PROJECT_ID, pool);
}

export interface FaultCounts {
  readonly calls: number;
  readonly injected: readonly number[];
}

/** Replaces the simulator's fault plan (an empty rule list turns faults off); returns the counts so far. */
export async function setFaults(
  stack: RunningStack,
  plan: { rules: readonly object[]; seed?: number },
): Promise<FaultCounts> {
  const before = (await (await fetch(`${stack.endpoints.modelArts}/_sim/faults`)).json()) as FaultCounts;
  const response = await fetch(`${stack.endpoints.modelArts}/_sim/faults`, {
    method: 'PUT',
    body: JSON.stringify(plan),
  });
  if (!response.ok) throw new Error(`PUT /_sim/faults: ${response.status} ${await response.text()}`);
  return before;
}
