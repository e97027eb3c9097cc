/**
 * Quota reconciliation against a real table (dynalite): what it corrects, what it leaves alone,
 * and that a correction racing the request's own workflow writes nothing.
 */
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import { parsePolicy } from '../../lambdas/config/policy';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep, stepId } from '../../lambdas/domain/steps';
import { OWNER_LABEL } from '../../lambdas/domain/modelarts';
import { LEFT_BEHIND_GRACE_MS, reconcileQuota, type NodePoolListApi } from '../../lambdas/use-cases/reconcile-quota';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';
import { untilClockPasses } from '../../local/harness/poll';

/** The clock the use cases read (the wiring hands them the same). */
const now = (): Date => new Date();

const policy = parsePolicy(
  JSON.stringify({
    teams: [
      {
        name: 'ml-platform',
        members: [{ email: 'alice@example.com' }],
        stages: [{ name: 'm', approvers: [{ email: 'bob@example.com' }] }],
        quotas: { f: 10, g: 10, h: 10 },
      },
    ],
  }),
);

const table = useTestTable();
let requests: RequestRepository;
let quotas: QuotaRepository;

beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
  quotas = new QuotaRepository(table.db, table.tableName);
});

/** ModelArts' node pools, per `<project>/<pool>`; a pool listed in `broken` fails to list. */
function modelArts(
  nodePools: Record<string, Array<{ name: string; owner?: string; count: number; flavor?: string }>>,
  broken: readonly string[] = [],
): NodePoolListApi & { listed: string[] } {
  const listed: string[] = [];
  return {
    listed,
    async listNodePools(projectId, poolName) {
      const key = `${projectId}/${poolName}`;
      listed.push(key);
      if (broken.includes(key)) throw new Error('ModelArts answered 500');
      return (nodePools[key] ?? []).map((n) => ({
        metadata: { name: n.name },
        spec: {
          resources: {
            flavor: n.flavor ?? 'f',
            count: n.count,
            maxCount: n.count,
            ...(n.owner ? { labels: { [OWNER_LABEL]: n.owner } } : {}),
          },
        },
      }));
    },
  };
}

let seq = 0;
/** A stored request in `status` holding `count` nodes of `flavor` as use (committed) or hold (in flight). */
async function stored(
  status: PoolRequestRecord['status'],
  share: 'use' | 'hold' | 'none',
  count = 1,
  pool = 'pool',
  more: Partial<Pick<PoolRequestRecord, 'flavor' | 'reason'>> = {},
): Promise<PoolRequestRecord> {
  const id = `r${++seq}`;
  const flavor = more.flavor ?? 'f';
  const record = {
    ...requestRecord(id),
    status,
    poolName: pool,
    nodePoolName: `np-${id}`,
    count,
    flavor,
    ...(more.reason ? { reason: more.reason } : {}),
  };
  await requests.create(record);
  const s = { team: 'ml-platform', flavor, requestId: id, count };
  if (share !== 'none') {
    expect(await quotas.reserve(s, 100)).toBe('reserved');
    if (share === 'use') await quotas.commit(s);
  }
  return record;
}

const stepsOf = async (id: string) => (await requests.get(id))!.steps.filter((s) => s.step === 'quota_reconciled');

it('corrects gone, resized and uncounted node pools, leaves in-flight and ambiguous ones alone, and changes nothing on a second run', async () => {
  const gone = await stored('ACTIVE', 'use', 2);
  const resized = await stored('ACTIVE', 'use', 1);
  const kept = await stored('CREATED', 'use', 3);
  const uncounted = await stored('FAILED', 'none');
  const inFlight = await stored('PROVISIONING', 'hold', 2);
  const renamed = await stored('ACTIVE', 'use', 2);
  const before = await quotas.counters('ml-platform', 'f');
  expect(before).toMatchObject({ used: 8, reserved: 2, inUse: 10 });

  const api = modelArts({
    'p/pool': [
      { name: resized.nodePoolName, owner: resized.requestId, count: 4 },
      { name: kept.nodePoolName, owner: kept.requestId, count: 3 },
      { name: uncounted.nodePoolName, owner: uncounted.requestId, count: 1 },
      { name: inFlight.nodePoolName, owner: inFlight.requestId, count: 2 },
      { name: 'someone-elses', count: 5 },
      // Its node pool is missing, but one of another name carries its label: ambiguous, left as it is.
      { name: 'renamed', owner: renamed.requestId, count: 2 },
    ],
  });
  const report = await reconcileQuota({
    policy,
    requests,
    quotas,
    modelArts: api,
    now: () => new Date('2026-11-26T12:00:00Z'),
  });

  expect(report.unreadable).toEqual([]);
  expect(report.corrections).toEqual(
    expect.arrayContaining([
      { requestId: gone.requestId, team: 'ml-platform', flavor: 'f', from: 2, to: 0, why: 'node pool gone' },
      { requestId: resized.requestId, team: 'ml-platform', flavor: 'f', from: 1, to: 4, why: 'node count changed' },
      { requestId: uncounted.requestId, team: 'ml-platform', flavor: 'f', from: 0, to: 1, why: 'node pool found' },
    ]),
  );
  expect(report.corrections).toHaveLength(3);
  expect(report.ambiguous).toEqual([
    `${renamed.requestId}: node pool np-${renamed.requestId} is gone but p/pool/renamed carries its label; its 2 nodes are left as they are`,
  ]);
  // used: 8 - 2 + 3 + 1 = 10; the renamed request keeps its 2; the reservation in flight is untouched.
  expect(await quotas.counters('ml-platform', 'f')).toMatchObject({ used: 10, reserved: 2, inUse: 12 });
  expect((await quotas.shares('ml-platform')).find((s) => s.requestId === renamed.requestId)).toMatchObject({
    kind: 'use',
    count: 2,
  });
  expect(await stepsOf(gone.requestId)).toEqual([
    expect.objectContaining({
      id: 'quota-reconciled:2026-11-26T12:00:00.000Z',
      outcome: 'ok',
      detail: { team: 'ml-platform', flavor: 'f', from: 2, to: 0, why: 'node pool gone' },
    }),
  ]);
  expect(await stepsOf(kept.requestId)).toEqual([]);
  expect(await stepsOf(inFlight.requestId)).toEqual([]);
  expect(await stepsOf(renamed.requestId)).toEqual([]);

  const second = await reconcileQuota({ policy, requests, quotas, now, modelArts: api });
  expect(second.corrections).toEqual([]);
  expect(second.ambiguous).toEqual(report.ambiguous);
  expect(await quotas.counters('ml-platform', 'f')).toMatchObject({ used: 10, reserved: 2, inUse: 12 });
});

it('never counts a node pool of another flavor or one poolgate refused, and reports each as ambiguous', async () => {
  // Flavors g and h are used by this test only, so the counters below are this test's alone.
  const counters = async () => [await quotas.counters('ml-platform', 'g'), await quotas.counters('ml-platform', 'h')];
  const otherFlavor = await stored('ACTIVE', 'use', 2, 'q', { flavor: 'g' });
  const refused = await stored('FAILED', 'none', 1, 'q', { flavor: 'g', reason: 'NODE_POOL_CONFLICT' });
  const foundOtherFlavor = await stored('FAILED', 'none', 1, 'q', { flavor: 'g', reason: 'NODES_TIMEOUT' });
  const foundRenamed = await stored('CREATED', 'none', 1, 'q', { flavor: 'g' });
  const found = await stored('FAILED', 'none', 3, 'q', { flavor: 'g', reason: 'NODES_TIMEOUT' });
  const before = await counters();
  expect(before).toEqual([
    { used: 2, reserved: 0, inUse: 2 },
    { used: 0, reserved: 0, inUse: 0 },
  ]);

  const api = modelArts({
    'p/q': [
      // Its own name and label, resized to 5, but flavor h: moving 2 nodes of g to 5 of h is not ours to decide.
      { name: otherFlavor.nodePoolName, owner: otherFlavor.requestId, count: 5, flavor: 'h' },
      { name: refused.nodePoolName, owner: refused.requestId, count: 1, flavor: 'g' },
      { name: foundOtherFlavor.nodePoolName, owner: foundOtherFlavor.requestId, count: 1, flavor: 'h' },
      { name: 'not-its-name', owner: foundRenamed.requestId, count: 1, flavor: 'g' },
      // The one clear case: its name, its label, its flavor.
      { name: found.nodePoolName, owner: found.requestId, count: 3, flavor: 'g' },
    ],
  });
  const report = await reconcileQuota({
    policy,
    requests,
    quotas,
    modelArts: api,
    now: () => new Date('2026-11-26T13:00:00Z'),
  });

  expect(report.unreadable).toEqual([]);
  const ours = new Set([otherFlavor, refused, foundOtherFlavor, foundRenamed, found].map((r) => r.requestId));
  expect(report.corrections.filter((c) => ours.has(c.requestId))).toEqual([
    { requestId: found.requestId, team: 'ml-platform', flavor: 'g', from: 0, to: 3, why: 'node pool found' },
  ]);
  expect([...report.ambiguous].sort()).toEqual(
    [
      `${otherFlavor.requestId}: node pool ${otherFlavor.nodePoolName} carries its label but flavor h, not g; its 2 nodes are left as they are`,
      `${refused.requestId}: it ended NODE_POOL_CONFLICT (poolgate refused the node pool as not what was approved), yet p/q/${refused.nodePoolName} carries its label; not counted`,
      `${foundOtherFlavor.requestId}: node pool ${foundOtherFlavor.nodePoolName} carries its label but flavor h, not g; not counted`,
      `${foundRenamed.requestId}: its node pool is p/q/${foundRenamed.nodePoolName}, yet p/q/not-its-name carries its label; not counted`,
    ].sort(),
  );
  // g: 2 (otherFlavor, kept) + 3 (found); h: untouched.
  expect(await counters()).toEqual([
    { used: 5, reserved: 0, inUse: 5 },
    { used: 0, reserved: 0, inUse: 0 },
  ]);
  const shares = await quotas.shares('ml-platform');
  expect(
    shares
      .filter((s) => ours.has(s.requestId))
      .map(({ requestId, flavor, count, kind }) => ({ requestId, flavor, count, kind })),
  ).toEqual(
    expect.arrayContaining([
      { requestId: otherFlavor.requestId, flavor: 'g', count: 2, kind: 'use' },
      { requestId: found.requestId, flavor: 'g', count: 3, kind: 'use' },
    ]),
  );
  expect(shares.filter((s) => ours.has(s.requestId))).toHaveLength(2);
  for (const untouched of [otherFlavor, refused, foundOtherFlavor, foundRenamed])
    expect(await stepsOf(untouched.requestId)).toEqual([]);

  const second = await reconcileQuota({ policy, requests, quotas, now, modelArts: api });
  expect(second.corrections.filter((c) => ours.has(c.requestId))).toEqual([]);
  expect([...second.ambiguous].sort()).toEqual([...report.ambiguous].sort());
  expect(await counters()).toEqual([
    { used: 5, reserved: 0, inUse: 5 },
    { used: 0, reserved: 0, inUse: 0 },
  ]);
});

it('keeps the nodes of a node pool whose label was removed outside poolgate counted, and follows its size', async () => {
  const unlabelled = await stored('ACTIVE', 'use', 2, 'label-pool');
  const resized = await stored('ACTIVE', 'use', 1, 'label-pool');
  const api = modelArts({
    'p/label-pool': [
      { name: unlabelled.nodePoolName, count: 2 },
      { name: resized.nodePoolName, count: 3 },
    ],
  });
  const report = await reconcileQuota({ policy, requests, quotas, now, modelArts: api });
  const ours = report.corrections.filter((c) => [unlabelled.requestId, resized.requestId].includes(c.requestId));
  expect(ours).toEqual([
    { requestId: resized.requestId, team: 'ml-platform', flavor: 'f', from: 1, to: 3, why: 'node count changed' },
  ]);
  const shares = await quotas.shares('ml-platform');
  expect(shares.find((s) => s.requestId === unlabelled.requestId)).toMatchObject({ kind: 'use', count: 2 });
  expect(shares.find((s) => s.requestId === resized.requestId)).toMatchObject({ kind: 'use', count: 3 });
  expect(await stepsOf(unlabelled.requestId)).toEqual([]);
});

it('leaves the requests of a pool it cannot list as they are, and says which', async () => {
  const elsewhere = await stored('ACTIVE', 'use', 1, 'other-pool');
  const report = await reconcileQuota({ policy, requests, quotas, now, modelArts: modelArts({}, ['p/other-pool']) });
  expect(report.unreadable).toEqual([expect.stringMatching(/^p\/other-pool: ModelArts answered 500/)]);
  expect(report.corrections.find((c) => c.requestId === elsewhere.requestId)).toBeUndefined();
  expect((await quotas.shares('ml-platform')).find((s) => s.requestId === elsewhere.requestId)).toMatchObject({
    kind: 'use',
    count: 1,
  });
  expect(await stepsOf(elsewhere.requestId)).toEqual([]);
});

it('leaves a counted request that is under way again (a retry) to its run, even when its node pool is gone', async () => {
  // Reconciliation counted the node pool a failed create made after all; the request was retried since
  // (the retry reserved nothing: its nodes are counted) and the node pool was deleted in the console.
  const retried = await stored('PROVISIONING', 'use', 2, 'retry-pool');
  const report = await reconcileQuota({ policy, requests, quotas, now, modelArts: modelArts({}) });
  expect(report.corrections.find((c) => c.requestId === retried.requestId)).toBeUndefined();
  expect((await quotas.shares('ml-platform')).find((s) => s.requestId === retried.requestId)).toMatchObject({
    kind: 'use',
    count: 2,
  });
  expect(await stepsOf(retried.requestId)).toEqual([]);
});

describe('reservations left behind', () => {
  /** Reconciliation runs this long after the reservations below were made: past the grace. */
  const later = () => new Date(Date.now() + LEFT_BEHIND_GRACE_MS + 1_000);
  const hoursAgo = new Date(Date.now() - 3_600_000).toISOString();
  const trackingOff = parsePolicy(
    JSON.stringify({ ...JSON.parse(JSON.stringify(policy)), nodeTracking: { enabled: false } }),
  );
  /** A request in `status`, last changed at `updatedAt`, holding 2 nodes of `flavor` for `attempt` (reserved now). */
  const leftBehind = async (
    flavor: string,
    status: PoolRequestRecord['status'],
    updatedAt: string,
    created: boolean,
    attempt = 0,
  ) => {
    const id = `lb${++seq}`;
    const steps = [
      newStep('submitted', 'submitted', 'ok'),
      ...(created ? [newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok')] : []),
    ];
    await requests.create({
      ...requestRecord(id),
      status,
      flavor,
      count: 2,
      nodePoolName: `np-${id}`,
      updatedAt,
      steps,
      ...(attempt ? { retries: attempt } : {}),
    });
    expect(
      await quotas.reserve(
        { team: 'ml-platform', flavor, requestId: id, count: 2, ...(attempt ? { attempt } : {}) },
        100,
      ),
    ).toBe('reserved');
    return id;
  };
  const leftBehindCorrections = (report: Awaited<ReturnType<typeof reconcileQuota>>) =>
    report.corrections.filter((c) => c.why === 'reservation left behind');

  it('settles what a finished request left behind as its run would have, only well after it finished and after it was made', async () => {
    const failed = await leftBehind('lb', 'FAILED', hoursAgo, false, 1);
    const active = await leftBehind('lb', 'ACTIVE', hoursAgo, true);
    // It failed a minute before reconciliation runs: its Finalize may still be settling.
    const justFailed = await leftBehind('lb', 'FAILED', new Date(later().getTime() - 60_000).toISOString(), false);
    const underWay = await leftBehind('lb', 'PROVISIONING', hoursAgo, false);
    expect(await quotas.counters('ml-platform', 'lb')).toEqual({ reserved: 8, used: 0, inUse: 8 });

    // A moment after the reservations were made, none of them is left behind yet (a retry's may be new on an old failure).
    expect(
      leftBehindCorrections(await reconcileQuota({ policy, requests, quotas, now, modelArts: modelArts({}) })),
    ).toEqual([]);

    const report = await reconcileQuota({ policy, requests, quotas, modelArts: modelArts({}), now: later });
    expect(leftBehindCorrections(report)).toEqual(
      expect.arrayContaining([
        { requestId: failed, team: 'ml-platform', flavor: 'lb', from: 2, to: 0, why: 'reservation left behind' },
        { requestId: active, team: 'ml-platform', flavor: 'lb', from: 2, to: 2, why: 'reservation left behind' },
      ]),
    );
    expect(leftBehindCorrections(report)).toHaveLength(2);
    // Given back: 2 of the failed one; committed: 2 of the active one; the recent and the open one keep theirs.
    expect(await quotas.counters('ml-platform', 'lb')).toEqual({ reserved: 4, used: 2, inUse: 6 });
    expect(
      (await quotas.shares('ml-platform'))
        .filter((s) => [justFailed, underWay].includes(s.requestId))
        .map((s) => s.kind),
    ).toEqual(['hold', 'hold']);
    expect(await stepsOf(failed)).toEqual([
      expect.objectContaining({
        detail: { team: 'ml-platform', flavor: 'lb', from: 2, to: 0, why: 'reservation left behind' },
      }),
    ]);

    expect(
      leftBehindCorrections(await reconcileQuota({ policy, requests, quotas, modelArts: modelArts({}), now: later })),
    ).toEqual([]);
  });

  it.each([false, true])(
    'commits what a CREATED request left behind (node tracking %s): its node pool exists',
    async (tracking) => {
      const flavor = `lc-${tracking}`;
      const created = await leftBehind(flavor, 'CREATED', hoursAgo, true);
      const policyNow = tracking ? policy : trackingOff;
      const report = await reconcileQuota({
        policy: policyNow,
        requests,
        quotas,
        modelArts: modelArts({}),
        now: later,
      });
      expect(leftBehindCorrections(report)).toEqual([
        { requestId: created, team: 'ml-platform', flavor, from: 2, to: 2, why: 'reservation left behind' },
      ]);
      expect(await quotas.counters('ml-platform', flavor)).toEqual({ reserved: 0, used: 2, inUse: 2 });
      // The run's own Finalize, if it was still following the nodes, then finds it done: counted once.
      await quotas.commitOrCount({ team: 'ml-platform', flavor, requestId: created, count: 2 });
      expect(await quotas.counters('ml-platform', flavor)).toEqual({ reserved: 0, used: 2, inUse: 2 });
    },
  );

  it('leaves a reservation its run confirmed after reconciliation read it', async () => {
    const failed = await leftBehind('ld', 'FAILED', hoursAgo, false, 1);
    const [read] = (await quotas.shares('ml-platform')).filter((s) => s.requestId === failed);
    expect(read).toMatchObject({ kind: 'hold', attempt: 1, heldAt: expect.any(String) });
    // The retried run's CheckRequest confirms it (a little later), then the release judged on the old read comes.
    await untilClockPasses(read.heldAt!);
    expect(await quotas.renew({ team: 'ml-platform', flavor: 'ld', requestId: failed, count: 2, attempt: 1 })).toBe(
      true,
    );
    expect(await quotas.release(read)).toBe(false);
    expect(await quotas.counters('ml-platform', 'ld')).toEqual({ reserved: 2, used: 0, inUse: 2 });
    // And a release that comes first makes the confirmation fail: the run reserves again.
    const [again] = (await quotas.shares('ml-platform')).filter((s) => s.requestId === failed);
    expect(await quotas.release(again)).toBe(true);
    expect(await quotas.renew({ team: 'ml-platform', flavor: 'ld', requestId: failed, count: 2, attempt: 1 })).toBe(
      false,
    );
  });
});

it('writes nothing when the share changed since it was read (the workflow moved first)', async () => {
  const request = await stored('ACTIVE', 'use', 2);
  const inFlight = await stored('PROVISIONING', 'hold', 1);
  const share = { team: 'ml-platform', flavor: 'f', requestId: request.requestId };
  const before = await quotas.counters('ml-platform', 'f');
  expect(await quotas.reconcileUse(share, 1, 0)).toBe(false);
  expect(await quotas.reconcileUse(share, 0, 2)).toBe(false);
  expect(await quotas.reconcileUse({ ...share, requestId: inFlight.requestId }, 0, 1)).toBe(false);
  expect(await quotas.counters('ml-platform', 'f')).toEqual(before);
});
