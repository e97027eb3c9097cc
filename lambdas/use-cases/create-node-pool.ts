/**
 * CreateNodePool (after the last approval):
 *  1. build the ModelArts body: the request's own, plus billing annotations and poolgate's ownership label;
 *  2. show first: a node pool of that name carrying our label, with the flavor and count asked for, is ours
 *     already (a retried or timed-out create; zones and maxCount ModelArts filled in do not matter);
 *     one without it is someone else's and is never claimed;
 *  3. create it; the node-pool record says present (its facts, the team's inventory);
 *  4. record `node_pool_created` with the annotations sent, moving the request to CREATED.
 * Retryable ModelArts errors are thrown for the workflow's Retry; final ones for its Catch.
 */
import type { WorkflowErrorName } from '../../contracts/workflow';
import type { Policy } from '../config/policy';
import { approvalIdFor } from '../domain/approval';
import { billingAnnotations } from '../domain/billing';
import { NotFoundError } from '../domain/errors';
import type { NodePoolFacts } from '../domain/nodepool-record';
import type { NodePoolRequest } from '../domain/nodepool-request';
import { createBody, type PoolRequestRecord } from '../domain/pool-request';
import { requestPageLink } from '../domain/request-link';
import { newStep, stepId } from '../domain/steps';
import { trackingWaitSince } from '../domain/tracking-schedule';
import type { RecordMetric } from './metrics';
import type { ApprovalStore, Claims, NodePoolApi, QuotaStore, RequestStore } from './ports';
import { OWNER_LABEL } from '../domain/modelarts';
import { leaseEnd, leaseView } from '../domain/lease';

export class NodePoolConflictError extends Error {
  override readonly name = 'NodePoolConflictError' satisfies WorkflowErrorName;
}

export interface CreateDeps {
  readonly requests: RequestStore;
  readonly approvals: Pick<ApprovalStore, 'get'>;
  readonly claims: Pick<Claims, 'markPresent'>;
  readonly quotas: Pick<QuotaStore, 'commitOrCount'>;
  readonly modelArts: NodePoolApi;
  readonly publicBaseUrl: string;
  /** Signs the request page link ModelArts keeps as `os.modelarts/service.console.url`. */
  readonly linkKey: string;
  readonly tracking: Policy['nodeTracking'];
  readonly recordMetric?: RecordMetric;
}

/** What the workflow does next: follow the nodes (`track`), polling every `waitSeconds`. */
export interface Created {
  readonly nodePoolName: string;
  readonly alreadyExisted: boolean;
  readonly track: boolean;
  readonly waitSeconds: number;
}

/**
 * Whether a node pool found under our label is the one we asked for: the same flavor and count.
 * Zones and `maxCount` are not compared: ModelArts fills in zones a create left open and may
 * normalise `maxCount`, so after a lost answer they can differ from what was sent.
 */
function isWhatWeAsked(
  found: NodePoolRequest['spec']['resources'],
  asked: NodePoolRequest['spec']['resources'],
): boolean {
  return found.flavor === asked.flavor && found.count === asked.count;
}

/** The order id an approver entered for a yearly/monthly request that came without one. */
export async function enteredOrderId(
  request: PoolRequestRecord,
  approvals: Pick<ApprovalStore, 'get'>,
): Promise<string | undefined> {
  for (let stageIndex = 0; stageIndex < request.stages.length; stageIndex++) {
    if (!request.stages[stageIndex].collectsOrderId) continue;
    const approval = await approvals.get(approvalIdFor(request.requestId, stageIndex));
    const orderId = Object.values(approval?.votes ?? {}).find((v) => v.vote === 'approve' && v.orderId)?.orderId;
    if (orderId) return orderId;
  }
  return undefined;
}

/** `consoleUrl`: where the ModelArts console links the node pool to (the request's signed page). */
export function modelArtsBody(request: PoolRequestRecord, consoleUrl: string, orderId?: string): NodePoolRequest {
  const body = structuredClone(createBody(request));
  const annotations = billingAnnotations(body, { consoleUrl, orderId });
  const resources = body.spec.resources;
  return {
    ...body,
    metadata: { ...body.metadata, annotations },
    spec: {
      ...body.spec,
      resources: { ...resources, labels: { ...resources.labels, [OWNER_LABEL]: request.requestId } },
    },
  };
}

export async function createNodePool(requestId: string, deps: CreateDeps): Promise<Created> {
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  const orderId =
    request.billing.mode === '1' && !request.billing.orderId
      ? await enteredOrderId(request, deps.approvals)
      : undefined;
  const body = modelArtsBody(request, requestPageLink(deps.publicBaseUrl, requestId, deps.linkKey), orderId);

  const existing = await deps.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName);
  if (existing && existing.spec?.resources?.labels?.[OWNER_LABEL] !== requestId) {
    throw new NodePoolConflictError(
      `node pool ${request.nodePoolName} already exists in pool ${request.poolName} and was not created by this request`,
    );
  }
  if (existing && !isWhatWeAsked(existing.spec.resources, body.spec.resources)) {
    throw new NodePoolConflictError(
      `node pool ${request.nodePoolName} carries this request's label but another flavor or count (${existing.spec.resources.count} ${existing.spec.resources.flavor})`,
    );
  }
  if (!existing) await deps.modelArts.createNodePool(request.projectId, request.poolName, body);
  // The node pool exists: its record says so before the request does (CREATED may be its final status,
  // and whoever sees it final may act on the node pool at once).
  // The lease (if any) runs from this time: the record's end and the step's are the same; a retry keeps both.
  const createdAt = request.steps.find((s) => s.step === 'node_pool_created')?.at ?? new Date().toISOString();
  await deps.claims.markPresent(nodePoolFacts(request), createdAt);
  // ... and so does the quota: the run's reservation becomes use before the request says CREATED (with
  // node tracking off its final status, and ACTIVE follows without another quota write), so whoever sees
  // the request final sees its nodes counted. Finalize's own commit then finds nothing left to do.
  await deps.quotas.commitOrCount({
    team: request.team,
    flavor: request.flavor,
    requestId,
    count: request.count,
    attempt: request.retries ?? 0,
  });

  const recorded = await deps.requests.recordStep(
    requestId,
    newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok', {
      at: new Date(createdAt),
      detail: {
        nodePool: request.nodePoolName,
        annotations: body.metadata.annotations,
        ...(existing ? { alreadyExisted: true } : {}),
        ...(request.lease
          ? {
              lease: {
                duration: request.lease.duration,
                endsAt: leaseView(request.lease, { leaseEndsAt: leaseEnd(createdAt, request.lease) }).endsAt,
              },
            }
          : {}),
      },
    }),
    { status: 'CREATED' },
  );
  if (recorded.recorded) deps.recordMetric?.('created', 1, 'Count');
  // The first check waits for the schedule's first point, counted from ModelArts' acceptance (an earlier
  // run's, when this one found the node pool made already).
  const acceptedAt = recorded.request.steps.find((s) => s.step === 'node_pool_created')?.at;
  return {
    nodePoolName: request.nodePoolName,
    alreadyExisted: existing !== undefined,
    track: deps.tracking.enabled,
    waitSeconds: trackingWaitSince(acceptedAt, new Date(), deps.tracking),
  };
}

/** What the node-pool record keeps of the create that made it. */
export function nodePoolFacts(request: PoolRequestRecord): NodePoolFacts {
  return {
    projectId: request.projectId,
    poolName: request.poolName,
    nodePoolName: request.nodePoolName,
    team: request.team,
    creatingRequestId: request.requestId,
    creator: request.requester,
    flavor: request.flavor,
    count: request.count,
    billingMode: request.billing.mode,
    ...(request.lease ? { leaseTerms: request.lease, leaseHolder: request.requester } : {}),
  };
}
