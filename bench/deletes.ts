/**
 * Deletes, one after another, on a quiet stack with node tracking on: each node pool of `names`
 * (created by an earlier flow) deleted through `DELETE .../nodepools/{name}` and followed until its
 * execution ends (DELETED). Per delete: the state transitions of its execution and what the batch
 * consumed (GET /_local/usage before and after, divided by the number of deletes).
 */
import type { RunningStack } from '../test/support/local-stack';
import type { OutboxIndex } from '../test/support/outbox';
import { eventually } from '../test/support/poll';
import { POOL, PROJECT_ID } from '../test/support/requests';
import { describeExecution, executionHistory, statesEntered } from '../test/support/step-functions';
import { usage, usagePerRequest, type FlowFigures } from './flows';
import { mean, round } from './stats';

export interface DeleteOptions {
  readonly stack: RunningStack;
  readonly token: string;
  readonly outbox: OutboxIndex;
  readonly names: readonly string[];
}

async function oneDelete(options: DeleteOptions, name: string): Promise<{ transitions: number; path: string[] }> {
  const { stack } = options;
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${options.token}` },
  });
  const body = (await response.json()) as { requestId?: string };
  if (response.status !== 202 || !body.requestId)
    throw new Error(`delete ${name}: ${response.status} ${JSON.stringify(body)}`);
  const requestId = body.requestId;
  const execution = await eventually(
    async () => {
      const e = await describeExecution(stack.endpoints.stepFunctions, requestId);
      return e.status === 'RUNNING' ? undefined : e;
    },
    `the delete of ${name} to end`,
    120_000,
    10,
  );
  if (execution.status !== 'SUCCEEDED')
    throw new Error(`delete of ${name} ended ${execution.status}: ${execution.error} ${execution.cause}`);
  const history = await executionHistory(stack.endpoints.stepFunctions, requestId);
  return { transitions: history.stateTransitions, path: statesEntered(history.events) };
}

export async function deleteFlows(options: DeleteOptions): Promise<FlowFigures & { readonly pollsPerDelete: number }> {
  const before = await usage(options.stack);
  const mailsBefore = options.outbox.count();
  const results: Array<Awaited<ReturnType<typeof oneDelete>>> = [];
  for (const name of options.names) results.push(await oneDelete(options, name));
  const after = await usage(options.stack);
  const transitions = results.map((r) => r.transitions);
  const figures: FlowFigures = {
    requests: results.length,
    transitions: { mean: round(mean(transitions), 2), min: Math.min(...transitions), max: Math.max(...transitions) },
    path: results[0]?.path ?? [],
    usage: usagePerRequest(before, after, results.length, options.outbox.count() - mailsBefore),
  };
  return { ...figures, pollsPerDelete: figures.usage.lambda.checkNodes?.invocations ?? 0 };
}
