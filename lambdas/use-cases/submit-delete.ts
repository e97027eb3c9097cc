/**
 * Delete: a member of the owning team (or an admin) asks poolgate to delete a node pool it created
 * (`DELETE /v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}`).
 *  1. the node-pool record must name a node pool poolgate created that exists, readable by the caller
 *     (404 otherwise), and the caller must be allowed to change it (403);
 *  2. a yearly/monthly node pool is refused (409 PoolGate.4409): ModelArts cannot delete it, its
 *     billing center removes prepaid resources;
 *  3. the idempotency key (header, else a hash of method, kind, requester and node pool) maps to one request id;
 *  4. the record admits one open request at a time, whatever its kind (409 PoolGate.0409);
 *  5. store the `delete` request with its first step (approvals per the policy's `changes`), start its run.
 * The run checks with ModelArts that the node pool is still the one poolgate created before anything is deleted.
 */
import type { DeleteDryRun } from '../../contracts/api';
import { planApprovals } from '../domain/approval-plan';
import { PrepaidNodePoolError } from '../domain/errors';
import type { NodePoolName } from '../domain/nodepool-record';
import { newStep, stepId } from '../domain/steps';
import { teamNamed, teamOf } from '../domain/teams';
import { changeDryRunView, changeableNodePool, claimChange, storeAndStart, type PresentRecord } from './submit-change';
import { requestFingerprint, type SubmitDeps, type SubmitResult } from './submit-request';

export interface DeleteInput extends NodePoolName {
  readonly requester: string;
  readonly idempotencyKey?: string;
}

/** A delete is submitted with what a create is. */
export type DeleteDeps = SubmitDeps;

/** What a dry run of a delete says would happen (the API contract). */
export type { DeleteDryRun };

/** The node pool the caller may delete, or the error to answer (404, 403, 409 for yearly/monthly). */
export async function deletableNodePool(
  input: DeleteInput,
  deps: Pick<DeleteDeps, 'policy' | 'claims'>,
): Promise<PresentRecord> {
  const record = await changeableNodePool(input, deps, 'delete');
  if (record.billingMode === '1')
    throw new PrepaidNodePoolError(
      `node pool ${input.nodePoolName} is yearly/monthly: ModelArts cannot delete it; unsubscribe it in Huawei Cloud's billing center`,
    );
  return record;
}

export async function submitDelete(input: DeleteInput, deps: DeleteDeps): Promise<SubmitResult> {
  const now = deps.now();
  const record = await deletableNodePool(input, deps);

  const fingerprint = requestFingerprint({ ...input, method: 'DELETE', kind: 'delete', rawBody: '' });
  const claimed = await claimChange(input, fingerprint, 'delete', deps, now);
  if ('replay' in claimed) return claimed.replay;

  const team = teamNamed(deps.policy, record.team) ?? teamOf(deps.policy, input.requester);
  const plan = team ? planApprovals(team, input.requester, record.billingMode ?? '0', 'delete') : undefined;
  return storeAndStart(
    {
      requestId: claimed.id,
      kind: 'delete',
      trigger: 'user',
      status: 'SUBMITTED',
      requester: input.requester,
      team: record.team,
      projectId: input.projectId,
      poolName: input.poolName,
      nodePoolName: input.nodePoolName,
      flavor: record.flavor,
      count: record.count,
      maxCount: record.count,
      billing: { mode: record.billingMode ?? '0' },
      createRequestId: record.creatingRequestId,
      ...(record.creator ? { creator: record.creator } : {}),
      stages: plan?.ok ? plan.stages : [],
      ...(plan?.ok ? {} : { planError: 'NO_ELIGIBLE_APPROVER' as const }),
      fingerprint,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      steps: [newStep(stepId.submitted(), 'submitted', 'ok', { actor: input.requester, at: now })],
    },
    deps,
  );
}

/** `?dryRun=true`: who may, what would be asked, nothing recorded. */
export async function dryRunDelete(
  input: DeleteInput,
  deps: Pick<DeleteDeps, 'policy' | 'claims' | 'requests'>,
): Promise<DeleteDryRun> {
  const record = await deletableNodePool(input, deps);
  const view = await changeDryRunView(input, record, 'delete', deps);
  return {
    dryRun: true,
    kind: 'delete',
    ...view,
  };
}
