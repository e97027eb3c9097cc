/**
 * The audit trail: each step has a deterministic id, so a retried Lambda that records it again
 * changes nothing (the repository appends a step only if its id is new).
 */
import type { StepName, StepOutcome } from '../../contracts/api-values';

export { STEP_NAMES, type StepName, type StepOutcome } from '../../contracts/api-values';

export interface Step {
  readonly id: string;
  readonly step: StepName;
  readonly outcome: StepOutcome;
  /** ISO 8601 time the step was recorded. */
  readonly at: string;
  /** Who did it, for decisions: the approver's e-mail. */
  readonly actor?: string;
  readonly detail?: Record<string, unknown>;
}

export const stepId = {
  submitted: () => 'submitted',
  capacityChecked: () => 'capacity-checked',
  quotaChecked: () => 'quota-checked',
  approvalRequested: (stage: string) => `approval-requested:${stage}:1`,
  vote: (stage: string, approver: string) => `vote:${stage}:${approver}`,
  expired: (stage: string) => `expired:${stage}`,
  nodePoolCreated: () => 'node-pool-created',
  /**
   * A change refused at ApplyChange: the node pool is no longer the one poolgate created (re-created in
   * the console after CheckRequest recorded `capacity-checked` as ok). One per attempt, like `failed`.
   */
  nodePoolNotOurs: (attempt = 0) => (attempt ? `node-pool-not-ours:${attempt}` : 'node-pool-not-ours'),
  /** A scale refused at ApplyChange: the node pool's count changed since its submission. One per attempt. */
  nodePoolChanged: (attempt = 0) => (attempt ? `node-pool-changed:${attempt}` : 'node-pool-changed'),
  /** One failure per attempt: the first run's is `failed`, a retried run's `failed:<attempt>`. */
  failed: (attempt = 0) => (attempt ? `failed:${attempt}` : 'failed'),
  retried: (attempt: number) => `retried:${attempt}`,
  /** One per reconciliation run that changed the request's quota (`at`: the run's time). */
  quotaReconciled: (at: string) => `quota-reconciled:${at}`,
} as const;

export function newStep(
  id: string,
  step: StepName,
  outcome: StepOutcome,
  extra: { actor?: string; detail?: Record<string, unknown>; at?: Date } = {},
): Step {
  return {
    id,
    step,
    outcome,
    at: (extra.at ?? new Date()).toISOString(),
    ...(extra.actor ? { actor: extra.actor } : {}),
    ...(extra.detail ? { detail: extra.detail } : {}),
  };
}

/**
 * Steps written together, with times strictly increasing in the order they are listed (the audit
 * trail reads oldest first): a step stamped no later than the one before it is moved to a
 * millisecond after it. Steps already in order are returned unchanged.
 */
export function inListedOrder(steps: readonly Step[]): Step[] {
  let previous = -Infinity;
  return steps.map((step) => {
    const at = Math.max(Date.parse(step.at), previous + 1);
    previous = at;
    return at === Date.parse(step.at) ? step : { ...step, at: new Date(at).toISOString() };
  });
}

/** `approval_requested` of a stage: who is asked, how many must approve, until when. */
export function approvalRequestedStep(
  stage: { readonly name: string; readonly requiredApprovals: number },
  approvers: readonly string[],
  expiresAt: string,
  at: Date,
): Step {
  return newStep(stepId.approvalRequested(stage.name), 'approval_requested', 'ok', {
    at,
    detail: { stage: stage.name, approvers: [...approvers], requiredApprovals: stage.requiredApprovals, expiresAt },
  });
}
