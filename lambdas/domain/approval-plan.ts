/**
 * Who approves a request: the team's stages that apply to it, in order, with the requester
 * removed from every stage (nobody approves their own request). Fixed when the request is
 * submitted, so a later policy edit does not change who decides a request already in flight.
 */
import { durationSeconds, type Person, type Team } from '../config/policy';
import type { BillingMode } from './billing';
import { DEFAULT_STAGE_CHANGES, type ChangeKind } from './request-kind';

export interface PlannedStage {
  readonly name: string;
  readonly approvers: readonly Person[];
  readonly requiredApprovals: number;
  readonly remindAfterSeconds: number;
  readonly expireAfterSeconds: number;
  /** True when the team's escalation contacts were added because too few approvers were eligible. */
  readonly escalated: boolean;
  /** This stage's approvers enter the ModelArts order id (yearly/monthly requests without one). */
  readonly collectsOrderId: boolean;
}

export type ApprovalPlan =
  | { readonly ok: true; readonly stages: readonly PlannedStage[] }
  | { readonly ok: false; readonly reason: 'NO_ELIGIBLE_APPROVER'; readonly stage: string };

/**
 * `change`: what the request does. A stage applies to the changes its `when.changes` names (absent:
 * create and scale-up, as every stage did before kinds). A creation needs at least one stage; a change
 * no stage applies to (a delete by default) needs no approval: its plan is empty.
 */
export function planApprovals(
  team: Team,
  requester: string,
  billingMode: BillingMode,
  change: ChangeKind = 'create',
): ApprovalPlan {
  const self = requester.toLowerCase();
  const stages: PlannedStage[] = [];
  for (const stage of team.stages) {
    if (stage.when?.billingModes && !stage.when.billingModes.includes(billingMode)) continue;
    if (!(stage.when?.changes ?? DEFAULT_STAGE_CHANGES).includes(change)) continue;
    let approvers = stage.approvers.filter((p) => p.email !== self);
    let escalated = false;
    if (approvers.length < stage.requiredApprovals) {
      const extra = team.escalation.filter((p) => p.email !== self && !approvers.some((a) => a.email === p.email));
      approvers = [...approvers, ...extra];
      escalated = extra.length > 0;
    }
    if (approvers.length < stage.requiredApprovals) {
      return { ok: false, reason: 'NO_ELIGIBLE_APPROVER', stage: stage.name };
    }
    stages.push({
      name: stage.name,
      approvers,
      requiredApprovals: stage.requiredApprovals,
      remindAfterSeconds: durationSeconds(stage.remindAfter),
      expireAfterSeconds: durationSeconds(stage.expireAfter),
      escalated,
      collectsOrderId: stage.collectsOrderId,
    });
  }
  // An approval gate never waves a request through: no applicable stage means nobody may approve it.
  if (stages.length === 0 && (change === 'create' || change === 'scale-up'))
    return { ok: false, reason: 'NO_ELIGIBLE_APPROVER', stage: '(none)' };
  return { ok: true, stages };
}
