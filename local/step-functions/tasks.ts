/**
 * The local handlers of the Task states (aws-local-stepfunctions' `taskResourceLocalHandlers`, keyed by
 * state name). The engine passes them the resolved `Parameters` and expects the service's response.
 *
 * - `lambda:invoke`: calls `invokeFunction(FunctionName, Payload)` and answers `{Payload, StatusCode: 200}`.
 *   A thrown error keeps its name (Retry/Catch match it, as with AWS's errorType) and its message becomes
 *   the Cause `{"errorType":…,"errorMessage":…}`, as AWS's lambda:invoke reports it.
 * - `lambda:invoke.waitForTaskToken`: replaces the `$$.Task.Token` placeholder (the engine has no task
 *   tokens; the emulator passes a placeholder through the run context) with a fresh token, invokes the
 *   function, then waits for SendTaskSuccess/SendTaskFailure.
 *
 * Every invocation gets its own AbortController, aborted when the task times out or the execution is
 * stopped (the engine abandons a timed-out task but cannot stop the code it runs).
 *
 * Timeouts stay the engine's (it raises States.Timeout, which only Catch/Retry of States.Timeout or
 * States.ALL match). The handler arms a timer of the same length just before the engine does, which
 * therefore fires first: it turns the tokens into TaskTimedOut and aborts the invocation.
 */
import { MAX_TIMEOUT_SECONDS, TIMEOUT_PARAMETER, type TaskInfo } from './definition';
import { isJsonObject, replaceInStrings, throughJson, type Json, type JsonObject } from './json';
import { newTaskToken, type TaskTokens, type WaitingTask } from './task-tokens';
import type { ExecutionRecord } from './store';

/**
 * Runs a Lambda function. A rejection's `name` is the error name Retry and Catch see.
 * `signal` is aborted when the task times out or its execution is stopped.
 */
export type InvokeFunction = (functionRef: string, payload: unknown, signal: AbortSignal) => Promise<unknown>;

/** The handler signature of aws-local-stepfunctions (its JSONValue is structurally our Json). */
export type LocalTaskHandler = (input: Json) => Promise<Json>;

/** What the handlers need of the engine run they belong to. */
export interface TaskRun {
  readonly record: ExecutionRecord;
  /** Aborted when the execution is stopped or the emulator closes. */
  readonly signal: AbortSignal;
  /** Saves the record in the background. */
  persist(): void;
  /** Told after each attempt of a task state (scaled retry waits count the failures in a row). */
  noteAttempt?(stateName: string, ok: boolean): void;
}

export interface TaskEnvironment {
  readonly invokeFunction: InvokeFunction;
  readonly tokens: TaskTokens;
  /** What `$$.Task.Token` resolves to in the engine; replaced by a real token per invocation. */
  readonly tokenPlaceholder: string;
}

/**
 * Thrown into the engine when its run was stopped: not retryable, not catchable (the engine reads
 * these two flags), so no Retry or Catch runs another state of an execution that is over.
 */
export class RunStoppedError extends Error {
  override readonly name = 'RunStopped';
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor() {
    super('the execution was stopped');
  }
}

/** A task failure as Step Functions reports it: Error = the name, Cause = the given cause text. */
export function taskError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

/** What AWS's lambda:invoke reports for a function error: Error = errorType, Cause = the error as JSON. */
export function lambdaError(thrown: unknown): Error {
  const name = thrown instanceof Error && thrown.name ? thrown.name : 'Error';
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return taskError(name, JSON.stringify({ errorType: name, errorMessage: message }));
}

export function taskHandlers(
  tasks: ReadonlyMap<string, TaskInfo>,
  run: TaskRun,
  env: TaskEnvironment,
): Record<string, LocalTaskHandler> {
  const handlers: Record<string, LocalTaskHandler> = {};
  for (const [stateName, info] of tasks) {
    handlers[stateName] =
      info.kind === 'lambda' ? lambdaTask(stateName, info, run, env) : callbackTask(stateName, info, run, env);
  }
  return handlers;
}

function lambdaTask(stateName: string, info: TaskInfo, run: TaskRun, env: TaskEnvironment): LocalTaskHandler {
  return async (input) => {
    if (run.signal.aborted) throw new RunStoppedError();
    const parameters = objectParameters(input);
    // Everything before the first await runs before the engine reads the timeout (see taskTimeoutSeconds).
    const timeoutSeconds = taskTimeoutSeconds(info, parameters);
    if (timeoutSeconds === undefined) return never();
    const invocation = startInvocation(run, timeoutSeconds);
    try {
      const Payload = await invoke(env, run, parameters, invocation.signal);
      run.noteAttempt?.(stateName, true);
      return { ExecutedVersion: '$LATEST', Payload, StatusCode: 200 };
    } catch (error) {
      run.noteAttempt?.(stateName, false);
      throw error;
    } finally {
      invocation.end();
    }
  };
}

function callbackTask(stateName: string, info: TaskInfo, run: TaskRun, env: TaskEnvironment): LocalTaskHandler {
  return async (input) => {
    if (run.signal.aborted) throw new RunStoppedError();
    const parameters = objectParameters(input);
    const timeoutSeconds = taskTimeoutSeconds(info, parameters);
    if (timeoutSeconds === undefined) return never();
    const token = newTaskToken();
    const task: WaitingTask = env.tokens.wait(run.record, stateName, token);
    const invocation = startInvocation(run, timeoutSeconds, () => {
      env.tokens.timeOut(task);
      run.persist();
    });
    run.persist();
    const withToken = objectParameters(replaceInStrings(parameters, env.tokenPlaceholder, token));
    // The answer may come before the function returns (it is already in the payload): wait for the
    // answer, and fail the task only if the invocation fails while the task still waits.
    invoke(env, run, withToken, invocation.signal).catch((error: unknown) => {
      env.tokens.failIfWaiting(task, error instanceof Error ? error : lambdaError(error));
    });
    try {
      const answer = await task.answer;
      run.noteAttempt?.(stateName, true);
      return answer;
    } catch (error) {
      run.noteAttempt?.(stateName, false);
      throw error;
    } finally {
      env.tokens.release(task);
      invocation.end();
      run.persist();
    }
  };
}

async function invoke(env: TaskEnvironment, run: TaskRun, parameters: JsonObject, signal: AbortSignal): Promise<Json> {
  const { FunctionName, Payload } = parameters;
  if (typeof FunctionName !== 'string')
    throw taskError('States.Runtime', 'the Parameters of a Lambda task need a FunctionName');
  try {
    return throughJson(await env.invokeFunction(FunctionName, Payload ?? null, signal));
  } catch (error) {
    if (run.signal.aborted) throw new RunStoppedError();
    throw lambdaError(error);
  }
}

interface Invocation {
  readonly signal: AbortSignal;
  end(): void;
}

/** The invocation's own AbortController: aborted by the task timeout or by the run stopping. */
function startInvocation(run: TaskRun, timeoutSeconds: number, onTimeout?: () => void): Invocation {
  const controller = new AbortController();
  const onStop = () => controller.abort(run.signal.reason);
  run.signal.addEventListener('abort', onStop, { once: true });
  const timer = setTimeout(() => {
    onTimeout?.();
    controller.abort(new Error('States.Timeout'));
  }, timeoutSeconds * 1000);
  return {
    signal: controller.signal,
    end: () => {
      clearTimeout(timer);
      run.signal.removeEventListener('abort', onStop);
    },
  };
}

/**
 * The timeout the engine is about to arm for this invocation, in seconds; undefined when the engine
 * will refuse it (it then fails the state with States.Runtime itself).
 *
 * A dynamic timeout (`TimeoutSecondsPath`) above {@link MAX_TIMEOUT_SECONDS} would overflow Node's
 * timer and fire at once. It is capped IN the resolved parameters: the engine calls the handler first
 * and reads the timeout from the very same object right after (aws-local-stepfunctions 3.0.0,
 * TaskStateAction.execute). A wait that long ends locally after about 24.8 days instead.
 */
function taskTimeoutSeconds(info: TaskInfo, parameters: JsonObject): number | undefined {
  if (!info.dynamicTimeout) return info.timeoutSeconds;
  const seconds = parameters[TIMEOUT_PARAMETER];
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) return undefined;
  if (seconds > MAX_TIMEOUT_SECONDS) parameters[TIMEOUT_PARAMETER] = MAX_TIMEOUT_SECONDS;
  return Math.min(seconds, MAX_TIMEOUT_SECONDS);
}

function objectParameters(input: Json): JsonObject {
  if (!isJsonObject(input)) throw taskError('States.Runtime', 'the Parameters of a Lambda task must be an object');
  return input;
}

/** Leaves the task to the engine, which fails it on its own (an invalid timeout). */
function never(): Promise<Json> {
  return new Promise<Json>(() => undefined);
}
