import type { Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { applyChange } from '../use-cases/apply-change';
import type { Created } from '../use-cases/create-node-pool';
import { approvals, claims, clock, modelArts, policy, quotas, requests } from '../wiring';

/** Workflow step ApplyChange: a change to an existing node pool (scale, delete), shown first, then asked of ModelArts. */
export const handler = async (event: { requestId: string }, context?: Context): Promise<Created> => {
  startInvocationLog(context, event);
  return applyChange(event.requestId, {
    requests: requests(),
    modelArts: modelArts(),
    approvals: approvals(),
    quotas: quotas(),
    tracking: policy().nodeTracking,
    now: clock,
    leases: { claims: claims(), records: claims() },
  });
};
