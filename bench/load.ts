/**
 * Submit under load: `total` submissions from `concurrency` clients at once, each a new node pool
 * (so none is refused as a duplicate), timed from request to the end of the answer's body.
 */
import { readFileSync } from 'node:fs';
import type { UsageSnapshot } from '../local/usage-meter';
import type { RunningStack } from '../local/harness/stack';
import { exampleBody, POOL, PROJECT_ID } from '../local/harness/requests';
import { percentile, round } from './stats';

export interface SubmitFigures {
  readonly concurrency: number;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers other than 202, and requests that got no answer. */
  readonly errors: number;
  /** Time inside the submit handler (the rest of a request's latency is queueing in the one-process local stack). */
  readonly handlerP50Ms: number;
  readonly handlerP99Ms: number;
  /**
   * CPU the stack process spent per submission while the level ran (its submit, and the workflow
   * each submission starts up to the approval wait); undefined off Linux.
   */
  readonly stackCpuMsPerRequest?: number;
  readonly errorStatuses: Readonly<Record<string, number>>;
}

export async function submitLoad(
  stack: RunningStack,
  token: string,
  options: { concurrency: number; total: number; prefix: string },
): Promise<SubmitFigures & { requestIds: string[] }> {
  const url = `${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools`;
  const latencies: number[] = [];
  const errorStatuses: Record<string, number> = {};
  const requestIds: string[] = [];
  let next = 0;
  const client = async () => {
    for (let i = next++; i < options.total; i = next++) {
      const body = JSON.stringify(exampleBody(`${options.prefix}-${i}`));
      const started = performance.now();
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
        });
        const answer = (await response.json()) as { requestId?: string };
        latencies.push(performance.now() - started);
        if (response.status === 202 && answer.requestId) requestIds.push(answer.requestId);
        else errorStatuses[response.status] = (errorStatuses[response.status] ?? 0) + 1;
      } catch (error) {
        latencies.push(performance.now() - started);
        const name = (error as Error).name || 'network error';
        errorStatuses[name] = (errorStatuses[name] ?? 0) + 1;
      }
    }
  };
  const usage = async () =>
    ((await (await fetch(`${stack.endpoints.api}/_local/usage`)).json()) as UsageSnapshot).lambda.submit?.durationsMs ??
    [];
  const handledBefore = (await usage()).length;
  const cpuBefore = processCpuMs(stack.pid);
  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, client));
  const seconds = (performance.now() - started) / 1000;
  const inHandler = (await usage()).slice(handledBefore);
  const cpuAfter = processCpuMs(stack.pid);
  return {
    concurrency: options.concurrency,
    requests: options.total,
    seconds: round(seconds, 2),
    requestsPerSecond: round(options.total / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    errors: Object.values(errorStatuses).reduce((a, b) => a + b, 0),
    handlerP50Ms: round(percentile(inHandler, 50)),
    handlerP99Ms: round(percentile(inHandler, 99)),
    ...(cpuBefore !== undefined && cpuAfter !== undefined
      ? { stackCpuMsPerRequest: round((cpuAfter - cpuBefore) / options.total) }
      : {}),
    errorStatuses,
    requestIds,
  };
}

/** User + system CPU time of a process in ms, from /proc (Linux); undefined elsewhere. */
export function processCpuMs(pid: number): number | undefined {
  try {
    // Fields 14 and 15 (utime, stime) after the command name, in clock ticks (100 per second on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}
