/**
 * When to look at a node pool again while its nodes are followed (node tracking, after ModelArts
 * accepted a create, a scale or a delete). Pure: a function of the time since the change was applied,
 * so a retried run or a restarted stack continues the same schedule instead of starting it over.
 *
 * The checks fall on a fixed grid counted from the change's acceptance: one every `pollIntervalSeconds`
 * (the policy's longest wait between two checks, 90 s by default). The first check comes one interval
 * after the acceptance (nodes are never ready the moment ModelArts accepts them); a check that ran late
 * or a run resumed mid-interval waits only for the next point of the grid, never a whole interval more.
 * Why a plain grid and not a curve (longer waits first, shorter later, or the reverse): docs/decisions.md,
 * "Tracking that costs little".
 */

/** The default longest wait between two checks: readiness is noticed within this long of happening. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 90;

export interface TrackingSchedule {
  /** The longest wait between two checks (the grid's step), in whole seconds >= 1. */
  readonly pollIntervalSeconds: number;
}

/**
 * Seconds to wait before the next check, `elapsedSeconds` after ModelArts accepted the change: up to
 * the next point of the grid strictly after now, and at least 1 s (the workflow's Wait takes whole
 * seconds >= 1).
 */
export function trackingWaitSeconds(elapsedSeconds: number, schedule: TrackingSchedule): number {
  const step = Math.max(1, Math.floor(schedule.pollIntervalSeconds));
  const elapsed = Number.isFinite(elapsedSeconds) ? Math.max(0, elapsedSeconds) : 0;
  const next = (Math.floor(elapsed / step) + 1) * step;
  return Math.max(1, Math.ceil(next - elapsed));
}

/** The wait of a run that has just had its change accepted (CreateNodePool, ApplyChange). */
export function trackingWaitSince(appliedAt: string | undefined, now: Date, schedule: TrackingSchedule): number {
  const applied = appliedAt ? Date.parse(appliedAt) : NaN;
  const elapsed = Number.isNaN(applied) ? 0 : (now.getTime() - applied) / 1000;
  return trackingWaitSeconds(elapsed, schedule);
}
