import type { Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { requestApproval, type RequestApprovalInput } from '../use-cases/request-approval';
import { approvals, clock, notifier, requests, workflow } from '../wiring';

/** Workflow step RequestApproval (waitForTaskToken): store the token, ask the stage's approvers once. */
export const handler = async (
  event: RequestApprovalInput,
  context?: Context,
): Promise<{ approvalId: string; notified: number }> => {
  // Only the request id: the event also carries the task token, which is never logged.
  startInvocationLog(context, { requestId: event.requestId });
  return requestApproval(event, {
    requests: requests(),
    now: clock,
    approvals: approvals(),
    notifier: await notifier(),
    workflow: workflow(),
  });
};
