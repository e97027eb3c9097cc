import { requestApproval, type RequestApprovalInput } from '../use-cases/request-approval';
import { approvals, linkKey, mailer, publicBaseUrl, requests } from '../wiring';

/** Workflow step RequestApproval (waitForTaskToken): store the token, ask the stage's approvers. */
export const handler = async (event: RequestApprovalInput): Promise<{ approvalId: string; notified: number }> =>
  requestApproval(event, { requests: requests(), approvals: approvals(), mailer: mailer(), linkKey: await linkKey(), publicBaseUrl: publicBaseUrl() });
