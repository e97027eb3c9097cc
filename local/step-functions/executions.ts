/**
 * The executions of the one local state machine: starting them on aws-local-stepfunctions, following
 * the engine's event log into the persisted record, answering task tokens, stopping, and resuming
 * after a restart.
 *
 * An engine run ends in one of three ways, told apart by `Run.disposition`:
 *   running → the engine's result decides the status (SUCCEEDED, FAILED, TIMED_OUT);
 *   stopped → StopExecution already wrote ABORTED, whatever the engine reports afterwards is ignored;
 *   closed  → the emulator shuts down: nothing more is written, the record stays RUNNING, a restart resumes it.
 */
import {
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { randomBytes } from 'node:crypto';
import { EXECUTION_CONTEXT_KEY, resumedDefinition, type LocalDefinition } from './definition';
import { appendEvent, recordEngineEvent, type EngineEvent } from './history';
import type { Json, JsonObject } from './json';
import { SfnServiceError } from './protocol';
import { scaledRetryOverrides } from './retry-scale';
import { RECORD_FORMAT, type ExecutionRecord, type ExecutionStore } from './store';
import { RunStoppedError, taskError, taskHandlers, type InvokeFunction } from './tasks';
import { TaskTokens } from './task-tokens';

export interface ExecutionsOptions {
  readonly stateMachineArn: string;
  readonly definition: LocalDefinition;
  readonly store: ExecutionStore;
  readonly invokeFunction: InvokeFunction;
  /** Each retry waits this fraction of the definition's backoff (./retry-scale.ts); 1: the definition's own waits. */
  readonly retryScale?: number;
}

interface Run {
  readonly record: ExecutionRecord;
  /** Aborted when the run is stopped or closed; every task invocation listens to it. */
  readonly controller: AbortController;
  /** Whether this engine run continues an execution after a restart. */
  readonly resumed: boolean;
  disposition: 'running' | 'stopped' | 'closed';
  abortEngine(): void;
}

type Outcome = Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>;

export class Executions {
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly runs = new Map<string, Run>();
  private readonly tokens = new TaskTokens();
  /** Random, so that no input can contain it by chance. */
  private readonly tokenPlaceholder = `local-task-token-placeholder-${randomBytes(12).toString('hex')}`;
  /** Validated once, with the engine's full validation; reused by every normal start. */
  private readonly machine: StateMachine;
  private readonly resumeMachines = new Map<string, StateMachine>();
  private closed = false;

  constructor(private readonly options: ExecutionsOptions) {
    this.machine = new StateMachine(options.definition.definition as unknown as StateMachineDefinition);
  }

  executionArn(name: string): string {
    return `${this.options.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  get(name: string): ExecutionRecord | undefined {
    return this.records.get(name);
  }

  /** The execution an ARN names; ExecutionDoesNotExist otherwise. */
  byArn(arn: string): ExecutionRecord {
    const name = arn.slice(arn.lastIndexOf(':') + 1);
    const record = this.records.get(name);
    if (!record || record.executionArn !== arn)
      throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  all(): ExecutionRecord[] {
    return [...this.records.values()];
  }

  /** Loads the saved executions and resumes those that were running. */
  resumeSaved(): void {
    for (const record of this.options.store.loadAll()) {
      this.records.set(record.name, record);
      this.tokens.restore(record);
    }
    for (const record of this.records.values()) {
      if (record.status !== 'RUNNING') continue;
      try {
        this.run(record, record.current);
      } catch (error) {
        // e.g. the definition changed and the saved state is gone: the execution cannot go on.
        this.end(record, {
          status: 'FAILED',
          error: 'States.Runtime',
          cause: `cannot resume after a restart: ${(error as Error).message}`,
        });
      }
    }
  }

  /**
   * StartExecution. The same name again is idempotent while that execution runs with the identical
   * input (the same ARN and start date come back); otherwise ExecutionAlreadyExists, as on AWS.
   */
  async start(name: string, input: string): Promise<ExecutionRecord> {
    const existing = this.records.get(name);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
    }
    const record: ExecutionRecord = {
      format: RECORD_FORMAT,
      name,
      executionArn: this.executionArn(name),
      stateMachineArn: this.options.stateMachineArn,
      input,
      status: 'RUNNING',
      startDate: Date.now(),
      history: [],
      stateTransitions: 0,
      openTokens: [],
      timedOutTokens: [],
    };
    this.records.set(name, record);
    try {
      await this.options.store.save(record); // answered only once a restart would find it
    } catch (error) {
      this.records.delete(name);
      throw error;
    }
    this.run(record);
    return record;
  }

  /** StopExecution: ABORTED at once, its running task invocations aborted, its tokens gone. */
  async stop(arn: string, error?: string, cause?: string): Promise<ExecutionRecord> {
    await settleQueuedEvents();
    const record = this.byArn(arn);
    if (record.status !== 'RUNNING') return record;
    const run = this.runs.get(record.name);
    if (run) {
      run.disposition = 'stopped';
      this.runs.delete(record.name);
    }
    const reason = { ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) };
    appendEvent(record, { type: 'ExecutionAborted', timestamp: Date.now(), ...reason });
    Object.assign(record, { status: 'ABORTED', stopDate: Date.now(), current: undefined, ...reason });
    this.tokens.releaseExecution(record.name, new RunStoppedError());
    run?.controller.abort(new RunStoppedError());
    run?.abortEngine();
    await this.options.store.save(record);
    return record;
  }

  /** SendTaskSuccess; answered once the task's completion (and the next state entered) is on disk. */
  async sendTaskSuccess(token: string, output: Json): Promise<void> {
    await this.settleAndSave(this.tokens.succeed(token, output));
  }

  /** SendTaskFailure: the task fails with `error` as its Error name and `cause` as its Cause. */
  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    await this.settleAndSave(this.tokens.fail(token, taskError(error, cause)));
  }

  /** SendTaskHeartbeat: only checks the token (the engine has no heartbeat timeouts). */
  sendTaskHeartbeat(token: string): void {
    this.tokens.check(token);
  }

  /** Resolves once everything written so far is on disk. */
  flush(): Promise<void> {
    return this.options.store.flush();
  }

  /**
   * Stops every engine run WITHOUT ending its execution: the records stay RUNNING on disk, with the
   * state they were in, so a restart resumes them. Resolves once all writes are on disk.
   */
  async close(): Promise<void> {
    await settleQueuedEvents();
    this.closed = true;
    for (const run of this.runs.values()) {
      run.disposition = 'closed';
      this.tokens.forgetExecution(run.record.name, new RunStoppedError());
      run.controller.abort(new RunStoppedError());
      run.abortEngine();
    }
    this.runs.clear();
    await this.options.store.flush();
  }

  private run(record: ExecutionRecord, resumeAt?: { readonly stateName: string; readonly input: Json }): void {
    const machine = resumeAt ? this.resumeMachine(resumeAt.stateName) : this.machine;
    const controller = new AbortController();
    const run: Run = {
      record,
      controller,
      resumed: resumeAt !== undefined,
      disposition: 'running',
      abortEngine: () => undefined,
    };
    this.runs.set(record.name, run);
    const failuresInARow = new Map<string, number>();
    const handlers = taskHandlers(
      this.options.definition.tasks,
      {
        record,
        signal: controller.signal,
        persist: () => this.persist(record),
        noteAttempt: (stateName, ok) =>
          failuresInARow.set(stateName, ok ? 0 : (failuresInARow.get(stateName) ?? 0) + 1),
      },
      { invokeFunction: this.options.invokeFunction, tokens: this.tokens, tokenPlaceholder: this.tokenPlaceholder },
    );
    const scale = this.options.retryScale ?? 1;
    const retryIntervalOverrides =
      scale < 1
        ? scaledRetryOverrides(
            this.options.definition.definition,
            scale,
            (stateName) => failuresInARow.get(stateName) ?? 0,
          )
        : undefined;
    const execution = machine.run(resumeAt ? resumeAt.input : (JSON.parse(record.input) as Json), {
      overrides: { taskResourceLocalHandlers: handlers, ...(retryIntervalOverrides ? { retryIntervalOverrides } : {}) },
      noThrowOnAbort: true,
      context: this.context(record),
    });
    run.abortEngine = execution.abort;
    const drained = this.follow(run, execution.eventLogs);
    void execution.result
      .then(
        (output): Outcome => ({ status: 'SUCCEEDED', output: JSON.stringify(output) }),
        (error: unknown): Outcome => failure(error),
      )
      .then(async (outcome) => {
        await drained;
        if (run.disposition === 'running') this.end(record, outcome);
      });
  }

  /** Copies the engine's events into the record (and to disk) while the run is the execution's. */
  private async follow(run: Run, events: AsyncGenerator<EngineEvent>): Promise<void> {
    for await (const event of events) {
      if (run.disposition !== 'running') continue;
      recordEngineEvent(run.record, event, run.resumed);
      this.persist(run.record);
    }
  }

  private end(record: ExecutionRecord, outcome: Outcome): void {
    this.runs.delete(record.name);
    Object.assign(record, outcome, { stopDate: Date.now(), current: undefined });
    this.tokens.releaseExecution(record.name, new RunStoppedError());
    this.persist(record);
  }

  /**
   * The run context. The engine overwrites `Execution.Input` and `Execution.StartTime` with its own
   * run's values, so the definition's `$$.Execution` paths read {@link EXECUTION_CONTEXT_KEY} instead,
   * which carries the original input and start time, also for a resumed run.
   */
  private context(record: ExecutionRecord): JsonObject {
    const execution = {
      Id: record.executionArn,
      Input: JSON.parse(record.input) as Json,
      Name: record.name,
      RoleArn: 'arn:aws:iam::000000000000:role/local-step-functions',
      StartTime: new Date(record.startDate).toISOString(),
      RedriveCount: 0,
    };
    const stateMachineName = this.options.stateMachineArn.slice(this.options.stateMachineArn.lastIndexOf(':') + 1);
    return {
      Execution: execution,
      [EXECUTION_CONTEXT_KEY]: execution,
      StateMachine: { Id: this.options.stateMachineArn, Name: stateMachineName },
      Task: { Token: this.tokenPlaceholder },
    };
  }

  /** The definition started at `stateName`, unreachable states pruned, and validated like the original. */
  private resumeMachine(stateName: string): StateMachine {
    let machine = this.resumeMachines.get(stateName);
    if (!machine) {
      machine = new StateMachine(
        resumedDefinition(this.options.definition, stateName) as unknown as StateMachineDefinition,
      );
      this.resumeMachines.set(stateName, machine);
    }
    return machine;
  }

  private persist(record: ExecutionRecord): void {
    if (this.closed) return;
    this.options.store.save(record).catch(() => undefined); // the store reports failed writes itself
  }

  private async settleAndSave(record: ExecutionRecord): Promise<void> {
    await settleQueuedEvents();
    if (!this.closed) await this.options.store.save(record);
  }
}

function failure(error: unknown): Outcome {
  if (error instanceof ExecutionTimeoutError)
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution timed out' };
  const cause = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof Error) return { status: 'FAILED', error: cause.name, cause: cause.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: String(cause) };
}

/**
 * Lets the engine finish what it does in microtasks (the state after an answered task is entered at
 * once) and this module record the events it logged, before a response is sent or the runs are aborted.
 */
function settleQueuedEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
