import { requestApproval, type RequestApprovalInput } from '../use-cases/request-approval';
import { approvals, notifier, requests, workflow } from '../wiring';

/** Workflow step RequestApproval (waitForTaskToken): store the token, ask the stage's approvers once. */
export const handler = async (event: RequestApprovalInput): Promise<{ approvalId: string; notified: number }> =>
  requestApproval(event, { requests: requests(), approvals: approvals(), notifier: await notifier(), workflow: workflow() });
