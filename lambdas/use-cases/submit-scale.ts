/**
 * Scale: a member of the owning team (or an admin) sends ModelArts' own PatchNodePool to poolgate
 * (`PATCH /v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}`).
 *  1. the node-pool record must name a node pool poolgate created that exists, readable by the caller
 *     (404 otherwise), and the caller must be allowed to change it (403);
 *  2. ModelArts shows the node pool (404 if it does not): the patch is merged onto its spec and checked
 *     (lambdas/domain/nodepool-patch.ts: only count, maxCount, azs, labels and taints change; the merged
 *     node pool passes the create rules; poolgate's label stays) -> 400 naming the field;
 *  3. a yearly/monthly node pool cannot shrink (409 PoolGate.8409); a billing mode other than the node
 *     pool's is refused (400);
 *  4. the idempotency key (header, else a hash of method, kind, requester, node pool and body) maps to one request id;
 *  5. the record admits one open request at a time, whatever its kind (409 PoolGate.0409);
 *  6. store the `scale` request (its change: scale-up, scale-down or update, which picks its approvals
 *     through the policy's `changes`) with its first step, and start its run.
 * The run checks capacity and reserves quota for the added nodes only (CheckRequest), then patches.
 */
import type { ScaleDryRun } from '../../contracts/api';
import { planApprovals } from '../domain/approval-plan';
import { ANNOTATION, type BillingSummary } from '../domain/billing';
import { NotFoundError, PayloadTooLargeError, PrepaidScaleDownError } from '../domain/errors';
import { checkBillingMode, planPatch, type PatchPlan } from '../domain/nodepool-patch';
import type { NodePoolName } from '../domain/nodepool-record';
import { MAX_BODY_BYTES } from '../domain/nodepool-request';
import { newStep, stepId } from '../domain/steps';
import { teamNamed } from '../domain/teams';
import type { ChangeApi } from './ports';
import { changeDryRunView, changeableNodePool, claimChange, storeAndStart, type PresentRecord } from './submit-change';
import { requestFingerprint, type SubmitDeps, type SubmitResult } from './submit-request';

export interface ScaleInput extends NodePoolName {
  readonly requester: string;
  readonly rawBody: string;
  readonly idempotencyKey?: string;
}

/** A scale is submitted with what a create is, and reads the node pool in ModelArts. */
export interface ScaleDeps extends SubmitDeps {
  readonly modelArts: Pick<ChangeApi, 'showNodePool'>;
}

export type { ScaleDryRun };

interface Checked {
  readonly record: PresentRecord;
  readonly plan: PatchPlan;
}

/** Steps 1-3: the node pool the caller may change, and what the patch does to it (or the error to answer). */
async function checkedPatch(
  input: ScaleInput,
  deps: Pick<ScaleDeps, 'policy' | 'claims' | 'modelArts'>,
): Promise<Checked> {
  if (Buffer.byteLength(input.rawBody, 'utf8') > MAX_BODY_BYTES)
    throw new PayloadTooLargeError(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  const record = await changeableNodePool(input, deps, 'change');
  const shown = await deps.modelArts.showNodePool(input.projectId, input.poolName, input.nodePoolName);
  if (!shown?.spec?.resources)
    throw new NotFoundError(`node pool ${input.nodePoolName} is not shown by ModelArts in pool ${input.poolName}`);
  const plan = planPatch(
    input.rawBody,
    { name: input.nodePoolName, resources: { ...shown.spec.resources } },
    record.creatingRequestId,
  );
  const mode = record.billingMode ?? '0';
  checkBillingMode(plan.annotations, mode);
  if (mode === '1' && plan.change.kind === 'scale-down')
    throw new PrepaidScaleDownError(
      `node pool ${input.nodePoolName} is yearly/monthly: it cannot shrink through poolgate (ModelArts refuses to lower a prepaid count); unsubscribe nodes in Huawei Cloud's billing center`,
    );
  return { record, plan };
}

function billingOfScale(plan: PatchPlan, record: PresentRecord): BillingSummary {
  const a = plan.annotations;
  return {
    mode: record.billingMode ?? '0',
    ...(a[ANNOTATION.periodNum] ? { periodNum: a[ANNOTATION.periodNum] } : {}),
    ...(a[ANNOTATION.periodType] ? { periodType: a[ANNOTATION.periodType] } : {}),
    ...(a[ANNOTATION.autoRenew] ? { autoRenew: a[ANNOTATION.autoRenew] } : {}),
    ...(a[ANNOTATION.orderId] ? { orderId: a[ANNOTATION.orderId] } : {}),
  };
}

export async function submitScale(input: ScaleInput, deps: ScaleDeps): Promise<SubmitResult> {
  const now = deps.now();
  const { record, plan } = await checkedPatch(input, deps);

  const fingerprint = requestFingerprint({ ...input, method: 'PATCH', kind: 'scale' });
  const claimed = await claimChange(input, fingerprint, 'scale', deps, now);
  if ('replay' in claimed) return claimed.replay;

  const team = teamNamed(deps.policy, record.team);
  const billing = billingOfScale(plan, record);
  const approvals = team ? planApprovals(team, input.requester, billing.mode, plan.change.kind) : undefined;
  return storeAndStart(
    {
      requestId: claimed.id,
      kind: 'scale',
      trigger: 'user',
      status: 'SUBMITTED',
      requester: input.requester,
      team: record.team,
      projectId: input.projectId,
      poolName: input.poolName,
      nodePoolName: input.nodePoolName,
      flavor: record.flavor,
      count: plan.change.to,
      maxCount: plan.merged.spec.resources.maxCount,
      change: plan.change,
      patch: plan.patch,
      billing,
      createRequestId: record.creatingRequestId,
      ...(record.creator ? { creator: record.creator } : {}),
      stages: approvals?.ok ? approvals.stages : [],
      ...(approvals?.ok ? {} : { planError: 'NO_ELIGIBLE_APPROVER' as const }),
      fingerprint,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      steps: [
        newStep(stepId.submitted(), 'submitted', 'ok', {
          actor: input.requester,
          at: now,
          detail: { change: plan.change.kind, from: plan.change.from, to: plan.change.to },
        }),
      ],
    },
    deps,
  );
}

/** `?dryRun=true`: what the patch changes, what would be sent, who would be asked; nothing recorded. */
export async function dryRunScale(
  input: ScaleInput,
  deps: Pick<ScaleDeps, 'policy' | 'claims' | 'requests' | 'modelArts'>,
): Promise<ScaleDryRun> {
  const { record, plan } = await checkedPatch(input, deps);
  const view = await changeDryRunView(input, record, plan.change.kind, deps);
  return {
    dryRun: true,
    kind: 'scale',
    change: plan.change,
    wouldBe: view.wouldBe,
    nodePool: view.nodePool,
    sent: { ...plan.patch },
    approval: view.approval,
  };
}
