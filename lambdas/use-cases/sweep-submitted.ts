/**
 * The sweep of requests left SUBMITTED (DESIGN: "a request must not stay SUBMITTED forever"): submit
 * stores a request, then starts its execution; if that start failed (throttling, a crash between the
 * two) and the client never repeated the call, the request would wait forever. Every minute (an
 * EventBridge schedule on AWS, a timer locally) this starts the execution of every request that has
 * been SUBMITTED for more than a minute. The execution is named after the request, so starting one
 * that runs already changes nothing.
 */
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { Workflow } from '../adapters/workflow';
import type { IndexPosition } from '../domain/list-cursor';

/** How long a request may stay SUBMITTED before the sweep starts it (its own start had that long). */
export const SUBMITTED_GRACE_MS = 60_000;
const PAGE_SIZE = 100;

export interface SweepDeps {
  readonly requests: Pick<RequestRepository, 'page'>;
  readonly workflow: Pick<Workflow, 'start'>;
  readonly now?: () => Date;
}

export interface SweepReport {
  /** Requests whose execution was started (or found running). */
  readonly started: readonly string[];
  /** Requests whose start failed again, with the error: the next sweep tries them again. */
  readonly failed: readonly string[];
}

export async function sweepSubmitted(deps: SweepDeps): Promise<SweepReport> {
  const cutoff = (deps.now ?? (() => new Date()))().getTime() - SUBMITTED_GRACE_MS;
  const started: string[] = [];
  const failed: string[] = [];
  let startAt: IndexPosition | undefined;
  do {
    // The status index, newest first: the ones within their grace come first and are skipped.
    const page = await deps.requests.page('byStatus', 'SUBMITTED', { limit: PAGE_SIZE, ...(startAt ? { startAt } : {}) });
    for (const request of page.requests) {
      if (request.status !== 'SUBMITTED' || Date.parse(request.createdAt) > cutoff) continue;
      try {
        await deps.workflow.start(request.requestId);
        started.push(request.requestId);
      } catch (error) {
        failed.push(`${request.requestId}: ${(error as Error).name}`);
      }
    }
    startAt = page.next;
  } while (startAt);
  return { started, failed };
}
