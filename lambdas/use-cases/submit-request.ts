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
  NodePoolExistsError,
  NotFoundError,
  NotRetryableError,
  OpenRequestExistsError,
  LeaseRefusedError,
  PayloadTooLargeError,
  ValidationError,
} from '../domain/errors';
import { decideLease, type LeaseTerms } from '../domain/lease';
import { MAX_BODY_BYTES, parseNodePoolRequest, type NodePoolRequest } from '../domain/nodepool-request';
import type { PoolRequestRecord } from '../domain/pool-request';
import { placementAllowed } from '../domain/quota';
import type { RequestKind } from '../domain/request-kind';
import { isFinal, type RequestStatus } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import type { RecordMetric } from './metrics';
import type { ClaimOptions, Claims, Clock, NodePoolName, RequestStore, WorkflowRuns } from './ports';
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
  /** The `X-Lease` header: a duration (`P14D`), or `none`; absent: the policy's default. */
  readonly lease?: string;
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
  /** A create's lease (absent: none). */
  readonly lease?: LeaseTerms;
}

export interface AcceptedSubmission {
  readonly team: Team;
  readonly body: NodePoolRequest;
  readonly justification?: string;
  /** The lease that applies (absent: none): the header's or the policy default, frozen now. */
  readonly lease?: LeaseTerms;
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
  const lease = decideLease(team, parsed.value.spec.resources.flavor, billingOf(parsed.value).mode, input.lease);
  if (!lease.ok) throw new LeaseRefusedError(lease.message);
  return {
    team,
    body: parsed.value,
    ...(justification ? { justification } : {}),
    ...(lease.terms ? { lease: lease.terms } : {}),
  };
}

export async function submitRequest(input: SubmitInput, deps: SubmitDeps): Promise<SubmitResult> {
  const now = deps.now();

  const { team, body, justification, lease } = acceptSubmission(input, deps.policy);

  const fingerprint = requestFingerprint({ ...input, method: 'POST', kind: 'create' });
  const requestId = await claimIdempotency(input, fingerprint, deps, now);
  const existing = requestId.fresh ? undefined : await deps.requests.get(requestId.id);
  if (existing) {
    if (existing.fingerprint !== fingerprint && existing.fingerprint !== legacyFingerprint(input)) {
      throw new IdempotencyKeyReusedError('this Idempotency-Key was already used for a different request');
    }
    if (existing.status === 'SUBMITTED') await startOrUnavailable(deps.workflow, existing.requestId);
    return {
      requestId: existing.requestId,
      status: existing.status,
      ...(existing.lease ? { lease: existing.lease } : {}),
    };
  }

  const nodePoolName = body.metadata.name;
  const billing = billingOf(body);
  const name = { projectId: input.projectId, poolName: input.poolName, nodePoolName };
  await claimNodePoolName(name, requestId.id, deps, now, {
    facts: {
      ...name,
      team: team.name,
      creatingRequestId: requestId.id,
      creator: input.requester,
      flavor: body.spec.resources.flavor,
      count: body.spec.resources.count,
      billingMode: billing.mode,
      ...(lease ? { leaseTerms: lease, leaseHolder: input.requester } : {}),
    },
  });

  const plan = planApprovals(team, input.requester, billing.mode, 'create');
  const record: PoolRequestRecord = {
    requestId: requestId.id,
    kind: 'create',
    trigger: 'user',
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
    ...(lease ? { lease } : {}),
    stages: plan.ok ? plan.stages : [],
    ...(plan.ok ? {} : { planError: plan.reason }),
    fingerprint,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    steps: [newStep(stepId.submitted(), 'submitted', 'ok', { actor: input.requester, at: now })],
  };
  await deps.requests.create(record);
  deps.recordMetric?.('submitted', 1, 'Count');
  await startOrUnavailable(deps.workflow, requestId.id);
  return { requestId: requestId.id, status: 'SUBMITTED', ...(lease ? { lease } : {}) };
}

/** What makes two submissions the same request: method, kind, requester, where, and the body (and, later, a lease header). */
export function requestFingerprint(input: {
  readonly method: string;
  readonly kind: RequestKind;
  readonly requester: string;
  readonly projectId: string;
  readonly poolName: string;
  readonly nodePoolName?: string;
  readonly rawBody: string;
  /** The `X-Lease` header, when sent (absent: the fingerprint of requests before leases). */
  readonly lease?: string;
}): string {
  return sha256(
    [
      ...(input.lease?.trim() ? ['lease', input.lease.trim()] : []),
      'v2',
      input.method,
      input.kind,
      input.requester,
      input.projectId,
      input.poolName,
      input.nodePoolName ?? '',
      input.rawBody,
    ].join('\n'),
  );
}

/** The fingerprint of creates stored before kinds (requester, project, pool, body): their key still resumes them. */
function legacyFingerprint(input: Pick<SubmitInput, 'requester' | 'projectId' | 'poolName' | 'rawBody'>): string {
  return sha256(`${input.requester}\n${input.projectId}\n${input.poolName}\n${input.rawBody}`);
}

/**
 * The request id a submission maps to: with an Idempotency-Key, whatever that key produced (24 h);
 * without one, a hash of the fingerprint maps only to a request that is still open, so asking again
 * for something that has finished (re-creating a deleted node pool with the same body) is a new request.
 */
export async function claimIdempotency(
  input: { readonly requester: string; readonly idempotencyKey?: string },
  fingerprint: string,
  deps: {
    readonly claims: Claims;
    readonly requests: RequestStore;
    readonly policy: Policy;
    readonly newId?: () => string;
  },
  now: Date,
): Promise<{ id: string; fresh: boolean }> {
  const freshId = (deps.newId ?? (() => crypto.randomUUID()))();
  const keyHash = sha256(
    input.idempotencyKey
      ? `${input.requester}\nkey\n${input.idempotencyKey}`
      : `${input.requester}\nbody\n${fingerprint}`,
  );
  const holderIsOpen = async (holderId: string) => {
    const holder = await deps.requests.get(holderId);
    // A holder never stored is a submission under way (or crashed): kept, as with a key.
    return !holder || !isFinal(holder.status, deps.policy.nodeTracking.enabled);
  };
  const id = await deps.claims.claimIdempotencyKey(
    keyHash,
    freshId,
    now,
    input.idempotencyKey ? undefined : holderIsOpen,
  );
  // A fresh id just claimed names no stored request yet: only an earlier id needs a read.
  return { id, fresh: id === freshId };
}

/**
 * Claims the node pool for `requestId` (also a retried request taking it back); throws
 * OpenRequestExistsError while another request holds it (until that one's final status), and for a
 * create NodePoolExistsError when poolgate created a node pool of that name that still exists, for a
 * change NotFoundError when there is none, for a retry NotRetryableError when a later request finished on it.
 */
export async function claimNodePoolName(
  name: NodePoolName,
  requestId: string,
  deps: {
    readonly claims: Pick<Claims, 'claimNodePoolName'>;
    readonly requests: Pick<RequestStore, 'get'>;
    readonly policy?: Policy;
  },
  now: Date,
  options: ClaimOptions = {},
): Promise<void> {
  const nodeTracking = deps.policy?.nodeTracking.enabled ?? true;
  const claim = await deps.claims.claimNodePoolName(
    name,
    requestId,
    async (holderId, claimedAt) => {
      const holder = await deps.requests.get(holderId);
      return holder ? !isFinal(holder.status, nodeTracking) : now.getTime() - claimedAt.getTime() < ORPHAN_CLAIM_MS;
    },
    now,
    options,
  );
  if (claim.ok) return;
  if (claim.why === 'present') throw new NodePoolExistsError(claim.holderId);
  if (claim.why === 'absent') throw new NotFoundError(`node pool ${name.nodePoolName} not found`);
  if (claim.why === 'superseded')
    throw new NotRetryableError(
      `superseded: request ${claim.holderId} on node pool ${name.nodePoolName} has finished since this one failed; submit a new request`,
    );
  throw new OpenRequestExistsError(claim.holderId);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
