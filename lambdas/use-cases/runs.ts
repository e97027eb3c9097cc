/**
 * Starting the workflow's runs, shared by submit, retry and the sweep: a request's first run, or a
 * retried run named after its attempt. Starting a run that exists changes nothing.
 */
import type { Resumption } from '../../contracts/workflow';
import type { Policy } from '../config/policy';
import { ServiceUnavailableError } from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import type { LatestRetry } from '../domain/retry';
import { WORKFLOW_STATES } from '../../contracts/workflow';
import type { RequestKind } from '../domain/request-kind';
import type { WorkflowRuns } from './ports';

/** What a 503 asks the caller to wait before repeating (Retry-After). */
const RETRY_AFTER_SECONDS = 5;

/** Starts the request's run; when Step Functions cannot take it now, 503 with what to repeat (`retryWith`). */
export async function startOrUnavailable(
  workflow: Pick<WorkflowRuns, 'start'>,
  requestId: string,
  retryWith = 'the same Idempotency-Key',
  resume?: Resumption,
  kind: RequestKind = 'create',
): Promise<void> {
  try {
    // The SDK already retries throttling and 5xx with backoff before this gives up.
    await workflow.start(requestId, resume, kind);
  } catch (error) {
    throw new ServiceUnavailableError(
      `request ${requestId} is stored but its workflow could not start (${(error as Error).name}); retry with ${retryWith}`,
      RETRY_AFTER_SECONDS,
    );
  }
}

/**
 * The run `<id>-retry-<attempt>` (CheckRequest hands it to its resume point). It is the same however
 * often it is asked for, so a second start of a run that exists changes nothing.
 */
export function retriedRun(
  request: PoolRequestRecord,
  retry: Pick<LatestRetry, 'attempt' | 'resumeAt' | 'pollIntervalSeconds'>,
  tracking: Policy['nodeTracking'],
): Resumption {
  const waitSeconds = retry.pollIntervalSeconds ?? tracking.pollIntervalSeconds;
  const created =
    retry.resumeAt === WORKFLOW_STATES.checkNodes
      ? { nodePoolName: request.nodePoolName, track: true, waitSeconds }
      : null;
  return { attempt: retry.attempt, created };
}
