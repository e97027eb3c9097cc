import type { Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { finalizeRequest, type FinalizeInput } from '../use-cases/finalize-request';
import { approvals, claims, notifier, policy, quotas, requests } from '../wiring';

/** Workflow step Finalize: settle the quota and the final status on every path, tell the requester. */
export const handler = async (event: FinalizeInput, context?: Context) => {
  startInvocationLog(context, event);
  const notify = await notifier();
  return finalizeRequest(event, {
    requests: requests(),
    approvals: approvals(),
    quotas: quotas(),
    notifier: notify,
    changes: { claims: claims(), notifier: notify, leases: claims() },
    nodeTracking: policy().nodeTracking.enabled,
    recordMetric,
  });
};
