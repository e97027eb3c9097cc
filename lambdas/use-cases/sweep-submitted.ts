/**
 * The sweep of requests whose run never started (DESIGN: "a request must not stay SUBMITTED forever").
 * Every minute (an EventBridge schedule on AWS, a timer locally):
 *  - submit stores a request, then starts its execution; if that start failed (throttling, a crash
 *    between the two) and the client never repeated the call, the request would wait forever. Every
 *    request SUBMITTED for more than a minute has its execution started;
 *  - a retry records `retried:<n>` (PROVISIONING, or CREATED when it resumes at node tracking), then
 *    starts `<id>-retry-<n>`; if that start failed and the call was never repeated, the request would
 *    stay there. Every request whose latest retry is more than a minute old has that run started.
 * Executions are named after their request (and attempt) and started with the same input, so
 * starting one that runs or ran already changes nothing.
 */
import type { Policy } from '../config/policy';
import type { IndexPosition } from '../domain/list-cursor';
import type { PoolRequestRecord } from '../domain/pool-request';
import { latestRetryOf } from '../domain/retry';
import { kindOf } from '../domain/request-kind';
import type { RequestStatus } from '../domain/status';
import { retriedRun } from './runs';
import type { Clock, RequestStore, StartOutcome, WorkflowRuns } from './ports';

/** How long a request may wait for its run before the sweep starts it (its own start had that long). */
export const SUBMITTED_GRACE_MS = 60_000;
const PAGE_SIZE = 100;

export interface SweepDeps {
  readonly requests: Pick<RequestStore, 'page'>;
  readonly workflow: Pick<WorkflowRuns, 'start'>;
  readonly nodeTracking: Policy['nodeTracking'];
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

export interface SweepReport {
  /** Requests whose execution was started. */
  readonly started: readonly string[];
  /** Retried requests whose run `<id>-retry-<n>` was started, by that name. */
  readonly resumed: readonly string[];
  /**
   * Runs (by name) that have ended while their request still waits for them: nothing the sweep can
   * restart (an execution name is used once), for someone to look at. A run found running is not reported.
   */
  readonly ended: readonly string[];
  /** Runs (by name) whose start failed again, with the error: the next sweep tries them again. */
  readonly failed: readonly string[];
}

export async function sweepSubmitted(deps: SweepDeps): Promise<SweepReport> {
  const cutoff = deps.now().getTime() - SUBMITTED_GRACE_MS;
  const report = { started: [] as string[], resumed: [] as string[], ended: [] as string[], failed: [] as string[] };
  const start = async (name: string, started: string[], run: () => Promise<StartOutcome>) => {
    try {
      const outcome = await run();
      if (outcome === 'started') started.push(name);
      if (outcome === 'ended') report.ended.push(name);
    } catch (error) {
      report.failed.push(`${name}: ${(error as Error).name}`);
    }
  };

  for await (const request of withStatus(deps.requests, 'SUBMITTED')) {
    if (Date.parse(request.createdAt) > cutoff) continue;
    await start(request.requestId, report.started, () =>
      deps.workflow.start(request.requestId, undefined, kindOf(request)),
    );
  }
  // CREATED is where a request ends when nodes are not followed: no retried run waits there then.
  const retriedStatuses: RequestStatus[] = deps.nodeTracking.enabled ? ['PROVISIONING', 'CREATED'] : ['PROVISIONING'];
  for (const status of retriedStatuses) {
    for await (const request of withStatus(deps.requests, status)) {
      const retry = latestRetryOf(request);
      if (!retry || Date.parse(retry.at) > cutoff) continue;
      const run = retriedRun(request, retry, deps.nodeTracking);
      await start(`${request.requestId}-retry-${retry.attempt}`, report.resumed, () =>
        deps.workflow.start(request.requestId, run, kindOf(request)),
      );
    }
  }
  return report;
}

/** Every request in `status` (the status index, newest first), page by page. */
async function* withStatus(requests: SweepDeps['requests'], status: RequestStatus): AsyncGenerator<PoolRequestRecord> {
  let startAt: IndexPosition | undefined;
  do {
    const page = await requests.page('byStatus', status, { limit: PAGE_SIZE, ...(startAt ? { startAt } : {}) });
    // The index is eventually consistent: a request may have moved on since.
    yield* page.requests.filter((request) => request.status === status);
    startAt = page.next;
  } while (startAt);
}
