/**
 * Finalize (last workflow step, on every path):
 *  - created: the reservation becomes use;
 *  - a caught error: record why the request ended (EXPIRED after the approval wait, FAILED otherwise);
 *  - in every other case the reservation (if any) is given back.
 * Each write is idempotent, so a retried Finalize changes nothing.
 */
import type { ApprovalRepository } from '../adapters/dynamodb/approval-repository';
import type { QuotaRepository } from '../adapters/dynamodb/quota-repository';
import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { ApprovalOutcome } from '../adapters/workflow';
import { approvalIdFor } from '../domain/approval';
import { NotFoundError } from '../domain/errors';
import { isTerminal, type RequestStatus, type TerminalReason } from '../domain/status';
import { newStep, stepId } from '../domain/steps';

export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

export interface FinalizeInput {
  readonly requestId: string;
  readonly approval: ApprovalOutcome | null;
  readonly error: CaughtError | null;
  readonly created: unknown;
}

export interface FinalizeDeps {
  readonly requests: RequestRepository;
  readonly approvals: ApprovalRepository;
  readonly quotas: QuotaRepository;
}

const FAILURE_REASONS: Record<string, TerminalReason> = {
  ModelArtsError: 'MODELARTS_ERROR',
  ModelArtsRetryableError: 'MODELARTS_ERROR',
  NodePoolConflictError: 'NODE_POOL_CONFLICT',
};

export async function finalizeRequest(input: FinalizeInput, deps: FinalizeDeps): Promise<{ status: RequestStatus }> {
  const request = await deps.requests.get(input.requestId);
  if (!request) throw new NotFoundError(`request ${input.requestId} not found`);
  const share = { team: request.team, flavor: request.flavor, requestId: request.requestId, count: request.count };

  if (input.created && !input.error) {
    await deps.quotas.commit(share);
    return { status: request.status };
  }

  let status = request.status;
  if (input.error && !isTerminal(status)) {
    if (input.error.Error === 'States.Timeout' && status === 'AWAITING_APPROVAL') {
      const stageIndex = input.approval?.stageIndex ?? 0;
      const stage = request.stages[stageIndex];
      await deps.approvals.close(approvalIdFor(request.requestId, stageIndex), 'EXPIRED');
      const result = await deps.requests.recordStep(request.requestId, newStep(stepId.expired(stage?.name ?? String(stageIndex)), 'expired', 'refused'), {
        status: 'EXPIRED',
        reason: 'APPROVAL_EXPIRED',
      });
      status = result.request.status;
    } else {
      const result = await deps.requests.recordStep(
        request.requestId,
        newStep(stepId.failed(), 'failed', 'error', { detail: { error: input.error.Error, cause: causeMessage(input.error.Cause) } }),
        { status: 'FAILED', reason: FAILURE_REASONS[input.error.Error] ?? 'INTERNAL_ERROR' },
      );
      status = result.request.status;
    }
  }
  await deps.quotas.release(share);
  return { status };
}

/** Step Functions puts a Lambda error's message inside a JSON `Cause`; keep just the message, briefly. */
function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return (parsed.errorMessage ?? cause).slice(0, 500);
  } catch {
    return cause.slice(0, 500);
  }
}
