import type { Context } from 'aws-lambda';
import type { RequestTaskPayload } from '../../contracts/workflow';
import { startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { createNodePool } from '../use-cases/create-node-pool';
import { approvals, claims, linkKey, modelArts, policy, publicBaseUrl, quotas, requests } from '../wiring';

/** Workflow step CreateNodePool: show first, create if absent, record it. */
export const handler = async (event: RequestTaskPayload, context?: Context) => {
  startInvocationLog(context, event);
  return createNodePool(event.requestId, {
    requests: requests(),
    approvals: approvals(),
    claims: claims(),
    quotas: quotas(),
    modelArts: modelArts(),
    publicBaseUrl: publicBaseUrl(),
    linkKey: await linkKey(),
    tracking: policy().nodeTracking,
    recordMetric,
  });
};
