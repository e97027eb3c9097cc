/**
 * ApplyChange (after the last approval, or at once when no stage applies): a request that changes an
 * existing node pool. For a delete:
 *  1. show first: gone already -> nothing to ask (its tracking sees it gone); its nodes deleting already
 *     (a retried or timed-out call was accepted) -> not asked again;
 *  2. still the node pool poolgate created (its label names the creating request, its flavor is the
 *     record's)? Otherwise it was re-created outside poolgate: never deleted, the request ends REJECTED;
 *  3. DeleteNodePool, and record `node_pool_delete_requested` (idempotent: a deterministic step id).
 * The workflow then follows the node pool until ModelArts no longer shows it (CheckNodes), always:
 * DELETED means gone, whatever the node-tracking setting.
 */
import type { WorkflowErrorName } from '../../contracts/workflow';
import type { Policy } from '../config/policy';
import { NotFoundError } from '../domain/errors';
import { countOf, OWNER_LABEL, type NodePool } from '../domain/modelarts';
import type { PoolRequestRecord } from '../domain/pool-request';
import { kindOf } from '../domain/request-kind';
import { newStep } from '../domain/steps';
import { trackingWaitSeconds } from '../domain/tracking-schedule';
import type { Created } from './create-node-pool';
import type { ChangeApi, Clock, RequestStore } from './ports';

export type { ChangeApi };

/** The node pool of that name is not the one poolgate created (label or flavor differ): nothing is changed. */
export class NodePoolNotOursError extends Error {
  override readonly name = 'NodePoolNotOursError' satisfies WorkflowErrorName;
}

export interface ApplyDeps {
  readonly requests: RequestStore;
  readonly modelArts: ChangeApi;
  readonly tracking: Policy['nodeTracking'];
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

export const DELETE_REQUESTED_STEP_ID = 'node-pool-delete-requested';

/** Why `nodePool` is not the request's node pool (undefined: it is). */
export function notOurs(request: PoolRequestRecord, nodePool: NodePool): string | undefined {
  const resources = nodePool.spec?.resources;
  const label = resources?.labels?.[OWNER_LABEL];
  if (label !== request.createRequestId)
    return `node pool ${request.nodePoolName} carries ${label ? `the label of request ${label}` : 'no poolgate label'}, not that of request ${request.createRequestId}: it was not created by poolgate's request, and is left as it is`;
  if (resources?.flavor !== request.flavor)
    return `node pool ${request.nodePoolName} has flavor ${resources?.flavor ?? '(none)'}, not ${request.flavor}: it is left as it is`;
  return undefined;
}

export async function applyChange(requestId: string, deps: ApplyDeps): Promise<Created> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  const kind = kindOf(request);
  if (kind !== 'delete') throw new Error(`request ${requestId} is a ${kind} request: ApplyChange does not apply it`);
  const applied: Created = {
    nodePoolName: request.nodePoolName,
    alreadyExisted: true,
    track: true,
    // Just accepted (or found deleting / gone): the schedule's first wait.
    waitSeconds: trackingWaitSeconds(0, deps.tracking),
  };

  const { projectId, poolName, nodePoolName } = request;
  const shown = await deps.modelArts.showNodePool(projectId, poolName, nodePoolName);
  if (!shown) return applied;
  const why = notOurs(request, shown);
  if (why) throw new NodePoolNotOursError(why);
  const deleting = countOf(shown.status?.resources?.deleting) > 0;
  const answer = deleting ? shown : await deps.modelArts.deleteNodePool(projectId, poolName, nodePoolName);
  if (!answer) return applied;
  await deps.requests.recordStep(
    requestId,
    newStep(DELETE_REQUESTED_STEP_ID, 'node_pool_delete_requested', 'ok', {
      at: deps.now(),
      detail: { nodePool: nodePoolName, count: request.count, ...(deleting ? { alreadyDeleting: true } : {}) },
    }),
  );
  return applied;
}
