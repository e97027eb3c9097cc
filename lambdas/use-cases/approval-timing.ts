import type { PlannedStage } from '../domain/approval-plan';

/**
 * How long the workflow waits on a stage's task token: its expiry plus a short grace, so a vote
 * accepted just before `expiresAt` still finds the task waiting. (Reminders come with a later issue.)
 */
export const DECISION_GRACE_SECONDS = 10;

export function approvalWaitSeconds(stage: PlannedStage): number {
  return stage.expireAfterSeconds + DECISION_GRACE_SECONDS;
}
