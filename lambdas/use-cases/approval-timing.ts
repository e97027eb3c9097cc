/**
 * How long the workflow waits on a stage's task token before it looks again: until the next
 * reminder, or until expiry (plus a short grace, so a vote accepted just before `expiresAt` still
 * finds the task waiting), whichever comes first.
 */
import type { PlannedStage } from '../domain/approval-plan';

export const DECISION_GRACE_SECONDS = 10;

export function reminderOrExpiryWaitSeconds(
  stage: Pick<PlannedStage, 'remindAfterSeconds'>,
  expiresAt: Date,
  now: Date,
): number {
  const untilExpiry = Math.ceil((expiresAt.getTime() - now.getTime()) / 1000) + DECISION_GRACE_SECONDS;
  return Math.max(1, Math.min(stage.remindAfterSeconds, untilExpiry));
}

/** The first wait of a stage that has not started yet. */
export function firstWaitSeconds(stage: PlannedStage): number {
  return Math.max(1, Math.min(stage.remindAfterSeconds, stage.expireAfterSeconds + DECISION_GRACE_SECONDS));
}
