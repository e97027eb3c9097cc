/** The sweep of requests left SUBMITTED, against a real table (dynalite) and its status index. */
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { SUBMITTED_GRACE_MS, sweepSubmitted } from '../../lambdas/use-cases/sweep-submitted';
import { startTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const NOW = new Date('2026-11-26T12:00:00.000Z');

let table: Awaited<ReturnType<typeof startTestTable>>;
let requests: RequestRepository;

beforeAll(async () => {
  table = await startTestTable();
  requests = new RequestRepository(table.db, table.tableName);
});
afterAll(() => table.stop());

async function stored(id: string, status: PoolRequestRecord['status'], ageMs: number): Promise<void> {
  const createdAt = new Date(NOW.getTime() - ageMs).toISOString();
  await requests.create({ ...requestRecord(id), status, createdAt, updatedAt: createdAt });
}

it('starts every request SUBMITTED for more than a minute, leaves newer and later ones alone, and reports starts that fail', async () => {
  await stored('old-1', 'SUBMITTED', SUBMITTED_GRACE_MS + 1_000);
  await stored('old-2', 'SUBMITTED', 3_600_000);
  await stored('old-broken', 'SUBMITTED', 120_000);
  await stored('fresh', 'SUBMITTED', 5_000);
  await stored('moved-on', 'AWAITING_APPROVAL', 3_600_000);
  const startedIds: string[] = [];
  const workflow = {
    async start(requestId: string) {
      if (requestId === 'old-broken') throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
      startedIds.push(requestId);
    },
  };

  const report = await sweepSubmitted({ requests, workflow, now: () => NOW });

  expect([...report.started].sort()).toEqual(['old-1', 'old-2']);
  expect(startedIds.sort()).toEqual(['old-1', 'old-2']);
  expect(report.failed).toEqual(['old-broken: ThrottlingException']);
});
