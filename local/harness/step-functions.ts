/**
 * Reading the local Step Functions emulator from outside the stack process, over its AWS JSON
 * protocol: an execution's status, and its history's `stateTransitions` (a local extension of
 * GetExecutionHistory that the SDK would drop: states entered plus retries, as AWS bills them).
 */
import { LOCAL_STATE_MACHINE_ARN } from '../main';

export interface ExecutionSummary {
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly error?: string;
  readonly cause?: string;
}

export interface HistoryEvent {
  readonly type: string;
  readonly stateEnteredEventDetails?: { readonly name: string };
}

export function executionArn(requestId: string): string {
  return `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${requestId}`;
}

async function call<T>(endpoint: string, operation: string, body: Record<string, unknown>): Promise<T> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${operation}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T & { __type?: string; message?: string };
  if (!response.ok) throw new Error(`${operation}: ${response.status} ${json.__type ?? ''} ${json.message ?? ''}`);
  return json;
}

export function describeExecution(endpoint: string, requestId: string): Promise<ExecutionSummary> {
  return call(endpoint, 'DescribeExecution', { executionArn: executionArn(requestId) });
}

/** Every event of the execution, and the billed state transitions. */
export async function executionHistory(
  endpoint: string,
  requestId: string,
): Promise<{ events: HistoryEvent[]; stateTransitions: number }> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  let stateTransitions: number;
  do {
    const page = await call<{ events: HistoryEvent[]; nextToken?: string; stateTransitions: number }>(
      endpoint,
      'GetExecutionHistory',
      {
        executionArn: executionArn(requestId),
        maxResults: 1000,
        includeExecutionData: false,
        ...(nextToken ? { nextToken } : {}),
      },
    );
    events.push(...page.events);
    stateTransitions = page.stateTransitions;
    nextToken = page.nextToken;
  } while (nextToken);
  return { events, stateTransitions };
}

/** The names of the states entered, in order (a retry enters no state). */
export function statesEntered(events: readonly HistoryEvent[]): string[] {
  return events.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []));
}
