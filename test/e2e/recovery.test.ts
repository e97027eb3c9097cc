/**
 * When ModelArts lets a request down, on the local stack: a FAILED request retried from the step that
 * failed without a new approval; the quota reconciliation freeing what a node pool deleted in the
 * console held; a create that took effect but whose answer was lost making exactly one node pool.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signRequest } from '../../lambdas/adapters/modelarts/signer';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../local/settings';
import { quotaItem, setFaults, shares } from '../reliability/support/helpers';
import { newHome, readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import {
  decide,
  exampleBody,
  type ExampleBody,
  getRequest,
  POOL,
  PROJECT_ID,
  submit,
  waitForStatus,
} from '../../local/harness/requests';

jest.setTimeout(120_000);

const GPU = 'modelarts.vm.gpu.t4u8';
/** Its nodes come up abnormal (the simulator's catalog). */
const FLAKY = 'modelarts.vm.flaky';
/** In pool `zonal` ModelArts fills in the zone of a create that names none. */
const catalog = {
  pools: { zonal: { fillsZones: true } },
  flavors: [{ name: 'modelarts.vm.2u4g.dcc' }, { name: GPU }, { name: FLAKY, nodesFail: true }],
};
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
  quotaReconciliation: { enabled: true, intervalSeconds: 1 },
  admins: ['root@example.com'],
  teams: [
    {
      name: 'ml-platform',
      members: [{ email: 'alice@example.com' }, { email: 'carol@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { 'modelarts.vm.2u4g.dcc': 100, [GPU]: 1, [FLAKY]: 100 },
    },
  ],
};

let stack: RunningStack;
let alice: string;

beforeAll(async () => {
  // Retry waits shrunk to 5% (what is retried and how often stays the definition's).
  const home = newHome();
  const catalogFile = join(home, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(catalog));
  stack = await startStack({
    home,
    policy,
    env: { POOLGATE_SFN_RETRY_SCALE: '0.05', POOLGATE_SIMULATOR_CATALOG: catalogFile },
  });
  alice = await stack.token('alice@example.com');
});
afterAll(async () => {
  await stack?.stop();
  rmSync(stack.home, { recursive: true, force: true });
});

/** Submits, and approves it from bob's e-mail link. */
async function approved(
  name: string,
  change: (b: ExampleBody) => void = () => undefined,
  pool = POOL,
): Promise<string> {
  const response = await submit(stack, alice, exampleBody(name, change), {}, pool);
  expect(response.status).toBe(202);
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.subject.includes(name) && m.subject.includes('Approval needed')),
    `approval mail for ${name}`,
  );
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  return response.json.requestId as string;
}

async function retry(requestId: string, token = alice) {
  const response = await fetch(`${stack.endpoints.api}/requests/${requestId}/retry`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const approvalMails = (name: string) =>
  readOutbox(stack).filter((m) => m.subject.includes(name) && m.subject.includes('Approval needed')).length;

async function createCalls(name: string): Promise<number> {
  const { calls } = (await (await fetch(`${stack.endpoints.modelArts}/_sim/calls`)).json()) as {
    calls: Array<{ body: string }>;
  };
  return calls.filter((c) => (JSON.parse(c.body) as ExampleBody).metadata.name === name).length;
}

async function gpuQuota() {
  const item = await quotaItem(stack, 'ml-platform', GPU);
  return {
    used: Number(item.used ?? 0),
    reserved: Number(item.reserved ?? 0),
    inUse: Number(item.inUse ?? 0),
    uses: shares(item, 'use#'),
    holds: shares(item, 'hold#'),
  };
}

/** What someone does in the ModelArts console: a signed DeleteNodePool. */
async function deleteInConsole(name: string): Promise<void> {
  const url = `${stack.endpoints.modelArts}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`;
  const headers = signRequest({
    method: 'DELETE',
    url,
    accessKey: DEV_HUAWEI_ACCESS_KEY,
    secretKey: DEV_HUAWEI_SECRET_KEY,
    projectId: PROJECT_ID,
  });
  const response = await fetch(url, { method: 'DELETE', headers });
  expect(response.status).toBe(200);
}

/** A signed GET to the simulator, as any ModelArts client would send it. */
async function signedGet(path: string) {
  const url = `${stack.endpoints.modelArts}${path}`;
  const headers = signRequest({
    method: 'GET',
    url,
    accessKey: DEV_HUAWEI_ACCESS_KEY,
    secretKey: DEV_HUAWEI_SECRET_KEY,
    projectId: PROJECT_ID,
  });
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  return (await response.json()) as { spec: { resources: { azs?: unknown } } };
}

const createFails = {
  rules: [{ rate: 1, operations: ['create'], status: 400, errorMsg: 'Bad request. injected by the test' }],
};

it('retries a request that failed in CreateNodePool from there, without asking for approval again', async () => {
  await setFaults(stack, createFails);
  const requestId = await approved('np-retry');
  const failed = await waitForStatus(stack, alice, requestId, 'FAILED');
  expect(failed.reason).toBe('MODELARTS_ERROR');
  await setFaults(stack, { rules: [] });

  // Only its requester (or an admin) may retry it; others do not see it.
  const bob = await stack.token('bob@example.com');
  expect((await retry(requestId, bob)).status).toBe(404);

  const retried = await retry(requestId);
  expect(retried.status).toBe(202);
  expect(retried.json).toMatchObject({ requestId, status: 'PROVISIONING' });
  expect(retried.json.reason).toBeUndefined();
  // Repeating the call while the retry runs starts nothing new and answers the same.
  expect((await retry(requestId)).status).toBe(202);

  const done = await waitForStatus(stack, alice, requestId, 'ACTIVE');
  expect(done.steps.map((s) => s.step)).toEqual([
    'submitted',
    'capacity_checked',
    'quota_checked',
    'approval_requested',
    'approved',
    'failed',
    'retried',
    'node_pool_created',
    'nodes_active',
  ]);
  expect(done.steps.find((s) => s.step === 'retried')).toMatchObject({ actor: 'alice@example.com' });
  expect(approvalMails('np-retry')).toBe(1);
  // The failed create plus the retried one.
  expect(await createCalls('np-retry')).toBe(2);

  // Nothing left to retry.
  const again = await retry(requestId);
  expect(again).toMatchObject({ status: 409, json: { error_code: 'PoolGate.3409' } });
});

it('refuses a retry the quota has no room for, and runs it once reconciliation frees the nodes of a node pool deleted in the console', async () => {
  const gpu = (b: ExampleBody) => (b.spec.resources.flavor = GPU);
  await setFaults(stack, createFails);
  const failedId = await approved('np-gpu-failed', gpu);
  await waitForStatus(stack, alice, failedId, 'FAILED');
  await setFaults(stack, { rules: [] });
  expect((await gpuQuota()).inUse).toBe(0);

  // Another request takes the team's only GPU node.
  const holderId = await approved('np-gpu-holder', gpu);
  await waitForStatus(stack, alice, holderId, 'ACTIVE');
  expect(await gpuQuota()).toMatchObject({ used: 1, inUse: 1, reserved: 0 });

  const refused = await retry(failedId);
  expect(refused.status).toBe(409);
  expect(refused.json).toMatchObject({ error_code: 'PoolGate.3409' });
  expect(String(refused.json.error_msg)).toContain('QUOTA_EXCEEDED');
  expect((await getRequest(stack, alice, failedId)).json.status).toBe('FAILED');
  expect(await gpuQuota()).toMatchObject({ used: 1, inUse: 1, reserved: 0 });

  // Deleted in the console: the next reconciliation gives the node back, and says so on the request.
  await deleteInConsole('np-gpu-holder');
  const reconciled = await eventually(async () => {
    const { json } = await getRequest(stack, alice, holderId);
    return json.steps.find((s) => s.step === 'quota_reconciled');
  }, 'the reconciliation to free the deleted node pool');
  expect(reconciled).toMatchObject({
    outcome: 'ok',
    detail: { team: 'ml-platform', flavor: GPU, from: 1, to: 0, why: 'node pool gone' },
  });
  expect(await gpuQuota()).toMatchObject({ used: 0, inUse: 0, reserved: 0 });

  const retried = await retry(failedId);
  expect(retried.status).toBe(202);
  await waitForStatus(stack, alice, failedId, 'ACTIVE');
  const quota = await gpuQuota();
  expect(quota).toMatchObject({ used: 1, inUse: 1, reserved: 0 });
  expect([...quota.uses.keys()]).toEqual([failedId]);
});

it('retries a request whose nodes came up abnormal at its node tracking (no new create), and records the second failure too', async () => {
  const requestId = await approved('np-flaky', (b) => (b.spec.resources.flavor = FLAKY));
  const failed = await waitForStatus(stack, alice, requestId, 'FAILED');
  expect(failed.reason).toBe('NODES_ABNORMAL');

  const retried = await retry(requestId, await stack.token('root@example.com'));
  expect(retried.status).toBe(202);
  expect(retried.json).toMatchObject({ status: 'CREATED' });
  const again = await eventually(async () => {
    const { json } = await getRequest(stack, alice, requestId);
    return json.status === 'FAILED' && json.steps.filter((s) => s.step === 'failed').length === 2 ? json : undefined;
  }, 'the retried tracking to fail again');
  expect(again.reason).toBe('NODES_ABNORMAL');
  expect(again.steps.map((s) => s.step).slice(-4)).toEqual(['node_pool_created', 'failed', 'retried', 'failed']);
  expect(again.steps.find((s) => s.step === 'retried')).toMatchObject({
    actor: 'root@example.com',
    detail: { attempt: 1, resumeAt: 'CheckNodes' },
  });
  expect(await createCalls('np-flaky')).toBe(1);
  // The node pool exists: its nodes stay counted, once.
  const item = await quotaItem(stack, 'ml-platform', FLAKY);
  expect(shares(item, 'use#').get(requestId)).toBe(1);
  expect(Number(item.reserved)).toBe(0);
});

it('does not retry a request that was not FAILED', async () => {
  const response = await submit(stack, alice, exampleBody('np-rejected'));
  const requestId = response.json.requestId as string;
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.subject.includes('np-rejected')),
    'approval mail',
  );
  expect((await decide(mail.links[0], 'reject')).status).toBe(200);
  await waitForStatus(stack, alice, requestId, 'REJECTED');
  const refused = await retry(requestId);
  expect(refused).toMatchObject({ status: 409, json: { error_code: 'PoolGate.3409' } });
});

it('makes exactly one node pool when a create takes effect but its answer never arrives (the client gives up after 10 s)', async () => {
  await setFaults(stack, { rules: [{ rate: 1, operations: ['create'], delayMs: 11_000 }] });
  const requestId = await approved('np-lost-answer');
  await eventually(
    async () => ((await createCalls('np-lost-answer')) ? true : undefined),
    'the create to reach ModelArts',
  );
  const done = await waitForStatus(stack, alice, requestId, 'ACTIVE', 60_000);
  await setFaults(stack, { rules: [] });
  expect(await createCalls('np-lost-answer')).toBe(1);
  expect(done.steps.find((s) => s.step === 'node_pool_created')).toMatchObject({ detail: { alreadyExisted: true } });
});

it('ends normally after a lost create answer when ModelArts filled in the zones: the node pool found is ours, no second create', async () => {
  // The create is stored (with the zone ModelArts picked), then its answer is lost (500): the workflow retries.
  await setFaults(stack, { rules: [{ rate: 1, operations: ['create'], status: 500, afterServing: true }] });
  const requestId = await approved('np-zoned', (b) => (b.spec.resources.azs = []), 'zonal');
  try {
    await eventually(async () => ((await createCalls('np-zoned')) ? true : undefined), 'the create to reach ModelArts');
  } finally {
    await setFaults(stack, { rules: [] });
  }
  const done = await waitForStatus(stack, alice, requestId, 'ACTIVE', 60_000);
  expect(await createCalls('np-zoned')).toBe(1);
  expect(done.steps.find((s) => s.step === 'node_pool_created')).toMatchObject({
    outcome: 'ok',
    detail: { nodePool: 'np-zoned', alreadyExisted: true },
  });
  const shown = await signedGet(`/v2/${PROJECT_ID}/pools/zonal/nodepools/np-zoned`);
  expect(shown.spec.resources.azs).toEqual([{ az: 'cn-north-4a', count: 1 }]);
});
