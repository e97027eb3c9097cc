/**
 * Dry run (POST .../nodepools?dryRun=true): what a submission would do, answered at once, with
 * nothing recorded, reserved, started or sent.
 *  1. the checks submit makes before it records anything (team, size, body rules, project and pool,
 *     justification) and the one-open-request rule answer exactly as submit would (403/413/400/409);
 *  2. the checks the workflow makes next are run too, all of them, and reported one by one:
 *     approvers (the approval plan), capacity (ModelArts, read-only) and quota (the team's limit
 *     against what is in use now; nothing is reserved);
 *  3. `wouldBe` is what the request would become: REJECTED with the reason of the first refusal in
 *     workflow order, else AWAITING_APPROVAL.
 */
import type { DryRunCheck, DryRunResult } from '../../contracts/api';
import type { Policy } from '../config/policy';
import { planApprovals } from '../domain/approval-plan';
import { billingOf, type BillingSummary } from '../domain/billing';
import { checkCapacity } from '../domain/capacity';
import { NodePoolExistsError, OpenRequestExistsError } from '../domain/errors';
import { quotaFor } from '../domain/quota';
import { isFinal } from '../domain/status';
import { flavorFacts, isSomeoneElses, poolFacts } from '../domain/modelarts';
import type { CapacityApi, Claims, QuotaStore, RequestStore } from './ports';
import { acceptSubmission, type SubmitInput } from './submit-request';

/** What a dry run answers (the API contract): each check, who would be asked, the quota as it stands. */
export type { DryRunCheck, DryRunResult };
export type CheckOutcome = DryRunCheck['outcome'];

export interface DryRunDeps {
  readonly policy: Policy;
  readonly requests: Pick<RequestStore, 'get'>;
  readonly claims: Pick<Claims, 'record'>;
  readonly quotas: Pick<QuotaStore, 'counters'>;
  readonly modelArts: CapacityApi;
}

export async function dryRunRequest(
  input: Omit<SubmitInput, 'idempotencyKey'>,
  deps: DryRunDeps,
): Promise<DryRunResult> {
  const { team, body, justification } = acceptSubmission(input, deps.policy);
  const resources = body.spec.resources;
  const nodePool = {
    projectId: input.projectId,
    poolName: input.poolName,
    nodePoolName: body.metadata.name,
    flavor: resources.flavor,
    count: resources.count,
    maxCount: resources.maxCount,
  };

  const claimed = await deps.claims.record(nodePool);
  const holder = claimed ? await deps.requests.get(claimed.requestId) : undefined;
  if (holder && !isFinal(holder.status, deps.policy.nodeTracking.enabled))
    throw new OpenRequestExistsError(holder.requestId);
  if (claimed?.state === 'present') throw new NodePoolExistsError(claimed.creatingRequestId ?? claimed.requestId);

  const billing = billingOf(body);
  const checks: DryRunCheck[] = [
    { check: 'validation', outcome: 'ok', message: 'the body follows the ModelArts API and poolgate’s rules' },
  ];

  const plan = planApprovals(team, input.requester, billing.mode);
  checks.push(
    plan.ok
      ? {
          check: 'approvers',
          outcome: 'ok',
          message: plan.stages
            .map((s) => `${s.name}: ${s.requiredApprovals} of ${s.approvers.map((a) => a.email).join(', ')}`)
            .join('; '),
        }
      : {
          check: 'approvers',
          outcome: 'refused',
          reason: plan.reason,
          message: `nobody is eligible to approve (stage ${plan.stage})`,
        },
  );

  checks.push(await capacityCheck(input, body, billing, deps));

  const decision = quotaFor(team, resources.flavor, resources.count);
  let quota: DryRunResult['quota'];
  if (!decision.ok) {
    checks.push({
      check: 'quota',
      outcome: 'refused',
      reason: decision.reason,
      message:
        decision.reason === 'FLAVOR_NOT_ALLOWED'
          ? `team ${team.name} may not use flavor ${resources.flavor}`
          : `${resources.count} node(s) exceed the limit of ${decision.limit}`,
    });
  } else {
    const { inUse } = await deps.quotas.counters(team.name, resources.flavor);
    quota = { limit: decision.limit, inUse, available: Math.max(0, decision.limit - inUse) };
    checks.push(
      inUse <= decision.maxInUseBefore
        ? {
            check: 'quota',
            outcome: 'ok',
            message: `${resources.count} of ${quota.available} available node(s) (limit ${decision.limit}, ${inUse} in use)`,
          }
        : {
            check: 'quota',
            outcome: 'refused',
            reason: 'QUOTA_EXCEEDED',
            message: `${resources.count} node(s) asked, ${quota.available} available (limit ${decision.limit}, ${inUse} in use)`,
          },
    );
  }

  const refusal = checks.find((c) => c.outcome === 'refused');
  return {
    dryRun: true,
    wouldBe: refusal ? 'REJECTED' : 'AWAITING_APPROVAL',
    ...(refusal?.reason ? { reason: refusal.reason } : {}),
    checks,
    nodePool,
    billing,
    ...(justification ? { justification } : {}),
    approval: {
      stages: plan.ok
        ? plan.stages.map((s) => ({
            name: s.name,
            approvers: s.approvers.map((a) => a.email),
            requiredApprovals: s.requiredApprovals,
          }))
        : [],
    },
    ...(quota ? { quota } : {}),
  };
}

/** ModelArts, read-only; when it cannot be asked now, the check says so instead of failing the dry run. */
async function capacityCheck(
  input: Omit<SubmitInput, 'idempotencyKey'>,
  body: Parameters<typeof checkCapacity>[0],
  billing: BillingSummary,
  deps: DryRunDeps,
): Promise<DryRunCheck> {
  try {
    const [pool, flavors, existing] = await Promise.all([
      deps.modelArts.showPool(input.projectId, input.poolName),
      deps.modelArts.listResourceFlavors(input.projectId),
      deps.modelArts.showNodePool(input.projectId, input.poolName, body.metadata.name),
    ]);
    const capacity = checkCapacity(
      body,
      billing,
      pool && poolFacts(pool),
      flavors.flatMap(flavorFacts),
      isSomeoneElses(existing, undefined),
    );
    return capacity.ok
      ? {
          check: 'capacity',
          outcome: 'ok',
          message: `ModelArts has ${body.spec.resources.flavor} for pool ${input.poolName}`,
        }
      : { check: 'capacity', outcome: 'refused', reason: capacity.reason, message: capacity.message };
  } catch (error) {
    return {
      check: 'capacity',
      outcome: 'unknown',
      message: `ModelArts could not be asked now (${(error as Error).message}); the workflow checks again after submission`,
    };
  }
}
