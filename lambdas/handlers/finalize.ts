import type { Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { finalizeRequest, type FinalizeInput } from '../use-cases/finalize-request';
import { approvals, notifier, policy, quotas, requests } from '../wiring';

/** Workflow step Finalize: settle the quota and the final status on every path, tell the requester. */
export const handler = async (event: FinalizeInput, context?: Context) => {
  startInvocationLog(context, event);
  return finalizeRequest(event, {
    requests: requests(),
    approvals: approvals(),
    quotas: quotas(),
    notifier: await notifier(),
    nodeTracking: policy().nodeTracking.enabled,
    recordMetric,
  });
};
