/**
 * Load with faults: 500 submissions from 50 clients at once while the ModelArts simulator answers
 * 10% of the calls with 429 (throttled, nothing done) and 5% with 500 after doing the work (the
 * create happened, the answer was lost). A test approver approves each request. Every request must
 * reach ACTIVE with exactly its seven steps, each once; ModelArts must hold exactly one node pool per
 * request; the quota counter must hold exactly what the requests use; every timeline is in time order.
 *
 * The workflow's ModelArts Retry backs off up to 30 s; this run scales the local engine's retry waits
 * to 2% (POOLGATE_SFN_RETRY_SCALE): what is retried, and how often, is the definition's own.
 */
import { startStack, type RunningStack } from '../../local/harness/stack';
import { OutboxIndex } from '../../local/harness/outbox';
import { eventually } from '../../local/harness/poll';
import {
  exampleBody,
  formFields,
  getRequest,
  HAPPY_PATH_STEPS,
  openLink,
  postDecision,
  submit,
} from '../../local/harness/requests';
import { describeExecution } from '../../local/harness/step-functions';
import { inParallel, nodePools, quotaItem, setFaults, shares } from './support/helpers';

jest.setTimeout(900_000);

const REQUESTS = 500;
const CONCURRENCY = 50;
const FLAVOR = 'modelarts.vm.2u4g.dcc';
const FAULTS = {
  rules: [
    { status: 429, rate: 0.1 },
    { status: 500, rate: 0.05, afterServing: true },
  ],
};

const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 600 },
  teams: [
    {
      name: 'load',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: 5000 },
    },
  ],
};

let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({
    policy,
    env: {
      POOLGATE_SIMULATOR_FAULTS: JSON.stringify(FAULTS),
      POOLGATE_SFN_RETRY_SCALE: '0.02',
      POOLGATE_NODE_READY_DELAY_MS: '200',
    },
  });
});
afterAll(() => stack?.stop());

it(`takes ${REQUESTS} requests from ${CONCURRENCY} clients to ACTIVE through 10% 429 and 5% 500 from ModelArts, each once`, async () => {
  const alice = await stack.token('alice@example.com');
  const outbox = new OutboxIndex(stack.endpoints.outbox);
  // One or two nodes each (a physical pool: maxCount = count), so the quota sum means something.
  const nodesOf = (i: number) => 1 + (i % 2);

  // Submit and approve: each client submits, waits for the approver's mail, and approves.
  const requestIds = await inParallel(
    Array.from({ length: REQUESTS }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const body = exampleBody(`load-${i}`, (b) => {
        b.spec.resources.count = nodesOf(i);
        b.spec.resources.maxCount = nodesOf(i);
      });
      const submitted = await submit(stack, alice, body);
      expect(submitted.status).toBe(202);
      const requestId = submitted.json.requestId as string;
      const link = await eventually(
        () => outbox.link(requestId, 'bob@example.com'),
        `the approval mail of load-${i}`,
        300_000,
        100,
      );
      const page = await openLink(link);
      expect(page.status).toBe(200);
      expect((await postDecision(link, formFields(page.html), 'approve')).status).toBe(200);
      return requestId;
    },
  );

  // Every execution ends, and ends well.
  const executions = await inParallel(requestIds, 10, (id) =>
    eventually(
      async () => {
        const e = await describeExecution(stack.endpoints.stepFunctions, id);
        return e.status === 'RUNNING' ? undefined : e;
      },
      `execution ${id} to end`,
      600_000,
      250,
    ),
  );
  expect(executions.filter((e) => e.status !== 'SUCCEEDED')).toEqual([]);

  // The faults really happened, at about the rates asked (the stack made thousands of ModelArts calls).
  const counts = await setFaults(stack, { rules: [] });
  expect(counts.calls).toBeGreaterThan(REQUESTS * 4);
  expect(counts.injected[0] / counts.calls).toBeGreaterThan(0.07);
  expect(counts.injected[1] / counts.calls).toBeGreaterThan(0.03);

  // Every request ACTIVE, with each step exactly once, in order.
  const requests = await inParallel(requestIds, 10, async (id) => (await getRequest(stack, alice, id)).json);
  // (Any request that did not make it, with the step that says why.)
  expect(
    requests
      .filter((r) => r.status !== 'ACTIVE')
      .map((r) => ({ id: r.requestId, status: r.status, last: r.steps.at(-1) })),
  ).toEqual([]);
  for (const r of requests) {
    expect({ id: r.requestId, status: r.status, steps: r.steps.map((s) => s.step) }).toEqual({
      id: r.requestId,
      status: 'ACTIVE',
      steps: HAPPY_PATH_STEPS,
    });
  }

  // Every timeline reads oldest first: the steps of one write, and of writes one after another, in time order.
  const outOfOrder = requests.filter((r) => r.steps.some((s, i) => i > 0 && s.at < r.steps[i - 1].at));
  expect(outOfOrder.map((r) => ({ id: r.requestId, steps: r.steps.map((s) => `${s.step}@${s.at}`) }))).toEqual([]);

  // Exactly one node pool per request, carrying its request's label and counts.
  const pools = await nodePools(stack);
  expect(pools).toHaveLength(REQUESTS);
  const byName = new Map(pools.map((p) => [p.metadata.name, p]));
  expect(byName.size).toBe(REQUESTS);
  requestIds.forEach((id, i) => {
    const pool = byName.get(`load-${i}`);
    expect(pool?.spec.resources.labels?.['poolgate/request-id']).toBe(id);
    expect(pool?.spec.resources.count).toBe(nodesOf(i));
  });

  // The quota counter holds exactly what the requests use: nothing reserved, every node in use once.
  const quota = await quotaItem(stack, 'load', FLAVOR);
  const total = requestIds.reduce((sum, _id, i) => sum + nodesOf(i), 0);
  expect({ inUse: quota.inUse, used: quota.used, reserved: quota.reserved }).toEqual({
    inUse: total,
    used: total,
    reserved: 0,
  });
  expect(shares(quota, 'hold#').size).toBe(0);
  expect(shares(quota, 'use#')).toEqual(new Map(requestIds.map((id, i) => [id, nodesOf(i)])));

  expect(stack.output()).not.toMatch(/unexpected error/);
});
