/**
 * Adapts the ONE workflow definition to aws-local-stepfunctions 3, without changing what it means.
 *
 * The engine evaluates `TimeoutSecondsPath` against the task's resolved `Parameters`, while AWS
 * evaluates it against the state input. So, in the local copy only, each such path is also resolved
 * into a hidden parameter and the timeout read from there; the emulator strips that parameter before
 * the function sees its payload.
 */
export const HIDDEN_TIMEOUT_PARAMETER = '__poolgateTimeoutSeconds';

interface TaskLike {
  Type: string;
  Parameters?: Record<string, unknown>;
  TimeoutSecondsPath?: string;
  [field: string]: unknown;
}

export interface DefinitionLike {
  StartAt: string;
  States: Record<string, unknown>;
  [field: string]: unknown;
}

export function localDefinition<T extends DefinitionLike>(definition: T): T {
  const copy = structuredClone(definition);
  for (const state of Object.values(copy.States) as TaskLike[]) {
    if (state.Type === 'Task' && state.TimeoutSecondsPath && state.Parameters) {
      state.Parameters = { ...state.Parameters, [`${HIDDEN_TIMEOUT_PARAMETER}.$`]: state.TimeoutSecondsPath };
      state.TimeoutSecondsPath = `$.${HIDDEN_TIMEOUT_PARAMETER}`;
    }
  }
  return copy;
}

/** The copy a restart runs: the same states, started at the state the execution was in. */
export function resumedDefinition<T extends DefinitionLike>(definition: T, stateName: string): T {
  return { ...definition, StartAt: stateName };
}
