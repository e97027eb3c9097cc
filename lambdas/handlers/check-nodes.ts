import { checkNodes, type NodesState } from '../use-cases/check-nodes';
import { modelArts, policy, requests } from '../wiring';

/** Workflow step CheckNodes: are the node pool's nodes available yet? */
export const handler = async (event: { requestId: string }): Promise<NodesState> =>
  checkNodes(event.requestId, { requests: requests(), modelArts: modelArts(), tracking: policy().nodeTracking });
