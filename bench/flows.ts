/**
 * Whole requests, one after another, on a quiet stack: submitted, asked, decided (an approver opens
 * the page, then posts the form, as a browser does), finished. Per request: the state transitions of
 * its execution, the time from the approval POST to the simulator receiving the create, and what the
 * batch consumed (GET /_local/usage before and after, divided by the number of requests).
 */
import type { FunctionId } from '../contracts/functions';
import type { UsageSnapshot } from '../local/usage-meter';
import { DYNAMODB_READS, DYNAMODB_WRITES } from '../local/usage-meter';
import type { RunningStack } from '../local/harness/stack';
import type { OutboxIndex } from '../local/harness/outbox';
import { eventually } from '../local/harness/poll';
import { describeExecution, executionHistory, statesEntered } from '../local/harness/step-functions';
import { exampleBody, formFields, openLink, postDecision, submit } from '../local/harness/requests';
import { mean, percentile, round } from './stats';

export const APPROVER = 'bob@example.com';

export interface UsagePerRequest {
  readonly dynamodb: {
    readonly reads: number;
    readonly writes: number;
    readonly readUnits: number;
    /** Write units of the table. */
    readonly writeUnits: number;
    /** Write units of the global secondary indexes (derived, see local/usage-meter.ts). */
    readonly indexWriteUnits: number;
    readonly conditionFailures: number;
    readonly byCommand: Readonly<Record<string, number>>;
    readonly writesByItem: Readonly<Record<string, number>>;
  };
  /** Per function: invocations per request and their durations (ms). */
  readonly lambda: Readonly<
    Partial<
      Record<
        FunctionId,
        { readonly invocations: number; readonly meanMs: number; readonly p50Ms: number; readonly p99Ms: number }
      >
    >
  >;
  readonly httpRequests: number;
  readonly emails: number;
}

export interface FlowFigures {
  readonly requests: number;
  readonly transitions: { readonly mean: number; readonly min: number; readonly max: number };
  /** The states the first request of the batch went through. */
  readonly path: readonly string[];
  readonly usage: UsagePerRequest;
  /** Approval POST sent -> simulator received the create call, per request (approved flows). */
  readonly decisionToModelArtsMs?: {
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
    readonly samples: number;
  };
}

export async function usage(stack: RunningStack): Promise<UsageSnapshot> {
  return (await fetch(`${stack.endpoints.api}/_local/usage`)).json() as Promise<UsageSnapshot>;
}

export function usagePerRequest(
  before: UsageSnapshot,
  after: UsageSnapshot,
  requests: number,
  emails: number,
): UsagePerRequest {
  const per = (n: number) => round(n / requests, 2);
  let reads = 0;
  let writes = 0;
  let readUnits = 0;
  let writeUnits = 0;
  let indexWriteUnits = 0;
  let conditionFailures = 0;
  const byCommand: Record<string, number> = {};
  for (const [command, now] of Object.entries(after.dynamodb)) {
    const was = before.dynamodb[command] ?? { calls: 0, tableUnits: 0, indexUnits: 0, conditionFailures: 0, errors: 0 };
    const calls = now.calls - was.calls;
    if (calls === 0) continue;
    byCommand[command] = per(calls);
    conditionFailures += now.conditionFailures - was.conditionFailures;
    if (DYNAMODB_READS.has(command)) {
      reads += calls;
      readUnits += now.tableUnits - was.tableUnits;
    } else if (DYNAMODB_WRITES.has(command)) {
      writes += calls;
      writeUnits += now.tableUnits - was.tableUnits;
      indexWriteUnits += now.indexUnits - was.indexUnits;
    }
  }
  const writesByItem: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after.dynamodbWritesByItem)) {
    const delta = n - (before.dynamodbWritesByItem[kind] ?? 0);
    if (delta) writesByItem[kind] = per(delta);
  }
  const lambda: Partial<Record<FunctionId, { invocations: number; meanMs: number; p50Ms: number; p99Ms: number }>> = {};
  for (const [id, now] of Object.entries(after.lambda) as Array<
    [FunctionId, NonNullable<UsageSnapshot['lambda'][FunctionId]>]
  >) {
    const durations = now.durationsMs.slice(before.lambda[id]?.durationsMs.length ?? 0);
    if (durations.length === 0) continue;
    lambda[id] = {
      invocations: per(durations.length),
      meanMs: round(mean(durations), 2),
      p50Ms: round(percentile(durations, 50), 2),
      p99Ms: round(percentile(durations, 99), 2),
    };
  }
  return {
    dynamodb: {
      reads: per(reads),
      writes: per(writes),
      readUnits: per(readUnits),
      writeUnits: per(writeUnits),
      indexWriteUnits: per(indexWriteUnits),
      conditionFailures: per(conditionFailures),
      byCommand,
      writesByItem,
    },
    lambda,
    httpRequests: per(after.httpRequests - before.httpRequests),
    emails: per(emails),
  };
}

interface SimCall {
  readonly body: string;
  readonly receivedAt: string;
}

async function createReceivedAt(stack: RunningStack, nodePoolName: string): Promise<number | undefined> {
  const { calls } = (await (await fetch(`${stack.endpoints.modelArts}/_sim/calls`)).json()) as { calls: SimCall[] };
  const call = calls.find(
    (c) => (JSON.parse(c.body) as { metadata?: { name?: string } }).metadata?.name === nodePoolName,
  );
  return call ? Date.parse(call.receivedAt) : undefined;
}

/** What one request's execution did (the execution has ended SUCCEEDED). */
export interface ExecutionFigures {
  readonly transitions: number;
  readonly path: string[];
}

/**
 * Waits (up to 2 minutes) for the request's execution to end, which must be SUCCEEDED (`what` names
 * the request in the wait's and the error's words); its state transitions and the states it entered.
 */
export async function succeededExecution(
  stack: RunningStack,
  requestId: string,
  what: string,
): Promise<ExecutionFigures> {
  const execution = await eventually(
    async () => {
      const e = await describeExecution(stack.endpoints.stepFunctions, requestId);
      return e.status === 'RUNNING' ? undefined : e;
    },
    `the ${what} to end`,
    120_000,
    10,
  );
  if (execution.status !== 'SUCCEEDED')
    throw new Error(`${what} ended ${execution.status}: ${execution.error} ${execution.cause}`);
  const history = await executionHistory(stack.endpoints.stepFunctions, requestId);
  return { transitions: history.stateTransitions, path: statesEntered(history.events) };
}

/** A batch's figures per request: its executions' transitions and path, and the usage between two snapshots. */
function flowFigures(
  results: readonly ExecutionFigures[],
  before: UsageSnapshot,
  after: UsageSnapshot,
  mails: number,
): FlowFigures {
  const transitions = results.map((r) => r.transitions);
  return {
    requests: results.length,
    transitions: { mean: round(mean(transitions), 2), min: Math.min(...transitions), max: Math.max(...transitions) },
    path: results[0]?.path ?? [],
    usage: usagePerRequest(before, after, results.length, mails),
  };
}

/** `one` run for each of `names`, one after another, on a quiet stack: the figures per request. */
export async function oneAfterAnother(
  options: { readonly stack: RunningStack; readonly outbox: OutboxIndex },
  names: readonly string[],
  one: (name: string) => Promise<ExecutionFigures>,
): Promise<FlowFigures> {
  const before = await usage(options.stack);
  const mailsBefore = options.outbox.count();
  const results: ExecutionFigures[] = [];
  for (const name of names) results.push(await one(name));
  const after = await usage(options.stack);
  return flowFigures(results, before, after, options.outbox.count() - mailsBefore);
}

export interface FlowOptions {
  readonly stack: RunningStack;
  readonly token: string;
  readonly outbox: OutboxIndex;
  readonly decision: 'approve' | 'reject';
  readonly count: number;
  readonly prefix: string;
  /** Decide this many requests at once (1: strictly one after another). */
  readonly parallel?: number;
}

/** One request from submission to the end of its execution; its transitions and, if approved, its decision-to-create time. */
async function oneRequest(
  options: FlowOptions,
  name: string,
): Promise<{ transitions: number; path: string[]; decisionToCreateMs?: number }> {
  const { stack } = options;
  const submitted = await submit(stack, options.token, exampleBody(name));
  if (submitted.status !== 202)
    throw new Error(`submit ${name}: ${submitted.status} ${JSON.stringify(submitted.json)}`);
  const requestId = submitted.json.requestId as string;
  const link = await eventually(
    () => options.outbox.link(requestId, APPROVER),
    `the approval mail of ${name}`,
    60_000,
    5,
  );
  const page = await openLink(link);
  const decidedAt = Date.now();
  const decided = await postDecision(link, formFields(page.html), options.decision);
  if (decided.status !== 200) throw new Error(`decision on ${name}: ${decided.status}`);
  const decisionToCreateMs =
    options.decision === 'approve'
      ? (await eventually(() => createReceivedAt(stack, name), `the create of ${name}`, 60_000, 5)) - decidedAt
      : undefined;
  return { ...(await succeededExecution(stack, requestId, `execution of ${name}`)), decisionToCreateMs };
}

export async function flows(options: FlowOptions): Promise<FlowFigures> {
  const before = await usage(options.stack);
  const mailsBefore = options.outbox.count();
  const results: Array<Awaited<ReturnType<typeof oneRequest>>> = [];
  const parallel = options.parallel ?? 1;
  for (let i = 0; i < options.count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, options.count - i) }, (_, j) =>
      oneRequest(options, `${options.prefix}-${i + j}`),
    );
    results.push(...(await Promise.all(batch)));
  }
  // Every execution has ended, so every handler has returned and every e-mail is in the outbox.
  const after = await usage(options.stack);
  const latencies = results.flatMap((r) => (r.decisionToCreateMs === undefined ? [] : [r.decisionToCreateMs]));
  return {
    ...flowFigures(results, before, after, options.outbox.count() - mailsBefore),
    ...(latencies.length
      ? {
          decisionToModelArtsMs: {
            p50: percentile(latencies, 50),
            p99: percentile(latencies, 99),
            max: Math.max(...latencies),
            samples: latencies.length,
          },
        }
      : {}),
  };
}
