/**
 * Crash and restart: the local stack is killed (SIGKILL) while five requests wait for approval and
 * one is being provisioned: ModelArts has stored its node pool but its answer has not come back
 * (the simulator holds it). After a restart on the same data, the links mailed before the crash still
 * decide, every request finishes, and the node pool in flight is recognised, not created twice.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type RunningStack } from '../../local/harness/stack';
import { OutboxIndex } from '../../local/harness/outbox';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, getRequest, HAPPY_PATH_STEPS, submit } from '../../local/harness/requests';
import { describeExecution } from '../../local/harness/step-functions';
import { inParallel, nodePools, quotaItem, setFaults, shares } from './support/helpers';

jest.setTimeout(300_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 600 },
  teams: [
    {
      name: 'crash',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: 100 },
    },
  ],
};
const env = { POOLGATE_NODE_READY_DELAY_MS: '200' };

let stack: RunningStack | undefined;
afterAll(async () => {
  await stack?.stop();
  if (stack) rmSync(stack.home, { recursive: true, force: true });
});

interface SimCall {
  readonly body: string;
  readonly status: number;
}

async function createCalls(s: RunningStack, nodePool: string): Promise<SimCall[]> {
  const { calls } = (await (await fetch(`${s.endpoints.modelArts}/_sim/calls`)).json()) as { calls: SimCall[] };
  return calls.filter((c) => (JSON.parse(c.body) as { metadata: { name: string } }).metadata.name === nodePool);
}

it('finishes every request after a SIGKILL during approval waits and during a create, without a second node pool', async () => {
  stack = await startStack({ policy, env });
  const alice = await stack.token('alice@example.com');
  const outbox = new OutboxIndex(stack.endpoints.outbox);
  const names = ['crash-provisioning', ...Array.from({ length: 5 }, (_, i) => `crash-waiting-${i}`)];
  const ids = await Promise.all(
    names.map(async (name) => {
      const response = await submit(stack!, alice, exampleBody(name));
      expect(response.status).toBe(202);
      return response.json.requestId as string;
    }),
  );
  const links = await inParallel(ids, 6, (id) =>
    eventually(() => outbox.link(id, 'bob@example.com'), `the approval mail of ${id}`, 60_000),
  );

  // ModelArts stores the next node pool at once but holds its answer for a minute.
  await setFaults(stack, { rules: [{ rate: 1, operations: ['create'], delayMs: 60_000 }] });
  expect((await decide(links[0], 'approve')).status).toBe(200);
  await eventually(
    async () => ((await createCalls(stack!, names[0])).length === 1 ? true : undefined),
    'the create to reach ModelArts',
  );
  for (const id of ids.slice(1)) expect((await getRequest(stack, alice, id)).json.status).toBe('AWAITING_APPROVAL');

  const home = stack.home;
  await stack.stop('SIGKILL', true);
  stack = await startStack({ home, policy, env });
  const restarted = stack;

  // The links were mailed before the crash: same path and signature, the new port.
  const relink = (link: string) => `${restarted.endpoints.publicUrl}${new URL(link).pathname}${new URL(link).search}`;
  expect((await decide(relink(links[1]), 'reject')).status).toBe(200);
  await inParallel(links.slice(2), 4, async (link) => expect((await decide(relink(link), 'approve')).status).toBe(200));

  const executions = await inParallel(ids, 6, (id) =>
    eventually(
      async () => {
        const e = await describeExecution(restarted.endpoints.stepFunctions, id);
        return e.status === 'RUNNING' ? undefined : e;
      },
      `the execution of ${id} to end`,
      120_000,
      100,
    ),
  );
  expect(executions.map((e) => e.status)).toEqual(ids.map(() => 'SUCCEEDED'));

  const requests = await inParallel(ids, 6, async (id) => (await getRequest(restarted, alice, id)).json);
  const outcome = (r: (typeof requests)[number]) => ({
    status: r.status,
    reason: r.reason,
    steps: r.steps.map((s) => s.step),
  });
  expect(outcome(requests[1])).toEqual({
    status: 'REJECTED',
    reason: 'APPROVER_REJECTED',
    steps: ['submitted', 'capacity_checked', 'quota_checked', 'approval_requested', 'rejected'],
  });
  for (const r of [requests[0], ...requests.slice(2)])
    expect(outcome(r)).toEqual({ status: 'ACTIVE', reason: undefined, steps: HAPPY_PATH_STEPS });
  // The node pool stored before the crash was found by its label, not created again.
  expect(requests[0].steps.find((s) => s.step === 'node_pool_created')).toMatchObject({
    detail: { alreadyExisted: true },
  });
  expect(await createCalls(restarted, names[0])).toEqual([]);

  // One node pool per approved request, none for the rejected one.
  const pools = await nodePools(restarted);
  expect(pools.map((p) => p.metadata.name).sort()).toEqual([names[0], ...names.slice(2)].sort());
  for (const [i, id] of ids.entries()) {
    if (i !== 1)
      expect(pools.find((p) => p.metadata.name === names[i])?.spec.resources.labels?.['poolgate/request-id']).toBe(id);
  }

  // The quota holds the five node pools, and nothing is left reserved.
  const quota = await quotaItem(restarted, 'crash', FLAVOR);
  expect({ inUse: quota.inUse, reserved: quota.reserved, used: quota.used }).toEqual({
    inUse: 5,
    reserved: 0,
    used: 5,
  });
  expect(shares(quota, 'use#')).toEqual(new Map([ids[0], ...ids.slice(2)].map((id) => [id, 1])));

  // Nothing was left half-written by the kill.
  expect(readdirSync(join(home, 'step-functions', 'executions')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});
