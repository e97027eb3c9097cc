/**
 * Submit: a team member asks for a node pool.
 *  1. the requester must belong to a team that may use this project and pool;
 *  2. the body must follow the ModelArts API (and poolgate's departures);
 *  3. the idempotency key (header, else a hash of requester + path + body) maps to one request id;
 *  4. only one open request per project + pool + node-pool name;
 *  5. store the request with its first step, then start its execution (named after it).
 */
import { createHash } from 'node:crypto';
import type { Policy, Team } from '../config/policy';
import { teamOf } from '../domain/teams';
import { planApprovals } from '../domain/approval-plan';
import { billingOf } from '../domain/billing';
import {
  ForbiddenError,
  IdempotencyKeyReusedError,
  OpenRequestExistsError,
  PayloadTooLargeError,
  ValidationError,
} from '../domain/errors';
import { MAX_BODY_BYTES, parseNodePoolRequest, type NodePoolRequest } from '../domain/nodepool-request';
import type { PoolRequestRecord } from '../domain/pool-request';
import { placementAllowed } from '../domain/quota';
import { isFinished, type RequestStatus } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import type { RecordMetric } from './metrics';
import type { Claims, Clock, NodePoolName, RequestStore, WorkflowRuns } from './ports';
import { startOrUnavailable } from './runs';

export const MAX_JUSTIFICATION_CHARS = 2000;
/** A name claim whose request never got stored is taken over after this long (a crashed submission). */
const ORPHAN_CLAIM_MS = 60_000;

export interface SubmitInput {
  readonly requester: string;
  readonly projectId: string;
  readonly poolName: string;
  readonly rawBody: string;
  readonly idempotencyKey?: string;
  readonly justification?: string;
}

export interface SubmitDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  readonly claims: Claims;
  readonly workflow: Pick<WorkflowRuns, 'start'>;
  readonly recordMetric?: RecordMetric;
  /** The time (the wiring's clock). */
  readonly now: Clock;
  readonly newId?: () => string;
}

export interface SubmitResult {
  readonly requestId: string;
  readonly status: RequestStatus;
}

export interface AcceptedSubmission {
  readonly team: Team;
  readonly body: NodePoolRequest;
  readonly justification?: string;
}

/**
 * What submit checks before it records anything (shared with the dry run): the requester's team,
 * the body's size and rules, the project and pool, the justification. Throws the error to answer.
 */
export function acceptSubmission(input: Omit<SubmitInput, 'idempotencyKey'>, policy: Policy): AcceptedSubmission {
  const team = teamOf(policy, input.requester);
  if (!team) throw new ForbiddenError(`${input.requester} is not a member of any team`);
  if (Buffer.byteLength(input.rawBody, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  const parsed = parseNodePoolRequest(input.rawBody);
  if (!parsed.ok) throw new ValidationError(parsed.message);
  if (!placementAllowed(team, input.projectId, input.poolName)) {
    throw new ForbiddenError(`team ${team.name} may not use project ${input.projectId} and pool ${input.poolName}`);
  }
  const justification = input.justification?.trim();
  if (justification && justification.length > MAX_JUSTIFICATION_CHARS) {
    throw new ValidationError(`X-Justification: must be at most ${MAX_JUSTIFICATION_CHARS} characters`);
  }
  return { team, body: parsed.value, ...(justification ? { justification } : {}) };
}

export async function submitRequest(input: SubmitInput, deps: SubmitDeps): Promise<SubmitResult> {
  const now = deps.now();
  const newId = deps.newId ?? (() => crypto.randomUUID());

  const { team, body, justification } = acceptSubmission(input, deps.policy);

  const fingerprint = sha256(`${input.requester}\n${input.projectId}\n${input.poolName}\n${input.rawBody}`);
  const keyHash = sha256(
    input.idempotencyKey
      ? `${input.requester}\nkey\n${input.idempotencyKey}`
      : `${input.requester}\nbody\n${fingerprint}`,
  );
  const freshId = newId();
  const requestId = await deps.claims.claimIdempotencyKey(keyHash, freshId, now);

  // A fresh id just claimed names no stored request yet: only an earlier id needs a read.
  const existing = requestId === freshId ? undefined : await deps.requests.get(requestId);
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      throw new IdempotencyKeyReusedError('this Idempotency-Key was already used for a different request');
    }
    if (existing.status === 'SUBMITTED') await startOrUnavailable(deps.workflow, requestId);
    return { requestId, status: existing.status };
  }

  const nodePoolName = body.metadata.name;
  await claimNodePoolName({ projectId: input.projectId, poolName: input.poolName, nodePoolName }, requestId, deps, now);

  const billing = billingOf(body);
  const plan = planApprovals(team, input.requester, billing.mode);
  const record: PoolRequestRecord = {
    requestId,
    status: 'SUBMITTED',
    requester: input.requester,
    team: team.name,
    projectId: input.projectId,
    poolName: input.poolName,
    nodePoolName,
    flavor: body.spec.resources.flavor,
    count: body.spec.resources.count,
    maxCount: body.spec.resources.maxCount,
    body,
    billing,
    ...(justification ? { justification } : {}),
    stages: plan.ok ? plan.stages : [],
    ...(plan.ok ? {} : { planError: plan.reason }),
    fingerprint,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    steps: [newStep(stepId.submitted(), 'submitted', 'ok', { actor: input.requester, at: now })],
  };
  await deps.requests.create(record);
  deps.recordMetric?.('submitted', 1, 'Count');
  await startOrUnavailable(deps.workflow, requestId);
  return { requestId, status: 'SUBMITTED' };
}

/**
 * Claims the open node-pool name for `requestId` (also a retried request taking its name back);
 * throws OpenRequestExistsError while another open request holds it.
 */
export async function claimNodePoolName(
  name: NodePoolName,
  requestId: string,
  deps: { readonly claims: Claims; readonly requests: RequestStore },
  now: Date,
): Promise<void> {
  const claim = await deps.claims.claimNodePoolName(
    name,
    requestId,
    async (holderId, claimedAt) => {
      const holder = await deps.requests.get(holderId);
      return holder ? !isFinished(holder.status) : now.getTime() - claimedAt.getTime() < ORPHAN_CLAIM_MS;
    },
    now,
  );
  if (!claim.ok) throw new OpenRequestExistsError(claim.holderId);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
