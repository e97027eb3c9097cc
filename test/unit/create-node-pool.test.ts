/**
 * CreateNodePool against a real table (dynalite), with ModelArts answering as it does when it accepts a
 * create: what the request and the quota say the moment the step returns, before any Finalize.
 */
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { NodePoolRequest } from '../../lambdas/domain/nodepool-request';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { createNodePool, type CreateDeps } from '../../lambdas/use-cases/create-node-pool';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const table = useTestTable();
let requests: RequestRepository;
let quotas: QuotaRepository;

beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
  quotas = new QuotaRepository(table.db, table.tableName);
});

/** ModelArts without the node pool, then with whatever was created. */
function modelArtsAccepting(): CreateDeps['modelArts'] & { created: NodePoolRequest[] } {
  const created: NodePoolRequest[] = [];
  return {
    created,
    showNodePool: async () => created[0],
    createNodePool: async (_project, _pool, body) => void created.push(body),
  };
}

const deps = (modelArts: CreateDeps['modelArts'], tracking: boolean): CreateDeps => ({
  requests,
  approvals: new ApprovalRepository(table.db, table.tableName),
  claims: new ClaimRepository(table.db, table.tableName),
  quotas,
  modelArts,
  publicBaseUrl: 'http://127.0.0.1:3000',
  linkKey: 'k'.repeat(64),
  tracking: { enabled: tracking, pollIntervalSeconds: 5, timeoutSeconds: 600 },
});

async function approvedHolding(id: string, retries = 0): Promise<PoolRequestRecord> {
  const record: PoolRequestRecord = {
    ...requestRecord(id),
    flavor: `f-${id}`,
    status: 'PROVISIONING',
    ...(retries ? { retries } : {}),
  };
  await requests.create(record);
  const share = { team: record.team, flavor: record.flavor, requestId: id, count: 1, attempt: retries };
  expect(await quotas.reserve(share, 10)).toBe('reserved');
  return record;
}

it.each([
  ['without node tracking (CREATED is final)', false],
  ['with node tracking', true],
])('counts the nodes as use before the request says CREATED, %s', async (_title, tracking) => {
  const record = await approvedHolding(`cnp-${String(tracking)}`);
  const modelArts = modelArtsAccepting();

  await createNodePool(record.requestId, deps(modelArts, tracking));

  expect(modelArts.created).toHaveLength(1);
  expect((await requests.get(record.requestId))!.status).toBe('CREATED');
  expect(await quotas.counters(record.team, record.flavor)).toMatchObject({ reserved: 0, used: 1, inUse: 1 });
});

it("commits the retried run's own reservation, once, when a lost answer makes the step run again", async () => {
  const record = await approvedHolding('cnp-retried', 2);
  const modelArts = modelArtsAccepting();

  await createNodePool(record.requestId, deps(modelArts, true));
  await createNodePool(record.requestId, deps(modelArts, true));

  expect(modelArts.created).toHaveLength(1);
  expect(await quotas.counters(record.team, record.flavor)).toMatchObject({ reserved: 0, used: 1, inUse: 1 });
});
