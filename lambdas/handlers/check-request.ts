import type { Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import type { ApprovalOutcome, RequestTaskPayload } from '../../contracts/workflow';
import { checkRequest } from '../use-cases/check-request';
import { modelArts, policy, quotas, requests } from '../wiring';

/** Workflow step CheckRequest: approvers exist, ModelArts has the capacity, the team's quota has room (reserved). */
export const handler = async (event: RequestTaskPayload, context?: Context): Promise<ApprovalOutcome> => {
  startInvocationLog(context, event);
  return checkRequest(event.requestId, {
    policy: policy(),
    requests: requests(),
    quotas: quotas(),
    modelArts: modelArts(),
    changes: { modelArts: modelArts() },
    recordMetric,
  });
};
