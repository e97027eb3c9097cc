/**
 * Finalize against a real table (dynalite): what it settles when a run fails, including the cases the
 * run's own state does not show (a node pool recorded before a lost answer, a retried run that fails
 * before its resume point).
 */
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep, stepId } from '../../lambdas/domain/steps';
import { finalizeRequest, type FinalizeDeps } from '../../lambdas/use-cases/finalize-request';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const table = useTestTable();
let requests: RequestRepository;
let quotas: QuotaRepository;
let told: string[];

beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
  quotas = new QuotaRepository(table.db, table.tableName);
});
beforeEach(() => (told = []));

const deps = (nodeTracking = true): FinalizeDeps => ({
  requests,
  approvals: new ApprovalRepository(table.db, table.tableName),
  quotas,
  notifier: { showSettled: async () => undefined, tellRequester: async (r) => void told.push(r.status) },
  nodeTracking,
});
const lambdaTimeout = { Error: 'Lambda.Unknown', Cause: '{"errorMessage":"Task timed out after 60.00 seconds"}' };

let seq = 0;
/**
 * A request in `status` (its own flavor, so each test reads its own counters), retried `retries` times,
 * holding its nodes for `attempt`.
 */
async function holding(
  status: PoolRequestRecord['status'],
  steps: PoolRequestRecord['steps'],
  attempt = 0,
  retries = attempt,
): Promise<PoolRequestRecord> {
  const id = `fin-${++seq}`;
  const record: PoolRequestRecord = {
    ...requestRecord(id),
    flavor: `f-${id}`,
    status,
    steps: [newStep('submitted', 'submitted', 'ok'), ...steps],
    ...(retries ? { retries } : {}),
  };
  await requests.create(record);
  expect(
    await quotas.reserve(
      { team: record.team, flavor: record.flavor, requestId: id, count: 1, ...(attempt ? { attempt } : {}) },
      10,
    ),
  ).toBe('reserved');
  return record;
}
const countersOf = (r: PoolRequestRecord) => quotas.counters(r.team, r.flavor);
const stored = async (r: PoolRequestRecord) => (await requests.get(r.requestId))!;

it('counts a node pool recorded before CreateNodePool lost its answer, and resumes a retry at node tracking', async () => {
  const request = await holding('CREATED', [newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok')]);

  const result = await finalizeRequest(
    {
      requestId: request.requestId,
      attempt: 0,
      approval: { status: 'approved', stageIndex: 0, waitSeconds: 0 },
      error: lambdaTimeout,
      created: null,
    },
    deps(),
  );

  expect(result).toEqual({ status: 'FAILED' });
  expect((await stored(request)).steps.find((s) => s.id === 'failed')?.detail).toMatchObject({
    resumeAt: 'CheckNodes',
    cause: 'Task timed out after 60.00 seconds',
  });
  expect(await countersOf(request)).toEqual({ reserved: 0, used: 1, inUse: 1 });
  expect(told).toEqual(['FAILED']);
});

it('leaves such a request CREATED when nodes are not followed (nothing is left to do), and counts it', async () => {
  const request = await holding('CREATED', [newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok')]);

  const result = await finalizeRequest(
    {
      requestId: request.requestId,
      attempt: 0,
      approval: { status: 'approved', stageIndex: 0, waitSeconds: 0 },
      error: lambdaTimeout,
      created: null,
    },
    deps(false),
  );

  expect(result).toEqual({ status: 'CREATED' });
  expect((await stored(request)).steps.map((s) => s.step)).not.toContain('failed');
  expect(await countersOf(request)).toEqual({ reserved: 0, used: 1, inUse: 1 });
});

it('resumes a retried run that failed before CreateNodePool at CreateNodePool, under its own attempt', async () => {
  const retried = newStep(stepId.retried(1), 'retried', 'ok', { detail: { attempt: 1, resumeAt: 'CreateNodePool' } });
  const request = await holding(
    'PROVISIONING',
    [newStep('failed', 'failed', 'error', { detail: { resumeAt: 'CreateNodePool' } }), retried],
    1,
  );

  // Its CheckRequest failed: the run never reached a Decision, so `approval` is null.
  const result = await finalizeRequest(
    { requestId: request.requestId, attempt: 1, approval: null, error: { Error: 'States.TaskFailed' }, created: null },
    deps(),
  );

  expect(result).toEqual({ status: 'FAILED' });
  expect((await stored(request)).steps.find((s) => s.id === 'failed:1')?.detail).toMatchObject({
    resumeAt: 'CreateNodePool',
  });
  expect(await countersOf(request)).toEqual({ reserved: 0, used: 0, inUse: 0 });
});

it('does not offer a retry for a request that failed before it was approved', async () => {
  const request = await holding('AWAITING_APPROVAL', []);

  await finalizeRequest(
    {
      requestId: request.requestId,
      attempt: 0,
      approval: { status: 'pending', stageIndex: 0, waitSeconds: 60 },
      error: { Error: 'States.TaskFailed' },
      created: null,
    },
    deps(),
  );

  const failed = (await stored(request)).steps.find((s) => s.id === 'failed');
  expect(failed?.detail).not.toHaveProperty('resumeAt');
  expect(await countersOf(request)).toEqual({ reserved: 0, used: 0, inUse: 0 });
});

it('settles the reservation of a run a retry replaced, and leaves the status and the requester to the new run', async () => {
  // Run 0 created the node pool, failed, and could not commit; a retry (attempt 1) resumed node tracking.
  const retried = newStep(stepId.retried(1), 'retried', 'ok', { detail: { attempt: 1, resumeAt: 'CheckNodes' } });
  const request = await holding(
    'CREATED',
    [newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok'), newStep('failed', 'failed', 'error'), retried],
    0,
    1,
  );

  // Step Functions retries run 0's Finalize.
  const result = await finalizeRequest(
    {
      requestId: request.requestId,
      attempt: 0,
      approval: null,
      error: { Error: 'NodesTimeoutError' },
      created: { nodePoolName: 'np' },
    },
    deps(),
  );

  expect(result).toEqual({ status: 'CREATED' });
  expect(await countersOf(request)).toEqual({ reserved: 0, used: 1, inUse: 1 });
  expect((await stored(request)).steps.filter((s) => s.step === 'failed')).toHaveLength(1);
  expect(told).toEqual([]);
});

it('takes a run without an attempt for the first: once the request was retried, it changes nothing', async () => {
  const retried = newStep(stepId.retried(1), 'retried', 'ok', { detail: { attempt: 1, resumeAt: 'CreateNodePool' } });
  const request = await holding(
    'PROVISIONING',
    [newStep('failed', 'failed', 'error', { detail: { resumeAt: 'CreateNodePool' } }), retried],
    1,
  );

  const result = await finalizeRequest(
    { requestId: request.requestId, approval: null, error: { Error: 'ModelArtsError' }, created: null },
    deps(),
  );

  expect(result).toEqual({ status: 'PROVISIONING' });
  expect((await stored(request)).steps.map((s) => s.id)).toEqual(['submitted', 'failed', 'retried:1']);
  expect(await countersOf(request)).toEqual({ reserved: 1, used: 0, inUse: 1 });
  expect(told).toEqual([]);
});

it('counts the nodes of a node pool its run created without a reservation left, once', async () => {
  // The run's reservation was lost to a race (a concurrent retry call gave it back): nothing is held.
  const request = await holding('CREATED', [newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok')]);
  await quotas.release({ team: request.team, flavor: request.flavor, requestId: request.requestId, count: 1 });
  const created = { nodePoolName: request.nodePoolName, track: false, waitSeconds: 1 };

  await finalizeRequest(
    {
      requestId: request.requestId,
      attempt: 0,
      approval: { status: 'approved', stageIndex: 0, waitSeconds: 0 },
      error: null,
      created,
    },
    deps(),
  );
  await finalizeRequest(
    {
      requestId: request.requestId,
      attempt: 0,
      approval: { status: 'approved', stageIndex: 0, waitSeconds: 0 },
      error: null,
      created,
    },
    deps(),
  );

  expect(await countersOf(request)).toEqual({ reserved: 0, used: 1, inUse: 1 });
});

it("never counts a node pool's nodes beside a reservation another attempt still holds", async () => {
  const request = await holding('CREATED', [newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok')], 0, 1);
  const created = { nodePoolName: request.nodePoolName, track: false, waitSeconds: 1 };

  // Run 1 finalizes while attempt 0 still holds the nodes (its CheckRequest would normally have taken
  // them over): counting them as use beside that reservation would count them twice.
  await finalizeRequest(
    {
      requestId: request.requestId,
      attempt: 1,
      approval: { status: 'approved', stageIndex: 0, waitSeconds: 0 },
      error: null,
      created,
    },
    deps(),
  );

  expect(await countersOf(request)).toEqual({ reserved: 1, used: 0, inUse: 1 });
});

it('rejects a delete whose node pool was re-created outside poolgate after its check passed, and lets go of the node pool', async () => {
  const id = `fin-${++seq}`;
  const record: PoolRequestRecord = {
    ...requestRecord(id),
    kind: 'delete',
    body: undefined,
    createRequestId: `create-of-${id}`,
    flavor: `f-${id}`,
    status: 'PROVISIONING',
    steps: [
      newStep('submitted', 'submitted', 'ok'),
      // CheckRequest saw the node pool as poolgate's: `capacity-checked` is recorded as ok.
      newStep(stepId.capacityChecked(), 'capacity_checked', 'ok'),
    ],
  };
  await requests.create(record);
  const notOurs = {
    Error: 'NodePoolNotOursError',
    Cause: '{"errorMessage":"the node pool does not carry the label of request create-of-x"}',
  };

  const result = await finalizeRequest(
    { requestId: id, attempt: 0, approval: null, error: notOurs, created: null },
    {
      ...deps(),
      changes: { claims: { markDeleted: async () => true }, notifier: { tellCreator: async () => undefined } },
    },
  );

  expect(result).toEqual({ status: 'REJECTED' });
  const after = await stored(record);
  expect(after).toMatchObject({ status: 'REJECTED', reason: 'NODE_POOL_NOT_OURS' });
  expect(after.steps.filter((s) => s.step === 'capacity_checked').map((s) => s.outcome)).toEqual(['ok', 'refused']);
  expect(told).toEqual(['REJECTED']);
});

/** A scale of the node pool `create-of-<id>` made (its share set to `share`), PROVISIONING, with `steps` after the check. */
async function scaling(
  kind: 'scale-up' | 'scale-down',
  from: number,
  to: number,
  steps: PoolRequestRecord['steps'],
  retries = 0,
): Promise<PoolRequestRecord> {
  const id = `fin-${++seq}`;
  const record: PoolRequestRecord = {
    ...requestRecord(id),
    kind: 'scale',
    body: undefined,
    createRequestId: `create-of-${id}`,
    flavor: `f-${id}`,
    count: to,
    change: { kind, from, to },
    patch: { spec: { resources: { count: to } } },
    status: 'PROVISIONING',
    steps: [
      newStep('submitted', 'submitted', 'ok'),
      newStep(stepId.capacityChecked(), 'capacity_checked', 'ok'),
      ...steps,
    ],
    ...(retries ? { retries } : {}),
  };
  await requests.create(record);
  const share = { team: record.team, flavor: record.flavor, requestId: `create-of-${id}`, count: from };
  expect(await quotas.reserve(share, 100)).toBe('reserved');
  expect(await quotas.commit(share)).toBe(true);
  return record;
}
const markerOf = (r: PoolRequestRecord) => ({
  team: r.team,
  flavor: r.flavor,
  createId: r.createRequestId!,
  changeId: r.requestId,
});
const nodesTimeout = { Error: 'NodesTimeoutError', Cause: '{"errorMessage":"only 2 of 6 node(s) available"}' };
const patchedStep = () => newStep('node-pool-patched', 'node_pool_patched', 'ok');

it('a scale-down ModelArts accepted that then fails: FAILED, the record counts the target, the share stays for reconciliation, the marker goes', async () => {
  const request = await scaling('scale-down', 6, 2, [patchedStep()]);
  await quotas.markOpen(markerOf(request));
  const marked: Array<[string, number]> = [];

  const result = await finalizeRequest(
    { requestId: request.requestId, attempt: 0, approval: null, error: nodesTimeout, created: null },
    {
      ...deps(),
      changes: {
        claims: {
          markDeleted: async () => true,
          markCount: async (_name, changeId, count) => marked.push([changeId, count]) > 0,
        },
        notifier: { tellCreator: async () => undefined },
      },
    },
  );

  expect(result).toEqual({ status: 'FAILED' });
  expect((await stored(request)).reason).toBe('NODES_TIMEOUT');
  expect(marked).toEqual([[request.requestId, 2]]);
  // The nodes may still be deleting: the share is lowered by reconciliation once ModelArts shows them gone.
  expect(await countersOf(request)).toEqual({ reserved: 0, used: 6, inUse: 6 });
  expect(await quotas.clearOpen(markerOf(request))).toBe(false);
});

it("a late Finalize of a scale-up's first run leaves the reservation and the marker of the retry that started meanwhile", async () => {
  // The first run read the request before its FAILED let a retry start: retries 0, PROVISIONING.
  const request = await scaling(
    'scale-up',
    2,
    6,
    [newStep(stepId.failed(0), 'failed', 'error'), newStep(stepId.retried(1), 'retried', 'ok')],
    1,
  );
  const stale: PoolRequestRecord = { ...request, retries: undefined };
  // The retry's CheckRequest took the reservation over for attempt 1 and marked the node pool.
  const hold = { team: request.team, flavor: request.flavor, requestId: request.requestId, count: 4 };
  expect(await quotas.reserve(hold, 100)).toBe('reserved');
  expect(await quotas.takeOver({ ...hold, attempt: 1 })).toBe(true);
  await quotas.markOpen(markerOf(request));
  let reads = 0;
  const racing: FinalizeDeps = {
    ...deps(),
    requests: Object.assign(Object.create(requests) as RequestRepository, {
      get: async (id: string) => (reads++ === 0 ? stale : requests.get(id)),
    }),
  };

  await finalizeRequest(
    { requestId: request.requestId, attempt: 0, approval: null, error: lambdaTimeout, created: null },
    racing,
  );

  expect(await countersOf(request)).toEqual({ reserved: 4, used: 2, inUse: 6 });
  expect((await quotas.shares(request.team)).find((s) => s.requestId === request.requestId)).toMatchObject({
    kind: 'hold',
    attempt: 1,
    count: 4,
  });
  expect(await quotas.clearOpen(markerOf(request))).toBe(true);
});
