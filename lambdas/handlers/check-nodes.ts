import type { Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import type { NodesState, RequestTaskPayload } from '../../contracts/workflow';
import { checkNodes } from '../use-cases/check-nodes';
import { claims, clock, modelArts, policy, quotas, requests } from '../wiring';

/** Workflow step CheckNodes: are the node pool's nodes available yet? */
export const handler = async (event: RequestTaskPayload, context?: Context): Promise<NodesState> => {
  startInvocationLog(context, event);
  return checkNodes(event.requestId, {
    requests: requests(),
    scale: { quotas: quotas(), claims: claims() },
    now: clock,
    modelArts: modelArts(),
    tracking: policy().nodeTracking,
  });
};
