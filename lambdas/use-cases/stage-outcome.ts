/** What a settled stage tells the workflow: go on to the next stage, create, or stop. */
import type { ApprovalOutcome } from '../../contracts/workflow';
import type { ApprovalRecord } from '../domain/approval';
import type { PoolRequestRecord } from '../domain/pool-request';
import type { StageOutcome } from '../domain/votes';
import { firstWaitSeconds } from './approval-timing';

export function workflowOutcome(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  outcome: Exclude<StageOutcome, 'pending'>,
): ApprovalOutcome {
  if (outcome === 'rejected') return { status: 'rejected', stageIndex: approval.stageIndex, waitSeconds: 0 };
  const next = request.stages[approval.stageIndex + 1];
  if (approval.finalStage || !next) return { status: 'approved', stageIndex: approval.stageIndex, waitSeconds: 0 };
  return { status: 'pending', stageIndex: approval.stageIndex + 1, waitSeconds: firstWaitSeconds(next) };
}

/** Whether this stage's approvers must enter an order id: yearly/monthly without one, and the stage collects it. */
export function stageNeedsOrderId(request: PoolRequestRecord, stageIndex: number): boolean {
  return (
    Boolean(request.stages[stageIndex]?.collectsOrderId) && request.billing.mode === '1' && !request.billing.orderId
  );
}
