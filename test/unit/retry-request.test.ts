/**
 * Retrying a FAILED request, against a real table (dynalite): what it takes back, what it refuses,
 * and that two retries at once record one attempt and start one run. The workflow port records
 * the runs it is asked to start (the e2e suite, test/e2e/recovery.test.ts, runs them for real).
 */
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { Resumption } from '../../contracts/workflow';
import { parsePolicy } from '../../lambdas/config/policy';
import { NotRetryableError, OpenRequestExistsError } from '../../lambdas/domain/errors';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep } from '../../lambdas/domain/steps';
import { checkRequest, FlavorNotAllowedError, QuotaExceededError } from '../../lambdas/use-cases/check-request';
import { finalizeRequest } from '../../lambdas/use-cases/finalize-request';
import { retryRequest, type RetryDeps } from '../../lambdas/use-cases/retry-request';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';
import { untilClockPasses } from '../../local/harness/poll';

const policyOf = (limit: number, tracking: boolean) =>
  parsePolicy(
    JSON.stringify({
      nodeTracking: { enabled: tracking },
      teams: [
        {
          name: 'ml-platform',
          members: [{ email: 'alice@example.com' }],
          stages: [{ name: 'm', approvers: [{ email: 'bob@example.com' }] }],
          quotas: { f: limit },
        },
      ],
    }),
  );

const table = useTestTable();
let requests: RequestRepository;
let quotas: QuotaRepository;
let claims: ClaimRepository;
let starts: Array<{ requestId: string; resume?: Resumption }>;

beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
  quotas = new QuotaRepository(table.db, table.tableName);
  claims = new ClaimRepository(table.db, table.tableName);
});
beforeEach(() => (starts = []));

const deps = (limit = 10, tracking = true): RetryDeps => ({
  policy: policyOf(limit, tracking),
  now: () => new Date(),
  requests,
  quotas,
  claims,
  workflow: {
    start: async (requestId, resume) => {
      starts.push({ requestId, resume });
      return 'started';
    },
  },
});

let seq = 0;
/**
 * A request that failed in CreateNodePool (approved, no node pool: its quota was given back), or, with
 * `CheckNodes`, while its nodes were followed (its node pool exists).
 */
async function failedAt(resumeAt: 'CreateNodePool' | 'CheckNodes' = 'CreateNodePool'): Promise<PoolRequestRecord> {
  const id = `retry-${++seq}`;
  const created = resumeAt === 'CheckNodes' ? [newStep('node-pool-created', 'node_pool_created', 'ok')] : [];
  const record: PoolRequestRecord = {
    ...requestRecord(id),
    nodePoolName: `np-${id}`,
    status: 'FAILED',
    reason: resumeAt === 'CheckNodes' ? 'NODES_TIMEOUT' : 'MODELARTS_ERROR',
    steps: [
      newStep('submitted', 'submitted', 'ok'),
      ...created,
      newStep('failed', 'failed', 'error', { detail: { resumeAt } }),
    ],
  };
  await requests.create(record);
  return record;
}

const counters = () => quotas.counters('ml-platform', 'f');

it('records one attempt and starts one run when two retries come at once', async () => {
  const request = await failedAt();
  const before = await counters();
  const views = await Promise.all([
    retryRequest(request.requestId, 'alice@example.com', deps()),
    retryRequest(request.requestId, 'alice@example.com', deps()),
  ]);

  expect(views.map((v) => v.status)).toEqual(['PROVISIONING', 'PROVISIONING']);
  const stored = (await requests.get(request.requestId))!;
  expect(stored.steps.filter((s) => s.step === 'retried')).toHaveLength(1);
  expect(stored).toMatchObject({ retries: 1, status: 'PROVISIONING' });
  expect(stored.reason).toBeUndefined();
  // Both ask for the same run (a second start of it is a no-op): the same name, the same input.
  expect(starts).toEqual([
    { requestId: request.requestId, resume: { attempt: 1, created: null } },
    { requestId: request.requestId, resume: { attempt: 1, created: null } },
  ]);
  // The one reservation both took back.
  expect(await counters()).toMatchObject({ reserved: before.reserved + 1, inUse: before.inUse + 1 });
});

it('refuses, changing nothing, when the quota has no room now', async () => {
  const request = await failedAt();
  // Another request holds a node, and the limit is what is in use: the quota allows the count, but not now.
  expect(await quotas.reserve({ team: 'ml-platform', flavor: 'f', requestId: `holder-${seq}`, count: 1 }, 1_000)).toBe(
    'reserved',
  );
  const before = await counters();
  const refused = retryRequest(request.requestId, 'alice@example.com', deps(before.inUse));
  await expect(refused).rejects.toThrow(NotRetryableError);
  await expect(refused).rejects.toThrow(/has no room for 1 now \(QUOTA_EXCEEDED\)/);
  expect(await counters()).toEqual(before);
  expect((await requests.get(request.requestId))!.status).toBe('FAILED');
  expect(starts).toEqual([]);
});

it('refuses a request that failed NODE_POOL_CONFLICT, telling to choose another name, changing nothing', async () => {
  const failed = await failedAt();
  await requests.create({ ...failed, requestId: `${failed.requestId}-conflict`, reason: 'NODE_POOL_CONFLICT' });
  const before = await counters();
  const refused = retryRequest(`${failed.requestId}-conflict`, 'alice@example.com', deps());
  await expect(refused).rejects.toThrow(NotRetryableError);
  await expect(refused).rejects.toThrow(
    `a node pool named ${failed.nodePoolName} exists in pool pool that this request did not create, so a retry would fail again; choose another name and submit the request again`,
  );
  expect(await counters()).toEqual(before);
  const stored = (await requests.get(`${failed.requestId}-conflict`))!;
  expect({ status: stored.status, retries: stored.retries }).toEqual({ status: 'FAILED', retries: undefined });
  expect(starts).toEqual([]);
});

it('refuses when another open request took the node-pool name, and gives the reservation back', async () => {
  const request = await failedAt();
  const other = {
    ...requestRecord(`other-${seq}`),
    nodePoolName: request.nodePoolName,
    status: 'AWAITING_APPROVAL' as const,
  };
  await requests.create(other);
  const name = { projectId: request.projectId, poolName: request.poolName, nodePoolName: request.nodePoolName };
  expect(await claims.claimNodePoolName(name, other.requestId, async () => false, new Date())).toEqual({ ok: true });
  const before = await counters();

  await expect(retryRequest(request.requestId, 'alice@example.com', deps())).rejects.toThrow(OpenRequestExistsError);
  expect(await counters()).toEqual(before);
  expect((await requests.get(request.requestId))!.status).toBe('FAILED');
});

it('answers 409 for a request whose retry has finished (CREATED without node tracking), and 404 to someone else', async () => {
  const request = await failedAt();
  await retryRequest(request.requestId, 'alice@example.com', deps(10, false));
  await requests.recordStep(request.requestId, newStep('node-pool-created', 'node_pool_created', 'ok'), {
    status: 'CREATED',
  });
  starts = [];
  await expect(retryRequest(request.requestId, 'alice@example.com', deps(10, false))).rejects.toThrow(
    /is CREATED: only a FAILED request can be retried/,
  );
  await expect(retryRequest(request.requestId, 'mallory@example.com', deps(10, false))).rejects.toThrow(/not found/);
  expect(starts).toEqual([]);
});

it('names the quota itself when the request is larger than the team may ever hold', async () => {
  const request = await failedAt();
  await expect(retryRequest(request.requestId, 'alice@example.com', deps(0))).rejects.toThrow(
    /1 node\(s\) exceed the team's quota of 0 f node\(s\) \(QUOTA_EXCEEDED\)/,
  );
  expect((await requests.get(request.requestId))!.status).toBe('FAILED');
});

const share = (request: PoolRequestRecord, attempt?: number) => ({
  team: request.team,
  flavor: request.flavor,
  requestId: request.requestId,
  count: request.count,
  ...(attempt ? { attempt } : {}),
});

it("takes over the reservation the failed run still holds, counting its nodes once, out of that run's reach", async () => {
  const request = await failedAt();
  // The failed run's Finalize recorded FAILED but has not given the nodes back (yet, or ever: it failed).
  expect(await quotas.reserve(share(request), 1_000)).toBe('reserved');
  const before = await counters();

  const view = await retryRequest(request.requestId, 'alice@example.com', deps());

  expect(view.status).toBe('PROVISIONING');
  expect(starts).toEqual([{ requestId: request.requestId, resume: { attempt: 1, created: null } }]);
  expect(await counters()).toEqual(before);
  expect(await quotas.reserve(share(request, 1), 1_000)).toBe('held');
  // The failed run's own release now finds nothing of its own.
  await quotas.release(share(request));
  expect(await counters()).toEqual(before);
});

it("takes over the reservation of a failed node tracking's run that was never settled, as use", async () => {
  const record = await failedAt('CheckNodes');
  const id = record.requestId;
  // Its Finalize recorded FAILED, then could not commit (throttled until its retries ran out).
  expect(await quotas.reserve(share(record), 1_000)).toBe('reserved');
  const before = await counters();

  await retryRequest(id, 'alice@example.com', deps());

  expect(await counters()).toEqual({ reserved: before.reserved - 1, used: before.used + 1, inUse: before.inUse });
  expect(await quotas.shares('ml-platform')).toContainEqual({ ...share(record), kind: 'use' });
});

it('retries a request whose node pool reconciliation counts already, without reserving its nodes again', async () => {
  const request = await failedAt();
  // Reconciliation found the node pool the failed create made after all, and counts it.
  expect(await quotas.reconcileUse(share(request), 0, 1)).toBe(true);
  const before = await counters();

  const view = await retryRequest(request.requestId, 'alice@example.com', deps());

  expect(view.status).toBe('PROVISIONING');
  expect(starts).toEqual([{ requestId: request.requestId, resume: { attempt: 1, created: null } }]);
  // Counted once: no reservation on top of the use.
  expect(await counters()).toEqual(before);
  expect(await quotas.shares('ml-platform')).toContainEqual({ ...share(request), kind: 'use' });
});

it('keeps a late Finalize of the failed run from failing the retried run or giving back its nodes', async () => {
  const request = await failedAt();
  await retryRequest(request.requestId, 'alice@example.com', deps());
  const before = await counters();
  const told: string[] = [];
  const finalizeDeps = {
    requests,
    approvals: new ApprovalRepository(table.db, table.tableName),
    quotas,
    notifier: {
      showSettled: async () => undefined,
      tellRequester: async (r: PoolRequestRecord) => void told.push(r.status),
    },
    nodeTracking: true,
  };

  // Step Functions retries the first run's Finalize (its answer was lost): attempt 0.
  const late = await finalizeRequest(
    { requestId: request.requestId, attempt: 0, approval: null, error: { Error: 'ModelArtsError' }, created: null },
    finalizeDeps,
  );

  expect(late).toEqual({ status: 'PROVISIONING' });
  const stored = (await requests.get(request.requestId))!;
  expect(stored).toMatchObject({ status: 'PROVISIONING', retries: 1 });
  expect(stored.steps.filter((s) => s.step === 'failed')).toHaveLength(1);
  expect(await counters()).toEqual(before);
  expect(await quotas.reserve(share(request, 1), 1_000)).toBe('held');
  expect(told).toEqual([]);

  // The retried run's own Finalize acts: failure `failed:1`, its reservation given back.
  await finalizeRequest(
    { requestId: request.requestId, attempt: 1, approval: null, error: { Error: 'ModelArtsError' }, created: null },
    finalizeDeps,
  );
  const after = (await requests.get(request.requestId))!;
  expect(after.status).toBe('FAILED');
  expect(after.steps.find((s) => s.id === 'failed:1')?.detail).toMatchObject({ resumeAt: 'CreateNodePool' });
  expect(await counters()).toMatchObject({ reserved: before.reserved - 1, inUse: before.inUse - 1 });
  expect((await quotas.shares('ml-platform')).filter((s) => s.requestId === request.requestId)).toEqual([]);
  expect(told).toEqual(['FAILED']);
});

describe("a retried run's own reservation", () => {
  const noModelArts = {
    showPool: async () => {
      throw new Error('a retried run reads no capacity');
    },
    listResourceFlavors: async () => {
      throw new Error('a retried run reads no capacity');
    },
    showNodePool: async () => {
      throw new Error('a retried run reads no capacity');
    },
  };
  const finalizeDeps = () => ({
    requests,
    approvals: new ApprovalRepository(table.db, table.tableName),
    quotas,
    notifier: { showSettled: async () => undefined, tellRequester: async () => undefined },
    nodeTracking: true,
  });
  const check = (requestId: string, limit = 10) =>
    checkRequest(requestId, { policy: policyOf(limit, true), requests, quotas, modelArts: noModelArts });

  it('is made again by the run when a concurrent call for the same attempt gave it back', async () => {
    const request = await failedAt();
    // Call A reserves for attempt 1; call B finds it held, goes on and starts run 1; then A, whose
    // name claim failed, gives back what it reserved.
    expect(await quotas.reserveForAttempt({ ...share(request), attempt: 1 }, 1_000)).toBe('reserved');
    await retryRequest(request.requestId, 'alice@example.com', deps());
    const before = await counters();
    await quotas.release(share(request, 1));
    expect(await counters()).toMatchObject({ reserved: before.reserved - 1 });

    // Run 1's CheckRequest makes sure of its nodes before it creates anything.
    expect(await check(request.requestId)).toMatchObject({ status: 'approved' });
    expect(await counters()).toEqual(before);
    expect(await quotas.reserve(share(request, 1), 1_000)).toBe('held');
  });

  it('confirms a reservation it finds held, so that a reconciliation that read it before leaves it', async () => {
    const request = await failedAt();
    await retryRequest(request.requestId, 'alice@example.com', deps());
    const [read] = (await quotas.shares('ml-platform')).filter((s) => s.requestId === request.requestId);
    await untilClockPasses(read.heldAt!);

    expect(await check(request.requestId)).toMatchObject({ status: 'approved' });

    const [confirmed] = (await quotas.shares('ml-platform')).filter((s) => s.requestId === request.requestId);
    expect(confirmed.heldAt! > read.heldAt!).toBe(true);
    expect(await quotas.release(read)).toBe(false);
  });

  it('fails the run FLAVOR_NOT_ALLOWED when the team may no longer use the flavor', async () => {
    const request = await failedAt();
    await retryRequest(request.requestId, 'alice@example.com', deps());
    const withoutFlavor = parsePolicy(
      JSON.stringify({
        teams: [
          {
            name: 'ml-platform',
            members: [{ email: 'alice@example.com' }],
            stages: [{ name: 'm', approvers: [{ email: 'bob@example.com' }] }],
            quotas: { g: 1 },
          },
        ],
      }),
    );
    await expect(
      checkRequest(request.requestId, { policy: withoutFlavor, requests, quotas, modelArts: noModelArts }),
    ).rejects.toThrow(FlavorNotAllowedError);
    await finalizeRequest(
      {
        requestId: request.requestId,
        attempt: 1,
        approval: null,
        error: { Error: 'FlavorNotAllowedError' },
        created: null,
      },
      finalizeDeps(),
    );
    expect(await requests.get(request.requestId)).toMatchObject({ status: 'FAILED', reason: 'FLAVOR_NOT_ALLOWED' });
  });

  it('fails the run QUOTA_EXCEEDED, retryable, when it is gone and the room with it', async () => {
    const request = await failedAt();
    await retryRequest(request.requestId, 'alice@example.com', deps());
    await quotas.release(share(request, 1));
    expect(
      await quotas.reserve({ team: 'ml-platform', flavor: 'f', requestId: `filler-${seq}`, count: 1 }, 1_000),
    ).toBe('reserved');
    const full = (await counters()).inUse;

    await expect(check(request.requestId, full)).rejects.toThrow(QuotaExceededError);
    await finalizeRequest(
      {
        requestId: request.requestId,
        attempt: 1,
        approval: null,
        error: { Error: 'QuotaExceededError' },
        created: null,
      },
      finalizeDeps(),
    );
    const failed = (await requests.get(request.requestId))!;
    expect(failed).toMatchObject({ status: 'FAILED', reason: 'QUOTA_EXCEEDED' });
    expect(failed.steps.find((s) => s.id === 'failed:1')?.detail).toMatchObject({ resumeAt: 'CreateNodePool' });
  });
});

it('refuses as superseded a retry at node tracking once a later request on the node pool has finished, counting nothing', async () => {
  const record = await failedAt('CheckNodes');
  const name = { projectId: record.projectId, poolName: record.poolName, nodePoolName: record.nodePoolName };
  // A delete took the node pool after the create failed, and has finished: the nodes are gone.
  const deleted = { ...requestRecord(`deleted-${seq}`), nodePoolName: record.nodePoolName, status: 'DELETED' as const };
  await requests.create(deleted);
  expect(await claims.claimNodePoolName(name, deleted.requestId, async () => false, new Date())).toEqual({ ok: true });
  const before = await counters();

  const retry = retryRequest(record.requestId, 'alice@example.com', deps());

  await expect(retry).rejects.toThrow(NotRetryableError);
  await expect(retry).rejects.toThrow(/superseded/);
  expect(await counters()).toEqual(before);
  expect((await requests.get(record.requestId))!.status).toBe('FAILED');
});
