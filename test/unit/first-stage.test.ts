/**
 * The first approval stage, on real DynamoDB (dynalite): CheckRequest records the checks and the
 * stage's `approval_requested` with AWAITING_APPROVAL in one write; RequestApproval then opens the
 * approval with that step's time and expiry, writes nothing more to the request, asks the approvers
 * once (a rerun after a reminder or a restart does not ask again, a run that crashed before the mark
 * does) and asks nobody about a request that was cancelled meanwhile.
 */
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { NodePool, Pool, ResourceFlavor } from '../../lambdas/adapters/modelarts/client';
import type { Policy } from '../../lambdas/config/policy';
import type { ApprovalRecord } from '../../lambdas/domain/approval';
import { InvalidTransitionError } from '../../lambdas/domain/errors';
import { newStep } from '../../lambdas/domain/steps';
import { checkRequest } from '../../lambdas/use-cases/check-request';
import { requestApproval } from '../../lambdas/use-cases/request-approval';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

/** The clock the use cases read (the wiring hands them the same). */
const now = (): Date => new Date();

const table = useTestTable();

const stages = [
  {
    name: 'manager',
    approvers: [{ email: 'bob@example.com' }, { email: 'dave@example.com' }],
    requiredApprovals: 1,
    remindAfterSeconds: 60,
    expireAfterSeconds: 600,
    escalated: false,
    collectsOrderId: false,
  },
  {
    name: 'finance',
    approvers: [{ email: 'carol@example.com' }],
    requiredApprovals: 1,
    remindAfterSeconds: 60,
    expireAfterSeconds: 900,
    escalated: false,
    collectsOrderId: false,
  },
];
const policy = { teams: [{ name: 'ml-platform', quotas: { f: 100 } }] } as unknown as Policy;
/** ModelArts as CheckRequest reads it: a logical pool (pay-per-use unless `poolBilling` says otherwise), no node pools unless `existing`. */
const modelArts = {
  poolBilling: undefined as string | undefined,
  existing: undefined as NodePool | undefined,
  showPool: async (): Promise<Pool> => ({
    metadata: modelArts.poolBilling ? { annotations: { 'os.modelarts/billing.mode': modelArts.poolBilling } } : {},
    spec: { type: 'Logical' },
    status: {},
  }),
  showNodePool: async (): Promise<NodePool | undefined> => modelArts.existing,
  listResourceFlavors: async (): Promise<ResourceFlavor[]> => [
    { metadata: { name: 'f' }, spec: { billingModes: [0] }, status: { phase: { 'az-1': 'normal' } } },
  ],
};
const workflow = { answer: async () => 'delivered' as const };

function recordingNotifier() {
  const asked: string[][] = [];
  return {
    asked,
    askApprovers: async (_r: unknown, _a: ApprovalRecord, approvers: readonly string[]) => (
      asked.push([...approvers]),
      []
    ),
  };
}

function deps() {
  return {
    policy,
    requests: new RequestRepository(table.db, table.tableName),
    approvals: new ApprovalRepository(table.db, table.tableName),
    quotas: new QuotaRepository(table.db, table.tableName),
    modelArts,
  };
}

it('records the checks and the first approval_requested with AWAITING_APPROVAL in one write, and opens the approval with them', async () => {
  const d = deps();
  const { requests, approvals } = d;
  await requests.create(requestRecord('fs-1', stages));
  const writes = jest.spyOn(requests, 'recordSteps');
  expect(await checkRequest('fs-1', d)).toEqual({ status: 'pending', stageIndex: 0, waitSeconds: 60 });
  expect(writes).toHaveBeenCalledTimes(1);
  const checked = (await requests.get('fs-1'))!;
  expect(checked.status).toBe('AWAITING_APPROVAL');
  expect(checked.steps.map((s) => s.step)).toEqual([
    'submitted',
    'capacity_checked',
    'quota_checked',
    'approval_requested',
  ]);
  const asked = checked.steps[3];
  expect(asked).toMatchObject({
    id: 'approval-requested:manager:1',
    outcome: 'ok',
    detail: { stage: 'manager', approvers: ['bob@example.com', 'dave@example.com'], requiredApprovals: 1 },
  });
  expect(Date.parse(asked.detail!.expiresAt as string) - Date.parse(asked.at)).toBe(600_000);

  const notifier = recordingNotifier();
  writes.mockClear();
  const later = new Date(Date.parse(asked.at) + 5_000);
  expect(
    await requestApproval(
      { requestId: 'fs-1', stageIndex: 0, taskToken: 't1' },
      { requests, approvals, notifier, workflow, now: () => later },
    ),
  ).toEqual({ approvalId: 'fs-1.0', notified: 2 });
  expect(writes).not.toHaveBeenCalled();
  expect(notifier.asked).toEqual([['bob@example.com', 'dave@example.com']]);
  const approval = (await approvals.get('fs-1.0'))!;
  expect({ createdAt: approval.createdAt, expiresAt: approval.expiresAt, notifiedAt: approval.notifiedAt }).toEqual({
    createdAt: asked.at,
    expiresAt: asked.detail!.expiresAt,
    notifiedAt: later.toISOString(),
  });
  expect((await requests.get('fs-1'))!.steps).toHaveLength(4);

  // A rerun (a reminder's new token, a restart) only stores the token: nobody is asked again.
  expect(
    await requestApproval(
      { requestId: 'fs-1', stageIndex: 0, taskToken: 't2' },
      { requests, approvals, notifier, workflow, now },
    ),
  ).toEqual({ approvalId: 'fs-1.0', notified: 0 });
  expect(notifier.asked).toHaveLength(1);
  expect((await approvals.get('fs-1.0'))!.taskToken).toBe('t2');
});

describe('before anyone is asked', () => {
  afterEach(() => {
    modelArts.poolBilling = undefined;
    modelArts.existing = undefined;
  });

  const refusedBeforeAsking = async (requestId: string, reason: string) => {
    const d = deps();
    const before = await d.quotas.counters('ml-platform', 'f');
    expect(await checkRequest(requestId, d)).toEqual({ status: 'refused', stageIndex: -1, waitSeconds: 0, reason });
    const checked = (await d.requests.get(requestId))!;
    expect({ status: checked.status, reason: checked.reason }).toEqual({ status: 'REJECTED', reason });
    expect(checked.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['submitted:ok', 'capacity_checked:refused']);
    expect(await d.quotas.counters('ml-platform', 'f')).toEqual(before);
    return checked.steps[1];
  };

  it('rejects a name a node pool of the pool already has, NODE_POOL_EXISTS, reserving nothing', async () => {
    modelArts.existing = {
      apiVersion: 'v2',
      kind: 'NodePool',
      metadata: { name: 'np' },
      spec: { resources: { flavor: 'f', count: 1, maxCount: 1 } },
    };
    await deps().requests.create(requestRecord('fs-exists', stages));
    const step = await refusedBeforeAsking('fs-exists', 'NODE_POOL_EXISTS');
    expect(step.detail).toEqual({
      reason: 'NODE_POOL_EXISTS',
      message: 'a node pool named np already exists in the pool; choose another name',
    });
  });

  it('rejects a request naming no billing mode in a yearly/monthly pool, BILLING_MODE_REQUIRED', async () => {
    modelArts.poolBilling = '1';
    await deps().requests.create({
      ...requestRecord('fs-yearly-pool', stages),
      billing: { mode: '0', fromPool: true },
    });
    const step = await refusedBeforeAsking('fs-yearly-pool', 'BILLING_MODE_REQUIRED');
    expect(step.detail?.message).toContain('give the billing annotations explicitly');
  });

  it('takes the pay-per-use pool’s billing mode for a request naming none, and says so in its check', async () => {
    modelArts.poolBilling = '0';
    const d = deps();
    await d.requests.create({ ...requestRecord('fs-ppu-pool', stages), billing: { mode: '0', fromPool: true } });
    expect(await checkRequest('fs-ppu-pool', d)).toMatchObject({ status: 'pending' });
    const checked = (await d.requests.get('fs-ppu-pool'))!;
    expect(checked.steps[1]).toMatchObject({
      step: 'capacity_checked',
      detail: { billingMode: '0', billingFromPool: true },
    });
  });
});

it('stamps the steps of one write in the order they are listed, whatever the clock does', async () => {
  const d = deps();
  for (let i = 0; i < 30; i++) {
    await d.requests.create(requestRecord(`fs-order-${i}`, stages));
    await checkRequest(`fs-order-${i}`, d);
    const times = (await d.requests.get(`fs-order-${i}`))!.steps.map((s) => Date.parse(s.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times.slice(1)).size).toBe(times.length - 1);
  }
  // A clock that stands still: the repository still stores them a millisecond apart, in listed order.
  const still = new Date('2026-12-01T00:00:00.000Z');
  await d.requests.create(requestRecord('fs-order-still', stages));
  await d.requests.recordSteps('fs-order-still', [
    newStep('a', 'capacity_checked', 'ok', { at: still }),
    newStep('b', 'quota_checked', 'ok', { at: new Date(still.getTime() - 5) }),
    newStep('c', 'approval_requested', 'ok', { at: still }),
  ]);
  expect((await d.requests.get('fs-order-still'))!.steps.slice(1).map((s) => s.at)).toEqual([
    '2026-12-01T00:00:00.000Z',
    '2026-12-01T00:00:00.001Z',
    '2026-12-01T00:00:00.002Z',
  ]);
});

it('asks again when the run that asked crashed before marking the approval notified', async () => {
  const { requests, approvals } = deps();
  await requests.create(requestRecord('fs-2', stages));
  await checkRequest('fs-2', deps());
  const crashing = { askApprovers: async () => [] };
  jest.spyOn(approvals, 'markNotified').mockRejectedValueOnce(new Error('crash'));
  await expect(
    requestApproval(
      { requestId: 'fs-2', stageIndex: 0, taskToken: 't1' },
      { requests, approvals, notifier: crashing, workflow, now },
    ),
  ).rejects.toThrow('crash');
  const notifier = recordingNotifier();
  expect(
    await requestApproval(
      { requestId: 'fs-2', stageIndex: 0, taskToken: 't1' },
      { requests, approvals, notifier, workflow, now },
    ),
  ).toEqual({ approvalId: 'fs-2.0', notified: 2 });
});

it('records a later stage’s approval_requested when it opens, once', async () => {
  const { requests, approvals } = deps();
  await requests.create(requestRecord('fs-3', stages));
  await checkRequest('fs-3', deps());
  await requestApproval(
    { requestId: 'fs-3', stageIndex: 0, taskToken: 't1' },
    { requests, approvals, notifier: recordingNotifier(), workflow, now },
  );
  const notifier = recordingNotifier();
  await requestApproval(
    { requestId: 'fs-3', stageIndex: 1, taskToken: 't2' },
    { requests, approvals, notifier, workflow, now },
  );
  await requestApproval(
    { requestId: 'fs-3', stageIndex: 1, taskToken: 't3' },
    { requests, approvals, notifier, workflow, now },
  );
  const steps = (await requests.get('fs-3'))!.steps.filter((s) => s.step === 'approval_requested');
  expect(steps.map((s) => s.id)).toEqual(['approval-requested:manager:1', 'approval-requested:finance:1']);
  expect(steps[1].detail).toMatchObject({
    stage: 'finance',
    approvers: ['carol@example.com'],
    expiresAt: (await approvals.get('fs-3.1'))!.expiresAt,
  });
  expect(notifier.asked).toEqual([['carol@example.com']]);
});

it('asks nobody about a request cancelled between the checks and RequestApproval', async () => {
  const { requests, approvals } = deps();
  await requests.create(requestRecord('fs-4', stages));
  await checkRequest('fs-4', deps());
  await requests.recordStep('fs-4', newStep('cancelled', 'cancelled', 'ok'), {
    status: 'CANCELLED',
    reason: 'CANCELLED_BY_USER',
  });
  const notifier = recordingNotifier();
  await expect(
    requestApproval(
      { requestId: 'fs-4', stageIndex: 0, taskToken: 't1' },
      { requests, approvals, notifier, workflow, now },
    ),
  ).rejects.toBeInstanceOf(InvalidTransitionError);
  expect(notifier.asked).toEqual([]);
});
