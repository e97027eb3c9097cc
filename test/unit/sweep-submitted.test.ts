/** The sweep of runs that never started, against a real table (dynalite) and its status index. */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { Resumption } from '../../contracts/workflow';
import type { StartOutcome } from '../../lambdas/adapters/workflow';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep, stepId } from '../../lambdas/domain/steps';
import { SUBMITTED_GRACE_MS, sweepSubmitted } from '../../lambdas/use-cases/sweep-submitted';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const NOW = new Date('2026-11-26T12:00:00.000Z');
const tracking = { enabled: true, pollIntervalSeconds: 7, timeoutSeconds: 600 };

const table = useTestTable();
let requests: RequestRepository;
let starts: Array<{ requestId: string; resume?: Resumption }>;

beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
});
beforeEach(() => (starts = []));

const ago = (ms: number) => new Date(NOW.getTime() - ms);

async function stored(id: string, status: PoolRequestRecord['status'], ageMs: number): Promise<void> {
  const createdAt = ago(ageMs).toISOString();
  await requests.create({ ...requestRecord(id), nodePoolName: `np-${id}`, status, createdAt, updatedAt: createdAt });
}

/** A request retried `ageMs` ago (attempt 2, after an earlier retry): PROVISIONING, or CREATED at CheckNodes. */
async function retried(id: string, resumeAt: 'CreateNodePool' | 'CheckNodes', ageMs: number): Promise<void> {
  const status = resumeAt === 'CheckNodes' ? 'CREATED' : 'PROVISIONING';
  await requests.create({
    ...requestRecord(id),
    nodePoolName: `np-${id}`,
    status,
    retries: 2,
    steps: [
      newStep('submitted', 'submitted', 'ok'),
      newStep(stepId.retried(1), 'retried', 'ok', {
        at: ago(3_600_000),
        detail: { attempt: 1, resumeAt: 'CreateNodePool' },
      }),
      // Retried when nodes were polled every 3 s (the policy says 7 now): its run was started with 3.
      newStep(stepId.retried(2), 'retried', 'ok', {
        at: ago(ageMs),
        detail: { attempt: 2, resumeAt, pollIntervalSeconds: 3 },
      }),
    ],
  });
}

/** Step Functions as the sweep meets it: `-broken` throttled, `-running` a run under way, `-ended` one that has ended. */
const workflow = {
  async start(requestId: string, resume?: Resumption): Promise<StartOutcome> {
    if (requestId.endsWith('broken')) throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
    starts.push({ requestId, ...(resume ? { resume } : {}) });
    if (requestId.endsWith('running')) return 'running';
    return requestId.endsWith('ended') ? 'ended' : 'started';
  },
};

it('starts every request SUBMITTED for more than a minute, leaves newer and later ones alone, and reports starts that fail', async () => {
  await stored('old-1', 'SUBMITTED', SUBMITTED_GRACE_MS + 1_000);
  await stored('old-2', 'SUBMITTED', 3_600_000);
  await stored('old-broken', 'SUBMITTED', 120_000);
  await stored('fresh', 'SUBMITTED', 5_000);
  // The status index lags the item: this one is still listed as SUBMITTED but has moved on.
  await stored('moved-on', 'SUBMITTED', 3_600_000);
  await table.db.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: { pk: 'REQUEST#moved-on', sk: 'META' },
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'AWAITING_APPROVAL' },
    }),
  );
  expect((await requests.page('byStatus', 'SUBMITTED', { limit: 100 })).requests.map((r) => r.requestId)).toContain(
    'moved-on',
  );

  const report = await sweepSubmitted({ requests, workflow, nodeTracking: tracking, now: () => NOW });

  expect([...report.started].sort()).toEqual(['old-1', 'old-2']);
  expect(starts.map((s) => s.requestId).sort()).toEqual(['old-1', 'old-2']);
  expect(starts.every((s) => s.resume === undefined)).toBe(true);
  expect(report.failed).toEqual(['old-broken: ThrottlingException']);
});

it('starts the run of every retry older than a minute that has none, with the input the retry gave it, and leaves the others alone', async () => {
  await retried('r-create', 'CreateNodePool', SUBMITTED_GRACE_MS + 1_000);
  await retried('r-nodes', 'CheckNodes', 600_000);
  await retried('r-fresh', 'CreateNodePool', 5_000);
  await retried('r-broken', 'CreateNodePool', 120_000);
  await retried('r-running', 'CheckNodes', 600_000);
  await retried('r-ended', 'CreateNodePool', 600_000);
  // Provisioning without a retry: its first run is under way (it passed CheckRequest).
  await stored('first-run', 'PROVISIONING', 3_600_000);

  const report = await sweepSubmitted({ requests, workflow, nodeTracking: tracking, now: () => NOW });

  // (The SUBMITTED requests of the test before are still there, and started again.)
  expect([...report.resumed].sort()).toEqual(['r-create-retry-2', 'r-nodes-retry-2']);
  // A run under way is nobody's concern; one that ended while its request waits is reported.
  expect(report.ended).toEqual(['r-ended-retry-2']);
  expect(report.failed.filter((f) => f.startsWith('r-'))).toEqual(['r-broken-retry-2: ThrottlingException']);
  expect(starts.map((s) => s.requestId)).not.toContain('first-run');
  const retriedStarts = starts.filter((s) => ['r-create', 'r-nodes'].includes(s.requestId));
  expect(retriedStarts.sort((a, b) => a.requestId.localeCompare(b.requestId))).toEqual([
    { requestId: 'r-create', resume: { attempt: 2, created: null } },
    {
      requestId: 'r-nodes',
      resume: { attempt: 2, created: { nodePoolName: 'np-r-nodes', track: true, waitSeconds: 3 } },
    },
  ]);
});

it('leaves CREATED requests alone when nodes are not followed (CREATED is where they end)', async () => {
  await retried('r-untracked', 'CheckNodes', 600_000);
  const report = await sweepSubmitted({
    requests,
    workflow,
    nodeTracking: { ...tracking, enabled: false },
    now: () => NOW,
  });
  expect(report.resumed).not.toContain('r-untracked-retry-2');
  expect(starts.map((s) => s.requestId)).not.toContain('r-untracked');
});
