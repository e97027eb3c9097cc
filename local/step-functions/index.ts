/**
 * The local Step Functions service of poolgate's embedded stack: the AWS JSON 1.0 protocol subset the
 * app uses (so `@aws-sdk/client-sfn` works unchanged through AWS_ENDPOINT_URL_SFN), running the workflow
 * definition on aws-local-stepfunctions 3. Lambda tasks run through `invokeFunction`; callback tasks
 * (`.waitForTaskToken`) hand out random task tokens and wait for SendTaskSuccess/SendTaskFailure.
 *
 * WHAT SURVIVES A RESTART (also a SIGKILL): every execution is a JSON file under `<dataDir>/executions/`,
 * rewritten on every event: name, ARN, original input, status, dates, output/error, the history, the
 * state being run with that state's input, the open task tokens and the timed-out ones. On start, every
 * RUNNING execution resumes at its saved state with the saved state input, and `$$.Execution.Input`
 * (and `$$.Execution.StartTime`) are still the original ones. StartExecution, StopExecution and
 * SendTaskSuccess/Failure answer only once their effect is on disk.
 *
 * WHAT DOES NOT:
 * - A state that was running is run again from its start: a Lambda task is invoked again (poolgate's
 *   handlers are idempotent), a callback task invokes its function again and issues a NEW token (the
 *   tokens handed out before stay valid for that same wait).
 * - Timers start over: the remaining time of a task timeout (TimeoutSeconds/TimeoutSecondsPath), of the
 *   execution timeout, and a retry's backoff; a retry's attempt count starts at zero again.
 * - The invocation that was running when the process died is simply lost (its result never arrives).
 *
 * Limits: Lambda task states only (`lambda:invoke` and `lambda:invoke.waitForTaskToken`), no Parallel or
 * Map states, JSONPath only (see definition.ts); timeouts longer than ~24.8 days are capped to that
 * (Node's timer limit); heartbeats are accepted but never time out.
 */
import './polyfills';
import { createServer } from 'node:http';
import { operations } from './api';
import { localDefinition, type AslDefinition } from './definition';
import { Executions } from './executions';
import { serveJsonProtocol } from './protocol';
import { ExecutionStore, type ExecutionRecord, type ExecutionStatus, type HistoryEvent } from './store';
import type { InvokeFunction } from './tasks';
import { listen } from '../listen';

export type { AslDefinition } from './definition';
export { MAX_TIMEOUT_SECONDS, UnsupportedDefinitionError } from './definition';
export type { ExecutionRecord, ExecutionStatus, HistoryEvent } from './store';
export type { InvokeFunction } from './tasks';

export interface StepFunctionsEmulatorOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** Where executions are kept; a restart on the same directory resumes them. */
  readonly dataDir: string;
  readonly stateMachineArn: string;
  /** The ASL document (JSONPath), e.g. `buildWorkflowDefinition(functionNames)`. */
  readonly definition: AslDefinition;
  /** Runs a Lambda task: `Parameters.FunctionName` and `Parameters.Payload`; a rejection's `name` is the task's error name. */
  readonly invokeFunction: InvokeFunction;
  /**
   * Local runs only: each Retry waits this fraction (0 < scale <= 1) of the wait the definition asks
   * for; what is retried and how often does not change (./retry-scale.ts). Default 1.
   */
  readonly retryScale?: number;
}

export interface ExecutionHistory {
  readonly events: readonly HistoryEvent[];
  /** States entered plus retries (what AWS bills as state transitions). */
  readonly stateTransitions: number;
}

export interface StepFunctionsEmulator {
  readonly url: string;
  readonly port: number;
  readonly stateMachineArn: string;
  /** A copy of the execution's record, or undefined if there is no such execution. */
  describe(executionName: string): ExecutionRecord | undefined;
  /** A copy of the execution's history, or undefined if there is no such execution. */
  history(executionName: string): ExecutionHistory | undefined;
  /** Every execution's name and status. */
  list(): Array<{ readonly name: string; readonly status: ExecutionStatus }>;
  /** Resolves once every write scheduled so far is on disk. */
  flush(): Promise<void>;
  /**
   * Stops the HTTP server and the engine runs, WITHOUT ending the executions (they stay RUNNING on
   * disk and resume on the next start), then waits for pending writes.
   */
  close(): Promise<void>;
}

export async function startStepFunctionsEmulator(
  options: StepFunctionsEmulatorOptions,
): Promise<StepFunctionsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const executions = new Executions({
    stateMachineArn: options.stateMachineArn,
    definition: localDefinition(options.definition),
    store: new ExecutionStore(options.dataDir),
    invokeFunction: options.invokeFunction,
    retryScale: options.retryScale,
  });
  const handlers = operations(executions, options.stateMachineArn);
  const server = createServer((req, res) => void serveJsonProtocol(req, res, handlers));
  const { url, port } = await listen(server, options.port, host);
  try {
    // After listening: a resumed callback task's function may answer through the API at once.
    executions.resumeSaved();
  } catch (error) {
    server.close();
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stateMachineArn: options.stateMachineArn,
    describe: (name) => {
      const record = executions.get(name);
      return record && structuredClone(record);
    },
    history: (name) => {
      const record = executions.get(name);
      return record && { events: structuredClone(record.history), stateTransitions: record.stateTransitions };
    },
    list: () => executions.all().map(({ name, status }) => ({ name, status })),
    flush: () => executions.flush(),
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await executions.close();
        await stopped;
      })();
      return closing;
    },
  };
}
