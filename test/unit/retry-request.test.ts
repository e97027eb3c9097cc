/**
 * Retrying a FAILED request, against a real table (dynalite): what it takes back, what it refuses,
 * and that two retries at once record one attempt and start one run. The workflow port records
 * the runs it is asked to start (the e2e suite, test/e2e/recovery.test.ts, runs them for real).
 */
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { Resumption } from '../../lambdas/adapters/workflow';
import { parsePolicy } from '../../lambdas/config/policy';
import { NotRetryableError, OpenRequestExistsError } from '../../lambdas/domain/errors';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep } from '../../lambdas/domain/steps';
import { retryRequest, type RetryDeps } from '../../lambdas/use-cases/retry-request';
import { startTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const policyOf = (limit: number, tracking: boolean) =>
  parsePolicy(
    JSON.stringify({
      nodeTracking: { enabled: tracking },
      teams: [{ name: 'ml-platform', members: [{ email: 'alice@example.com' }], stages: [{ name: 'm', approvers: [{ email: 'bob@example.com' }] }], quotas: { f: limit } }],
    }),
  );

let table: Awaited<ReturnType<typeof startTestTable>>;
let requests: RequestRepository;
let quotas: QuotaRepository;
let claims: ClaimRepository;
let starts: Array<{ requestId: string; resume?: Resumption }>;

beforeAll(async () => {
  table = await startTestTable();
  requests = new RequestRepository(table.db, table.tableName);
  quotas = new QuotaRepository(table.db, table.tableName);
  claims = new ClaimRepository(table.db, table.tableName);
});
afterAll(() => table.stop());
beforeEach(() => (starts = []));

const deps = (limit = 10, tracking = true): RetryDeps => ({
  policy: policyOf(limit, tracking),
  requests,
  quotas,
  claims,
  workflow: { start: async (requestId, resume) => void starts.push({ requestId, resume }) },
});

let seq = 0;
/** A request that failed in CreateNodePool (approved, no node pool): its quota was given back. */
async function failedInCreate(): Promise<PoolRequestRecord> {
  const id = `retry-${++seq}`;
  const record: PoolRequestRecord = {
    ...requestRecord(id),
    nodePoolName: `np-${id}`,
    status: 'FAILED',
    reason: 'MODELARTS_ERROR',
    steps: [newStep('submitted', 'submitted', 'ok'), newStep('failed', 'failed', 'error', { detail: { error: 'ModelArtsError', resumeAt: 'CreateNodePool' } })],
  };
  await requests.create(record);
  return record;
}

const counters = () => quotas.counters('ml-platform', 'f');

it('records one attempt and starts one run when two retries come at once', async () => {
  const request = await failedInCreate();
  const before = await counters();
  const views = await Promise.all([retryRequest(request.requestId, 'alice@example.com', deps()), retryRequest(request.requestId, 'alice@example.com', deps())]);

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
  const request = await failedInCreate();
  const before = await counters();
  await expect(retryRequest(request.requestId, 'alice@example.com', deps(before.inUse))).rejects.toThrow(NotRetryableError);
  expect(await counters()).toEqual(before);
  expect((await requests.get(request.requestId))!.status).toBe('FAILED');
  expect(starts).toEqual([]);
});

it('refuses when another open request took the node-pool name, and gives the reservation back', async () => {
  const request = await failedInCreate();
  const other = { ...requestRecord(`other-${seq}`), nodePoolName: request.nodePoolName, status: 'AWAITING_APPROVAL' as const };
  await requests.create(other);
  const name = { projectId: request.projectId, poolName: request.poolName, nodePoolName: request.nodePoolName };
  expect(await claims.claimNodePoolName(name, other.requestId, async () => false, new Date())).toEqual({ ok: true });
  const before = await counters();

  await expect(retryRequest(request.requestId, 'alice@example.com', deps())).rejects.toThrow(OpenRequestExistsError);
  expect(await counters()).toEqual(before);
  expect((await requests.get(request.requestId))!.status).toBe('FAILED');
});

it('answers 409 for a request whose retry has finished (CREATED without node tracking), and 404 to someone else', async () => {
  const request = await failedInCreate();
  await retryRequest(request.requestId, 'alice@example.com', deps(10, false));
  await requests.recordStep(request.requestId, newStep('node-pool-created', 'node_pool_created', 'ok'), { status: 'CREATED' });
  starts = [];
  await expect(retryRequest(request.requestId, 'alice@example.com', deps(10, false))).rejects.toThrow(/is CREATED: only a FAILED request can be retried/);
  await expect(retryRequest(request.requestId, 'mallory@example.com', deps(10, false))).rejects.toThrow(/not found/);
  expect(starts).toEqual([]);
});
