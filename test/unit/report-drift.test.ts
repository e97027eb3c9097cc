/**
 * The drift report against a real table (dynalite): node pools poolgate created and changed outside it
 * are recorded on their latest request once per observation, counted and mailed by the writer only;
 * node pools with an open request are left alone.
 */
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import { parsePolicy } from '../../lambdas/config/policy';
import { describeDrift, driftStepId, observeDrift, type DriftObservation } from '../../lambdas/domain/drift';
import { OWNER_LABEL } from '../../lambdas/domain/modelarts';
import type { NodePoolRequest } from '../../lambdas/domain/nodepool-request';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import type { MetricName } from '../../lambdas/use-cases/metrics';
import type { NodePoolListApi } from '../../lambdas/use-cases/ports';
import { recipientsOf, reportDrift, type DriftDeps } from '../../lambdas/use-cases/report-drift';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const policy = parsePolicy(
  JSON.stringify({
    admins: ['root@example.com'],
    teams: [
      {
        name: 'ml-platform',
        members: [{ email: 'alice@example.com' }],
        stages: [
          { name: 'manager', approvers: [{ email: 'bob@example.com' }] },
          { name: 'finance', approvers: [{ email: 'fin@example.com' }, { email: 'bob@example.com' }] },
        ],
        escalation: [{ email: 'esc@example.com' }],
        quotas: { f: 100 },
      },
      {
        name: 'vision',
        members: [{ email: 'vic@example.com' }],
        stages: [{ name: 'manager', approvers: [{ email: 'vera@example.com' }] }],
        quotas: { f: 100 },
      },
    ],
  }),
);

const table = useTestTable();
let requests: RequestRepository;
let claims: ClaimRepository;
beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
  claims = new ClaimRepository(table.db, table.tableName);
});

let seq = 0;
/** A node pool poolgate created: its request in `status`, its record present with `count` nodes of flavor f. */
async function created(
  status: PoolRequestRecord['status'] = 'ACTIVE',
  count = 2,
  pool = 'pool',
): Promise<PoolRequestRecord> {
  const id = `d${++seq}-${Date.now()}`;
  const request: PoolRequestRecord = {
    ...requestRecord(id),
    status,
    poolName: pool,
    nodePoolName: `np-${id}`,
    count,
    maxCount: count,
  };
  await requests.create(request);
  const facts = {
    projectId: 'p',
    poolName: pool,
    nodePoolName: request.nodePoolName,
    team: 'ml-platform',
    creatingRequestId: id,
    creator: 'alice@example.com',
    flavor: 'f',
    count,
    billingMode: '0' as const,
  };
  const claim = await claims.claimNodePoolName(facts, id, async () => false, new Date(), { facts });
  expect(claim).toEqual({ ok: true });
  expect(await claims.markPresent(facts, new Date().toISOString())).toBe(true);
  return request;
}

interface Shown {
  name: string;
  count: number;
  flavor?: string;
  /** undefined: poolgate's label as created; null: no label; a string: that label. */
  label?: string | null;
  owner: string;
}

/** ModelArts' node pools, per pool; a pool in `broken` fails to list. */
function modelArts(
  shown: Record<string, Shown[]>,
  broken: readonly string[] = [],
): NodePoolListApi & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async listNodePools(projectId, poolName) {
      calls.push(`${projectId}/${poolName}`);
      if (broken.includes(poolName)) throw new Error('ModelArts answered 503');
      return (shown[poolName] ?? []).map((n) => {
        const label = n.label === undefined ? n.owner : n.label;
        return {
          metadata: { name: n.name },
          spec: {
            resources: {
              flavor: n.flavor ?? 'f',
              count: n.count,
              maxCount: n.count,
              labels: { team: 'x', ...(label === null ? {} : { [OWNER_LABEL]: label }) },
            },
          },
        };
      });
    },
  };
}

type Told = { requestId: string; node: string; observation: DriftObservation; to: readonly string[] };
function deps(api: NodePoolListApi, told: Told[], metrics: MetricName[]): DriftDeps {
  return {
    policy,
    requests,
    claims,
    modelArts: api,
    now: () => new Date(),
    recordMetric: (name) => void metrics.push(name),
    notifier: {
      tellUnapprovedChange: async (request, record, observation, to) =>
        void told.push({ requestId: request.requestId, node: record.nodePoolName, observation, to }),
    },
  };
}

const driftSteps = async (id: string) => (await requests.get(id))!.steps.filter((s) => s.step === 'unapproved_change');

describe('observeDrift', () => {
  const record = { nodePoolName: 'np', creatingRequestId: 'r1', flavor: 'f', count: 2 };
  const shown = (resources: Record<string, unknown>) =>
    ({
      spec: { resources: { flavor: 'f', count: 2, maxCount: 2, labels: { [OWNER_LABEL]: 'r1' }, ...resources } },
    }) as Pick<NodePoolRequest, 'spec'>;

  it('sees nothing when the node pool is what poolgate approved', () => {
    expect(observeDrift(record, shown({}))).toEqual([]);
  });

  it('sees a count, a label and a flavor changed outside poolgate, each with a deterministic id', () => {
    const seen = observeDrift(record, shown({ count: 5, flavor: 'g', labels: {} }));
    expect(seen).toEqual([
      { kind: 'count', expected: 2, found: 5 },
      { kind: 'label', expected: 'r1', found: null },
      { kind: 'flavor', expected: 'f', found: 'g' },
    ]);
    expect(seen.map(driftStepId)).toEqual([
      'unapproved-change:count:2:5',
      'unapproved-change:label:r1:-',
      'unapproved-change:flavor:f:g',
    ]);
    expect(observeDrift(record, shown({ labels: { [OWNER_LABEL]: 'r9' } }))).toEqual([
      { kind: 'label', expected: 'r1', found: 'r9' },
    ]);
    expect(describeDrift('np', seen[0])).toBe(
      'node pool np has 5 node(s) in ModelArts, but 2 were approved: changed outside poolgate',
    );
  });
});

it('mails the team approvers of every stage, its escalation contacts and the admins, each once', () => {
  expect(recipientsOf(policy, { team: 'ml-platform' }).sort()).toEqual(
    ['bob@example.com', 'esc@example.com', 'fin@example.com', 'root@example.com'].sort(),
  );
});

it('records a count changed outside poolgate once on the latest request, counts and mails it once, and nothing new on a second run', async () => {
  const resized = await created('ACTIVE', 2, 'drift-a');
  const unchanged = await created('ACTIVE', 3, 'drift-a');
  const api = modelArts({
    'drift-a': [
      { name: resized.nodePoolName, owner: resized.requestId, count: 5 },
      { name: unchanged.nodePoolName, owner: unchanged.requestId, count: 3 },
    ],
  });
  const told: Told[] = [];
  const metrics: MetricName[] = [];

  const first = await reportDrift(deps(api, told, metrics));
  const mine = first.recorded.filter((f) => f.requestId === resized.requestId || f.requestId === unchanged.requestId);
  expect(mine).toEqual([
    {
      node: `p/drift-a/${resized.nodePoolName}`,
      requestId: resized.requestId,
      stepId: 'unapproved-change:count:2:5',
      observation: { kind: 'count', expected: 2, found: 5 },
    },
  ]);
  expect(await driftSteps(resized.requestId)).toEqual([
    expect.objectContaining({
      id: 'unapproved-change:count:2:5',
      outcome: 'error',
      detail: expect.objectContaining({ change: 'count', expected: 2, found: 5, nodePool: resized.nodePoolName }),
    }),
  ]);
  expect(await driftSteps(unchanged.requestId)).toEqual([]);
  expect(told.filter((t) => t.requestId === resized.requestId)).toEqual([
    {
      requestId: resized.requestId,
      node: resized.nodePoolName,
      observation: { kind: 'count', expected: 2, found: 5 },
      to: expect.arrayContaining(['bob@example.com', 'fin@example.com', 'esc@example.com', 'root@example.com']),
    },
  ]);
  expect(metrics.filter((m) => m === 'unapprovedChange').length).toBe(first.recorded.length);

  const toldBefore = told.length;
  const second = await reportDrift(deps(api, told, metrics));
  expect(second.recorded.filter((f) => f.requestId === resized.requestId)).toEqual([]);
  expect(await driftSteps(resized.requestId)).toHaveLength(1);
  expect(told.slice(toldBefore).filter((t) => t.requestId === resized.requestId)).toEqual([]);

  // Another count is another observation: recorded (and mailed) once more.
  const api7 = modelArts({ 'drift-a': [{ name: resized.nodePoolName, owner: resized.requestId, count: 7 }] });
  const third = await reportDrift(deps(api7, told, metrics));
  expect(third.recorded.filter((f) => f.requestId === resized.requestId).map((f) => f.stepId)).toEqual([
    'unapproved-change:count:2:7',
  ]);
  expect((await driftSteps(resized.requestId)).map((s) => s.id)).toEqual([
    'unapproved-change:count:2:5',
    'unapproved-change:count:2:7',
  ]);
});

it('records and counts an observation whose mail fails, says so, and goes on with the other node pools', async () => {
  const first = await created('ACTIVE', 2, 'drift-d');
  const second = await created('ACTIVE', 2, 'drift-d');
  const api = modelArts({
    'drift-d': [
      { name: first.nodePoolName, owner: first.requestId, count: 3 },
      { name: second.nodePoolName, owner: second.requestId, count: 4 },
    ],
  });
  const metrics: MetricName[] = [];
  const report = await reportDrift({
    ...deps(api, [], metrics),
    notifier: {
      tellUnapprovedChange: async () => {
        throw new Error('SES throttled');
      },
    },
  });
  const ours = [first.requestId, second.requestId];
  expect(report.recorded.filter((f) => ours.includes(f.requestId))).toHaveLength(2);
  expect(report.unmailed.filter((u) => ours.some((id) => u.includes(id)))).toEqual(
    expect.arrayContaining([
      `unapproved-change:count:2:3 on ${first.requestId}: SES throttled`,
      `unapproved-change:count:2:4 on ${second.requestId}: SES throttled`,
    ]),
  );
  expect(await driftSteps(first.requestId)).toHaveLength(1);
  expect(await driftSteps(second.requestId)).toHaveLength(1);
  expect(metrics.filter((m) => m === 'unapprovedChange').length).toBeGreaterThanOrEqual(2);
});

it('reports each observation once when runs overlap (the claim on the node pool decides who mails)', async () => {
  const resized = await created('ACTIVE', 2, 'drift-b');
  const api = modelArts({ 'drift-b': [{ name: resized.nodePoolName, owner: resized.requestId, count: 4 }] });
  const told: Told[] = [];
  const metrics: MetricName[] = [];
  await Promise.all(Array.from({ length: 5 }, () => reportDrift(deps(api, told, metrics))));
  expect(await driftSteps(resized.requestId)).toHaveLength(1);
  expect(told.filter((t) => t.requestId === resized.requestId)).toHaveLength(1);
});

it('records a removed label and a changed flavor, and leaves alone node pools with an open request or an unreadable pool', async () => {
  const unlabelled = await created('ACTIVE', 2, 'drift-c');
  const reflavored = await created('ACTIVE', 1, 'drift-c');
  const open = await created('CREATED', 2, 'drift-c'); // nodes still followed: open
  const elsewhere = await created('ACTIVE', 2, 'drift-broken');
  const api = modelArts(
    {
      'drift-c': [
        { name: unlabelled.nodePoolName, owner: unlabelled.requestId, count: 2, label: null },
        { name: reflavored.nodePoolName, owner: reflavored.requestId, count: 1, flavor: 'g' },
        { name: open.nodePoolName, owner: open.requestId, count: 9 },
      ],
    },
    ['drift-broken'],
  );
  const told: Told[] = [];
  const report = await reportDrift(deps(api, told, []));
  expect(report.recorded.filter((f) => f.node.startsWith('p/drift-c/')).map((f) => [f.requestId, f.stepId])).toEqual(
    expect.arrayContaining([
      [unlabelled.requestId, `unapproved-change:label:${unlabelled.requestId}:-`],
      [reflavored.requestId, 'unapproved-change:flavor:f:g'],
    ]),
  );
  expect(report.recorded.filter((f) => f.node.startsWith('p/drift-c/'))).toHaveLength(2);
  expect(report.open).toContain(`p/drift-c/${open.nodePoolName}`);
  expect(await driftSteps(open.requestId)).toEqual([]);
  expect(report.unreadable).toEqual([expect.stringMatching(/^p\/drift-broken: ModelArts answered 503/)]);
  expect(await driftSteps(elsewhere.requestId)).toEqual([]);
  expect((await driftSteps(unlabelled.requestId))[0].detail).toMatchObject({
    change: 'label',
    found: null,
    message: expect.stringContaining('its nodes stay counted'),
  });
  // Each pool is listed once per run, however many node pools it holds.
  expect(api.calls.filter((c) => c === 'p/drift-c')).toHaveLength(1);
});

it('does not report an observation again when a newer finished request becomes the latest on the node pool', async () => {
  const resized = await created('ACTIVE', 2, 'drift-c');
  const api = modelArts({ 'drift-c': [{ name: resized.nodePoolName, owner: resized.requestId, count: 6 }] });
  const told: Told[] = [];
  const metrics: MetricName[] = [];
  const first = await reportDrift(deps(api, told, metrics));
  expect(first.recorded.filter((f) => f.requestId === resized.requestId)).toHaveLength(1);

  // A lease deletion refused because the node pool is not poolgate's any more now holds the record.
  const later: PoolRequestRecord = {
    ...requestRecord(`${resized.requestId}-lease-1`),
    kind: 'delete',
    status: 'REJECTED',
    reason: 'NODE_POOL_NOT_OURS',
    poolName: 'drift-c',
    nodePoolName: resized.nodePoolName,
    createRequestId: resized.requestId,
  };
  await requests.create(later);
  const name = { projectId: 'p', poolName: 'drift-c', nodePoolName: resized.nodePoolName };
  expect(
    await claims.claimNodePoolName(name, later.requestId, async () => false, new Date(), { kind: 'delete' }),
  ).toEqual({ ok: true });

  const toldBefore = told.length;
  const metricsBefore = metrics.length;
  const second = await reportDrift(deps(api, told, metrics));
  const mine = (f: { node: string }) => f.node === `p/drift-c/${resized.nodePoolName}`;
  expect(second.recorded.filter(mine)).toEqual([]);
  expect(await driftSteps(later.requestId)).toEqual([]);
  expect(told.slice(toldBefore).filter((t) => t.node === resized.nodePoolName)).toEqual([]);
  expect(metrics.slice(metricsBefore)).toEqual(second.recorded.map(() => 'unapprovedChange'));
});
