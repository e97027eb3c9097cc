import { finalizeRequest, type FinalizeInput } from '../use-cases/finalize-request';
import { approvals, notifier, quotas, requests } from '../wiring';

/** Workflow step Finalize: settle the quota and the final status on every path, tell the requester. */
export const handler = async (event: FinalizeInput) =>
  finalizeRequest(event, { requests: requests(), approvals: approvals(), quotas: quotas(), notifier: await notifier() });
