/**
 * Shorter retry waits for local runs (`retryScale`, POOLGATE_SFN_RETRY_SCALE): a test that injects
 * many ModelArts faults would otherwise wait out the definition's backoff (up to 30 s per retry).
 *
 * The definition is not changed: which errors are retried, how many times, and what is caught stay
 * exactly as written. Only the wait before each retry shrinks: it is the definition's own wait
 * (IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds, with FULL jitter when the retrier asks
 * for it) times the scale, where n is how many times the state has failed in a row.
 *
 * It works through aws-local-stepfunctions' `retryIntervalOverrides`, which replace a retrier's wait
 * by a number of milliseconds read when the state fails (3.0.0: `override[retrierIndex]`, read just
 * before the wait); the numbers here are computed at that moment.
 */
import { isJsonObject, type JsonObject } from './json';

/** Consecutive failed attempts of a state in one run, as the task handlers count them. */
export type FailureCount = (stateName: string) => number;

export function scaledRetryOverrides(
  definition: JsonObject,
  scale: number,
  failures: FailureCount,
): Record<string, number[]> {
  const overrides: Record<string, number[]> = {};
  const states = isJsonObject(definition.States) ? definition.States : {};
  for (const [stateName, state] of Object.entries(states)) {
    if (!isJsonObject(state) || !Array.isArray(state.Retry)) continue;
    const retriers = state.Retry.filter(isJsonObject);
    overrides[stateName] = new Proxy([] as number[], {
      get(target, property, receiver) {
        const index = typeof property === 'string' && /^\d+$/.test(property) ? Number(property) : undefined;
        if (index === undefined || index >= retriers.length) return Reflect.get(target, property, receiver) as unknown;
        return scaledWaitMs(retriers[index], Math.max(0, failures(stateName) - 1), scale);
      },
    });
  }
  return overrides;
}

/** The wait before retry number `attempt` (0 = the first) of `retrier`, in ms, times `scale`. */
export function scaledWaitMs(retrier: JsonObject, attempt: number, scale: number): number {
  const interval = typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
  const backoff = typeof retrier.BackoffRate === 'number' ? retrier.BackoffRate : 2;
  const cap = typeof retrier.MaxDelaySeconds === 'number' ? retrier.MaxDelaySeconds : Infinity;
  const seconds = Math.min(interval * backoff ** attempt, cap);
  const jitter = retrier.JitterStrategy === 'FULL' ? Math.random() : 1;
  return seconds * 1000 * scale * jitter;
}
