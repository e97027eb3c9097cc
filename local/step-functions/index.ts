/**
 * The local Step Functions service: the AWS JSON protocol subset poolgate uses (StartExecution,
 * SendTaskSuccess, SendTaskFailure, StopExecution, DescribeExecution, GetExecutionHistory), running
 * the workflow definition on aws-local-stepfunctions.
 *
 * Lambda tasks run through `invokeFunction`; a thrown error keeps its name (Retry and Catch match on
 * it) and its Cause is `{"errorType","errorMessage"}` JSON, as AWS's lambda:invoke reports it.
 * Callback tasks (`.waitForTaskToken`) get a fresh random token, invoke their function, then wait
 * for SendTaskSuccess/Failure; the engine's own timeout turns the token into TaskTimedOut.
 *
 * What survives a restart: every execution (input, status, history) and, for a running one, the
 * state it was in with that state's input. A restart re-runs that state from its start: a Lambda
 * task runs again (poolgate's handlers are idempotent), a callback task issues a new token to its
 * function (old tokens answer TaskDoesNotExist), and its timeout starts over.
 */
import { ExecutionAbortedError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionStore, type ExecutionRecord } from './execution-store';
import { HIDDEN_TIMEOUT_PARAMETER, localDefinition, resumedDefinition, type DefinitionLike } from './local-definition';
import { serveJsonProtocol, SfnError } from './protocol';

polyfillPromiseWithResolvers();

const TOKEN_PLACEHOLDER = '__poolgate_task_token__';

export type InvokeFunction = (functionRef: string, payload: unknown, signal: AbortSignal) => Promise<unknown>;

export interface EmulatorOptions {
  readonly port: number;
  readonly host?: string;
  readonly dataDir: string;
  readonly stateMachineArn: string;
  readonly definition: DefinitionLike;
  readonly invokeFunction: InvokeFunction;
}

export interface StepFunctionsEmulator {
  readonly url: string;
  readonly port: number;
  describe(name: string): ExecutionRecord | undefined;
  close(): Promise<void>;
}

interface WaitingTask {
  readonly executionName: string;
  readonly stateName: string;
  resolve(output: unknown): void;
  reject(error: Error): void;
}

interface Running {
  abort(): void;
  readonly controllers: Set<AbortController>;
  stopRequested: boolean;
}

export async function startStepFunctionsEmulator(options: EmulatorOptions): Promise<StepFunctionsEmulator> {
  const store = new ExecutionStore(options.dataDir);
  const definition = localDefinition(options.definition);
  const executions = new Map<string, ExecutionRecord>(store.loadAll().map((r) => [r.name, r]));
  const running = new Map<string, Running>();
  const waiting = new Map<string, WaitingTask>();
  const timedOut = new Set<string>();
  let closing = false;

  const executionArn = (name: string) => `${options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

  function taskError(name: string, message: string): Error {
    const error = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
    error.name = name;
    return error;
  }

  function lambdaTask(record: ExecutionRecord, stateName: string, callback: boolean) {
    return async (input: unknown) => {
      const run = running.get(record.name);
      const controller = new AbortController();
      run?.controllers.add(controller);
      const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
      try {
        if (!callback) {
          const result = await invoke(FunctionName, Payload, controller.signal);
          return { Payload: result, StatusCode: 200, ExecutedVersion: '$LATEST' };
        }
        const token = randomBytes(32).toString('base64url');
        const payload = JSON.parse(JSON.stringify(Payload).split(TOKEN_PLACEHOLDER).join(token)) as Record<string, unknown>;
        const answer = new Promise<unknown>((resolve, reject) => waiting.set(token, { executionName: record.name, stateName, resolve, reject }));
        await invoke(FunctionName, payload, controller.signal);
        return await answer;
      } finally {
        run?.controllers.delete(controller);
      }
    };
  }

  async function invoke(functionRef: string, payload: unknown, signal: AbortSignal): Promise<unknown> {
    const { [HIDDEN_TIMEOUT_PARAMETER]: _timeout, ...clean } = (payload ?? {}) as Record<string, unknown>;
    try {
      return await options.invokeFunction(functionRef, clean, signal);
    } catch (error) {
      const e = error as Error;
      throw taskError(e.name || 'Error', e.message);
    }
  }

  /** Closes the tokens of a state that ended; a timed-out one answers TaskTimedOut from now on. */
  function closeTokens(executionName: string, stateName: string, error?: string): void {
    for (const [token, task] of waiting) {
      if (task.executionName !== executionName || task.stateName !== stateName) continue;
      waiting.delete(token);
      if (error === 'States.Timeout') timedOut.add(token);
    }
    running.get(executionName)?.controllers.forEach((c) => c.abort());
  }

  function run(record: ExecutionRecord, resume?: { state: string; input: unknown }): void {
    const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of Object.entries(definition.States) as Array<[string, { Type: string; Resource?: string }]>) {
      if (state.Type !== 'Task') continue;
      if (state.Resource === 'arn:aws:states:::lambda:invoke') taskHandlers[stateName] = lambdaTask(record, stateName, false);
      else if (state.Resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') taskHandlers[stateName] = lambdaTask(record, stateName, true);
    }
    const machine = resume
      ? new StateMachine(resumedDefinition(definition, resume.state) as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } })
      : new StateMachine(definition as unknown as StateMachineDefinition);
    const originalInput = JSON.parse(record.input) as never;
    const execution = machine.run(resume ? (resume.input as never) : originalInput, {
      overrides: { taskResourceLocalHandlers: taskHandlers as never },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: record.executionArn, Input: originalInput, Name: record.name, StartTime: new Date(record.startDate * 1000).toISOString() },
        StateMachine: { Id: options.stateMachineArn, Name: options.stateMachineArn.split(':').pop() },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    const state: Running = { abort: execution.abort, controllers: new Set(), stopRequested: false };
    running.set(record.name, state);

    void (async () => {
      for await (const event of execution.eventLogs) {
        if (closing) return;
        const stateData = 'state' in event ? event.state : undefined;
        const error = 'Error' in event ? String(event.Error) : undefined;
        record.history.push({ type: event.type, timestamp: event.timestamp, ...(stateData ? { stateName: stateData.name } : {}), ...(error ? { error } : {}) });
        if (event.type === 'StateEntered' && stateData) {
          record.currentState = stateData.name;
          record.currentStateInput = stateData.input;
        }
        if ((event.type === 'StateExited' || event.type === 'StateFailed') && stateData) closeTokens(record.name, stateData.name, error);
        store.save(record);
      }
    })();

    execution.result.then(
      (output) => finish(record, state, output === null && state.stopRequested ? { status: 'ABORTED' } : { status: 'SUCCEEDED', output: JSON.stringify(output) }),
      (error: Error) => {
        if (error instanceof ExecutionAbortedError) return finish(record, state, { status: 'ABORTED' });
        const cause = (error as Error & { cause?: Error }).cause;
        finish(record, state, { status: 'FAILED', error: cause?.name ?? error.name, cause: cause?.message ?? error.message });
      },
    );
  }

  function finish(record: ExecutionRecord, state: Running, result: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>): void {
    if (closing && !state.stopRequested) return; // a shutdown, not an end: a restart resumes it
    running.delete(record.name);
    Object.assign(record, result, { stopDate: Date.now() / 1000, currentState: undefined, currentStateInput: undefined });
    for (const [token, task] of waiting) if (task.executionName === record.name) waiting.delete(token);
    store.save(record);
  }

  const operations = {
    StartExecution: (request: Record<string, unknown>) => {
      const name = String(request.name ?? randomBytes(16).toString('hex'));
      const input = String(request.input ?? '{}');
      const existing = executions.get(name);
      if (existing) {
        if (existing.input === input && existing.status === 'RUNNING') return { executionArn: existing.executionArn, startDate: existing.startDate };
        throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
      }
      try {
        JSON.parse(input);
      } catch {
        throw new SfnError('InvalidExecutionInput', 'input is not valid JSON');
      }
      const record: ExecutionRecord = {
        name,
        executionArn: executionArn(name),
        stateMachineArn: options.stateMachineArn,
        input,
        status: 'RUNNING',
        startDate: Date.now() / 1000,
        history: [],
      };
      executions.set(name, record);
      store.save(record);
      run(record);
      return { executionArn: record.executionArn, startDate: record.startDate };
    },
    SendTaskSuccess: (request: Record<string, unknown>) => {
      const task = takeTask(String(request.taskToken ?? ''));
      let output: unknown;
      try {
        output = JSON.parse(String(request.output ?? ''));
      } catch {
        throw new SfnError('InvalidOutput', 'output is not valid JSON');
      }
      task.resolve(output);
      return {};
    },
    SendTaskFailure: (request: Record<string, unknown>) => {
      const task = takeTask(String(request.taskToken ?? ''));
      task.reject(taskError(String(request.error ?? 'TaskFailed'), String(request.cause ?? '')));
      return {};
    },
    StopExecution: (request: Record<string, unknown>) => {
      const record = executionOf(String(request.executionArn ?? ''));
      const state = running.get(record.name);
      if (state) {
        state.stopRequested = true;
        state.controllers.forEach((c) => c.abort());
        state.abort();
      }
      return { stopDate: Date.now() / 1000 };
    },
    DescribeExecution: (request: Record<string, unknown>) => {
      const r = executionOf(String(request.executionArn ?? ''));
      return {
        executionArn: r.executionArn,
        stateMachineArn: r.stateMachineArn,
        name: r.name,
        status: r.status,
        startDate: r.startDate,
        ...(r.stopDate ? { stopDate: r.stopDate } : {}),
        input: r.input,
        ...(r.output !== undefined ? { output: r.output } : {}),
        ...(r.error ? { error: r.error, cause: r.cause } : {}),
      };
    },
    GetExecutionHistory: (request: Record<string, unknown>) => {
      const r = executionOf(String(request.executionArn ?? ''));
      return {
        events: r.history.map((e, i) => ({
          id: i + 1,
          type: e.type,
          timestamp: e.timestamp / 1000,
          ...(e.stateName ? { stateEnteredEventDetails: { name: e.stateName } } : {}),
        })),
      };
    },
  };

  function takeTask(token: string): WaitingTask {
    const task = waiting.get(token);
    if (task) {
      waiting.delete(token);
      return task;
    }
    if (timedOut.has(token)) throw new SfnError('TaskTimedOut', 'Task Timed Out');
    throw new SfnError('TaskDoesNotExist', 'Task Does Not Exist');
  }

  function executionOf(arn: string): ExecutionRecord {
    const record = executions.get(arn.split(':').pop() ?? '');
    if (!record || record.executionArn !== arn) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  const server = createServer((req, res) => void serveJsonProtocol(req, res, operations));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  // Resume what was running when the previous process stopped.
  for (const record of executions.values()) {
    if (record.status !== 'RUNNING') continue;
    if (record.currentState) run(record, { state: record.currentState, input: record.currentStateInput });
    else run(record);
  }

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    describe: (name) => executions.get(name),
    close: async () => {
      closing = true;
      for (const state of running.values()) {
        state.controllers.forEach((c) => c.abort());
        state.abort();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function polyfillPromiseWithResolvers(): void {
  // aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22); without it every Task fails
  // with a TypeError that a Catch then hides.
  const P = Promise as unknown as { withResolvers?: () => unknown };
  if (P.withResolvers) return;
  P.withResolvers = function withResolvers() {
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
