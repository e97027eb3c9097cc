/**
 * Turns the ONE workflow definition (lib/workflow-definition.ts) into the copy aws-local-stepfunctions 3
 * runs, without changing what it means, and refuses what the engine would run differently from AWS.
 *
 * Engine differences handled here (aws-local-stepfunctions 3.0.0):
 * - `TimeoutSecondsPath` is evaluated against the task's resolved `Parameters`, whereas AWS evaluates it
 *   against the state input. The local copy resolves the path into a hidden parameter
 *   ({@link TIMEOUT_PARAMETER}) and reads the timeout from there; the task handlers never pass it on.
 * - Node arms no timer longer than 2^31-1 ms: a longer one fires after 1 ms. Static `TimeoutSeconds` are
 *   capped to {@link MAX_TIMEOUT_SECONDS} here; dynamic ones are capped by the task handler (see tasks.ts).
 * - A Task without a timeout gets 60 s from the engine but 99999999 s on AWS: the copy gives it the cap.
 * - The engine overwrites `$$.Execution.Input` and `$$.Execution.StartTime` with the values of the current
 *   engine run, which after a restart is a resumed run. `$$.Execution...` paths are rewritten to
 *   `$$.${@link EXECUTION_CONTEXT_KEY}...`, a context entry the emulator fills from the saved execution.
 * - JSONata is validated but not evaluated (its Output/Arguments/Condition are silently ignored), and
 *   Parallel/Map states cannot be resumed by state name: both are refused.
 * - A Choice rule `IsPresent`/`IsNull`/`IsNumeric`/`IsString`/`IsBoolean`/`IsTimestamp` set to `false`
 *   never matches in the engine (on AWS it matches when the test fails): refused, write `Not` around
 *   the `true` form instead.
 */
import { isJsonObject, type Json, type JsonObject } from './json';

/** Longest timeout Node can arm: `setTimeout` treats anything above 2^31-1 ms as 1 ms. About 24.8 days. */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** Parameter of the local copy that carries the value of a `TimeoutSecondsPath`. */
export const TIMEOUT_PARAMETER = '__localTimeoutSeconds';
/** Context entry that stands in for `$$.Execution` (which the engine overwrites). */
export const EXECUTION_CONTEXT_KEY = 'LocalExecution';

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const LAMBDA_INVOKE_WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** The shape of an Amazon States Language document, as much as the emulator relies on. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, unknown>;
  readonly [field: string]: unknown;
}

export type TaskKind = 'lambda' | 'callback';

export interface TaskInfo {
  readonly kind: TaskKind;
  /** Read the timeout from {@link TIMEOUT_PARAMETER} of the resolved parameters (a `TimeoutSecondsPath`). */
  readonly dynamicTimeout: boolean;
  /** The static timeout of the local copy, already capped. */
  readonly timeoutSeconds?: number;
}

export interface LocalDefinition {
  /** The copy the engine runs (plain JSON). */
  readonly definition: JsonObject;
  /** Every Task state by name. */
  readonly tasks: ReadonlyMap<string, TaskInfo>;
}

export class UnsupportedDefinitionError extends Error {
  override readonly name = 'UnsupportedDefinitionError';
}

export function localDefinition(original: AslDefinition): LocalDefinition {
  const copy = rewriteExecutionPaths(JSON.parse(JSON.stringify(original)) as Json);
  if (!isJsonObject(copy) || !isJsonObject(copy.States) || typeof copy.StartAt !== 'string') {
    throw new UnsupportedDefinitionError('a state machine definition needs StartAt and States');
  }
  if (copy.QueryLanguage === 'JSONata') throw jsonataRefused('the state machine');
  if (typeof copy.TimeoutSeconds === 'number') copy.TimeoutSeconds = Math.min(copy.TimeoutSeconds, MAX_TIMEOUT_SECONDS);

  const tasks = new Map<string, TaskInfo>();
  for (const [name, state] of Object.entries(copy.States)) {
    if (!isJsonObject(state)) throw new UnsupportedDefinitionError(`state ${name} is not an object`);
    if (state.QueryLanguage === 'JSONata') throw jsonataRefused(`state ${name}`);
    if (state.Type === 'Parallel' || state.Type === 'Map') {
      throw new UnsupportedDefinitionError(
        `state ${name}: ${state.Type} states are not supported locally (a restart resumes top-level states only)`,
      );
    }
    if (state.Type === 'Task') tasks.set(name, localTask(name, state));
    if (state.Type === 'Choice' && Array.isArray(state.Choices)) state.Choices.forEach((rule) => checkRule(name, rule));
  }
  return { definition: copy, tasks };
}

/**
 * The copy a restart runs: the same states, started at `stateName`, without the states that can no
 * longer be reached from there (the validator refuses unreachable states, and normal validation stays on).
 */
export function resumedDefinition(local: LocalDefinition, stateName: string): JsonObject {
  const states = local.definition.States as JsonObject;
  if (!isJsonObject(states[stateName]))
    throw new UnsupportedDefinitionError(`cannot resume at unknown state ${stateName}`);
  const reachable = new Set<string>();
  const pending = [stateName];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const state = states[name];
    if (reachable.has(name) || !isJsonObject(state)) continue;
    reachable.add(name);
    pending.push(...successors(state));
  }
  return {
    ...local.definition,
    StartAt: stateName,
    States: Object.fromEntries(Object.entries(states).filter(([name]) => reachable.has(name))),
  };
}

const TYPE_TESTS = ['IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

/** Refuses a type test set to `false` anywhere in a Choice rule (see the engine differences above). */
function checkRule(stateName: string, rule: Json): void {
  if (!isJsonObject(rule)) return;
  const negated = TYPE_TESTS.find((test) => rule[test] === false);
  if (negated) {
    throw new UnsupportedDefinitionError(
      `state ${stateName}: "${negated}": false never matches locally; write {"Not": {..., "${negated}": true}}`,
    );
  }
  for (const nested of [...(Array.isArray(rule.And) ? rule.And : []), ...(Array.isArray(rule.Or) ? rule.Or : [])])
    checkRule(stateName, nested);
  if (rule.Not !== undefined) checkRule(stateName, rule.Not);
}

function localTask(name: string, state: JsonObject): TaskInfo {
  const kind =
    state.Resource === LAMBDA_INVOKE
      ? 'lambda'
      : state.Resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN
        ? 'callback'
        : undefined;
  if (!kind) {
    // The engine would call the real AWS Lambda service for any other resource.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a definition's Resource is an ARN string
    throw new UnsupportedDefinitionError(`state ${name}: resource ${String(state.Resource)} is not supported locally`);
  }
  if (!isJsonObject(state.Parameters))
    throw new UnsupportedDefinitionError(`state ${name}: a Lambda task needs Parameters`);
  if (typeof state.TimeoutSecondsPath === 'string') {
    state.Parameters = { ...state.Parameters, [`${TIMEOUT_PARAMETER}.$`]: state.TimeoutSecondsPath };
    state.TimeoutSecondsPath = `$.${TIMEOUT_PARAMETER}`;
    return { kind, dynamicTimeout: true };
  }
  const requested = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : MAX_TIMEOUT_SECONDS;
  state.TimeoutSeconds = Math.min(requested, MAX_TIMEOUT_SECONDS);
  return { kind, dynamicTimeout: false, timeoutSeconds: state.TimeoutSeconds };
}

function successors(state: JsonObject): string[] {
  const next: string[] = [];
  if (typeof state.Next === 'string') next.push(state.Next);
  if (typeof state.Default === 'string') next.push(state.Default);
  for (const list of [state.Choices, state.Catch]) {
    if (!Array.isArray(list)) continue;
    for (const rule of list) if (isJsonObject(rule) && typeof rule.Next === 'string') next.push(rule.Next);
  }
  return next;
}

/** `$$.Execution` followed by the end, a `.`, a `[` or anything that cannot continue a name. */
const EXECUTION_PATH = /\$\$\.Execution(?![A-Za-z0-9_])/g;

function rewriteExecutionPaths(value: Json): Json {
  if (typeof value === 'string') return value.replace(EXECUTION_PATH, () => `$$.${EXECUTION_CONTEXT_KEY}`);
  if (Array.isArray(value)) return value.map(rewriteExecutionPaths);
  if (isJsonObject(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rewriteExecutionPaths(item)]));
  return value;
}

function jsonataRefused(where: string): UnsupportedDefinitionError {
  return new UnsupportedDefinitionError(
    `${where} uses JSONata, which aws-local-stepfunctions 3 validates but does not evaluate (a Choice would always take its Default): write it in JSONPath`,
  );
}
