/**
 * Quota reconciliation against a real table (dynalite): what it corrects, what it leaves alone,
 * and that a correction racing the request's own workflow writes nothing.
 */
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import { parsePolicy } from '../../lambdas/config/policy';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { OWNER_LABEL } from '../../lambdas/use-cases/create-node-pool';
import { reconcileQuota, type NodePoolListApi } from '../../lambdas/use-cases/reconcile-quota';
import { startTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const policy = parsePolicy(
  JSON.stringify({ teams: [{ name: 'ml-platform', members: [{ email: 'alice@example.com' }], stages: [{ name: 'm', approvers: [{ email: 'bob@example.com' }] }], quotas: { f: 10 } }] }),
);

let table: Awaited<ReturnType<typeof startTestTable>>;
let requests: RequestRepository;
let quotas: QuotaRepository;

beforeAll(async () => {
  table = await startTestTable();
  requests = new RequestRepository(table.db, table.tableName);
  quotas = new QuotaRepository(table.db, table.tableName);
});
afterAll(() => table.stop());

/** ModelArts' node pools, per `<project>/<pool>`; a pool listed in `broken` fails to list. */
function modelArts(nodePools: Record<string, Array<{ name: string; owner?: string; count: number }>>, broken: readonly string[] = []): NodePoolListApi & { listed: string[] } {
  const listed: string[] = [];
  return {
    listed,
    async listNodePools(projectId, poolName) {
      const key = `${projectId}/${poolName}`;
      listed.push(key);
      if (broken.includes(key)) throw new Error('ModelArts answered 500');
      return (nodePools[key] ?? []).map((n) => ({
        metadata: { name: n.name },
        spec: { resources: { flavor: 'f', count: n.count, maxCount: n.count, ...(n.owner ? { labels: { [OWNER_LABEL]: n.owner } } : {}) } },
      }));
    },
  };
}

let seq = 0;
/** A stored request in `status` holding `count` nodes as use (committed) or hold (in flight). */
async function stored(status: PoolRequestRecord['status'], share: 'use' | 'hold' | 'none', count = 1, pool = 'pool'): Promise<PoolRequestRecord> {
  const id = `r${++seq}`;
  const record = { ...requestRecord(id), status, poolName: pool, nodePoolName: `np-${id}`, count };
  await requests.create(record);
  const s = { team: 'ml-platform', flavor: 'f', requestId: id, count };
  if (share !== 'none') {
    expect(await quotas.reserve(s, 100)).toBe('reserved');
    if (share === 'use') await quotas.commit(s);
  }
  return record;
}

const stepsOf = async (id: string) => (await requests.get(id))!.steps.filter((s) => s.step === 'quota_reconciled');

it('corrects gone, resized and uncounted node pools, leaves in-flight ones alone, and changes nothing on a second run', async () => {
  const gone = await stored('ACTIVE', 'use', 2);
  const resized = await stored('ACTIVE', 'use', 1);
  const kept = await stored('CREATED', 'use', 3);
  const uncounted = await stored('FAILED', 'none');
  const inFlight = await stored('PROVISIONING', 'hold', 2);
  const before = await quotas.counters('ml-platform', 'f');
  expect(before).toMatchObject({ used: 6, reserved: 2, inUse: 8 });

  const api = modelArts({
    'p/pool': [
      { name: resized.nodePoolName, owner: resized.requestId, count: 4 },
      { name: kept.nodePoolName, owner: kept.requestId, count: 3 },
      { name: uncounted.nodePoolName, owner: uncounted.requestId, count: 1 },
      { name: inFlight.nodePoolName, owner: inFlight.requestId, count: 2 },
      { name: 'someone-elses', count: 5 },
      // Our label but not this request's node pool name: never claimed.
      { name: 'renamed', owner: gone.requestId, count: 2 },
    ],
  });
  const report = await reconcileQuota({ policy, requests, quotas, modelArts: api, now: () => new Date('2026-11-26T12:00:00Z') });

  expect(report.unreadable).toEqual([]);
  expect(report.corrections).toEqual(
    expect.arrayContaining([
      { requestId: gone.requestId, team: 'ml-platform', flavor: 'f', from: 2, to: 0, why: 'node pool gone' },
      { requestId: resized.requestId, team: 'ml-platform', flavor: 'f', from: 1, to: 4, why: 'node count changed' },
      { requestId: uncounted.requestId, team: 'ml-platform', flavor: 'f', from: 0, to: 1, why: 'node pool found' },
    ]),
  );
  expect(report.corrections).toHaveLength(3);
  // used: 6 - 2 + 3 + 1 = 8; the reservation in flight is untouched.
  expect(await quotas.counters('ml-platform', 'f')).toMatchObject({ used: 8, reserved: 2, inUse: 10 });
  expect(await stepsOf(gone.requestId)).toEqual([
    expect.objectContaining({ id: 'quota-reconciled:2026-11-26T12:00:00.000Z', outcome: 'ok', detail: { team: 'ml-platform', flavor: 'f', from: 2, to: 0, why: 'node pool gone' } }),
  ]);
  expect(await stepsOf(kept.requestId)).toEqual([]);
  expect(await stepsOf(inFlight.requestId)).toEqual([]);

  const second = await reconcileQuota({ policy, requests, quotas, modelArts: api });
  expect(second.corrections).toEqual([]);
  expect(await quotas.counters('ml-platform', 'f')).toMatchObject({ used: 8, reserved: 2, inUse: 10 });
});

it('leaves the requests of a pool it cannot list as they are, and says which', async () => {
  const elsewhere = await stored('ACTIVE', 'use', 1, 'other-pool');
  const report = await reconcileQuota({ policy, requests, quotas, modelArts: modelArts({}, ['p/other-pool']) });
  expect(report.unreadable).toEqual([expect.stringMatching(/^p\/other-pool: ModelArts answered 500/)]);
  expect(report.corrections.find((c) => c.requestId === elsewhere.requestId)).toBeUndefined();
  expect((await quotas.shares('ml-platform')).find((s) => s.requestId === elsewhere.requestId)).toMatchObject({ kind: 'use', count: 1 });
  expect(await stepsOf(elsewhere.requestId)).toEqual([]);
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
