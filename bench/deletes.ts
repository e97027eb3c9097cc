/**
 * Deletes, one after another, on a quiet stack with node tracking on: each node pool of `names`
 * (created by an earlier flow) deleted through `DELETE .../nodepools/{name}` and followed until its
 * execution ends (DELETED). Per delete: the state transitions of its execution and what the batch
 * consumed (GET /_local/usage before and after, divided by the number of deletes).
 */
import { join, resolve } from 'node:path';
import type { RunningStack } from '../local/harness/stack';
import type { OutboxIndex } from '../local/harness/outbox';
import { POOL, PROJECT_ID } from '../local/harness/requests';
import { oneAfterAnother, succeededExecution, type ExecutionFigures, type FlowFigures } from './flows';

export interface DeleteOptions {
  readonly stack: RunningStack;
  readonly token: string;
  readonly outbox: OutboxIndex;
  readonly names: readonly string[];
}

async function oneDelete(options: DeleteOptions, name: string): Promise<ExecutionFigures> {
  const { stack } = options;
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${options.token}` },
  });
  const body = (await response.json()) as { requestId?: string };
  if (response.status !== 202 || !body.requestId)
    throw new Error(`delete ${name}: ${response.status} ${JSON.stringify(body)}`);
  const requestId = body.requestId;
  return succeededExecution(stack, requestId, `delete of ${name}`);
}

export async function deleteFlows(options: DeleteOptions): Promise<FlowFigures & { readonly pollsPerDelete: number }> {
  const figures = await oneAfterAnother(options, options.names, (name) => oneDelete(options, name));
  return { ...figures, pollsPerDelete: figures.usage.lambda.checkNodes?.invocations ?? 0 };
}

/**
 * `npx tsx bench/deletes.ts [count]`: the deletes alone (what `npm run bench` measures on its stack B),
 * on a stack of their own with node tracking on (polled every second, nodes up and gone 2.5 s after
 * the call): `count` node pools (default 20) created, then deleted one by one; prints the figures and
 * the cost per 1,000 deletes at list prices.
 */
async function main(): Promise<void> {
  const { readFileSync, rmSync } = await import('node:fs');
  const { startStack } = await import('../local/harness/stack');
  const { OutboxIndex } = await import('../local/harness/outbox');
  const { flows } = await import('./flows');
  const { costOf, quantitiesOf } = await import('./cost');
  const count = Number(process.argv[2] ?? 20);
  const root = resolve(__dirname, '..');
  const base = JSON.parse(readFileSync(join(root, 'poolgate.config.json'), 'utf8')) as {
    teams: Array<{ quotas: Record<string, number> }>;
  };
  const policy = {
    ...base,
    teams: base.teams.map((t) => ({
      ...t,
      quotas: Object.fromEntries(Object.keys(t.quotas).map((f) => [f, 1_000_000])),
    })),
    nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 600 },
    quotaReconciliation: { enabled: false, intervalSeconds: 900 },
  };
  const stack = await startStack({
    policy,
    env: { POOLGATE_NODE_READY_DELAY_MS: '2500', POOLGATE_LOG_LEVEL: 'ERROR' },
  });
  try {
    const token = await stack.token('alice@example.com');
    const outbox = new OutboxIndex(stack.endpoints.outbox);
    await flows({ stack, token, outbox, decision: 'approve', count, prefix: 'tracked', parallel: 5 });
    const deletes = await deleteFlows({
      stack,
      token,
      outbox,
      names: Array.from({ length: count }, (_, i) => `tracked-${i}`),
    });
    const cost = costOf(quantitiesOf(deletes.usage, deletes.transitions.mean));
    process.stdout.write(`${JSON.stringify({ deletes, cost }, null, 2)}\n`);
  } finally {
    await stack.stop();
    rmSync(stack.home, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
