/**
 * ModelArts rules through the local stack: capacity refusals before anyone is asked (an existing
 * name, a yearly/monthly pool without billing annotations, what ModelArts cannot give), node
 * tracking to ACTIVE or FAILED, and a node pool poolgate did not create is never claimed. The
 * project signs with the AK/SK of its own secret (policy `modelArts.projects`).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelArtsClient } from '../../lambdas/adapters/modelarts/client';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../local/settings';
import { newHome, readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import {
  decide,
  exampleBody,
  type ExampleBody,
  POOL,
  PROJECT_ID,
  submit,
  waitForStatus,
} from '../../local/harness/requests';

jest.setTimeout(120_000);

const catalog = {
  pools: { shared: { privileged: false }, elastic: { type: 'Logical' }, prepaid: { billingMode: '1' } },
  flavors: [
    { name: 'modelarts.vm.2u4g.dcc' },
    { name: 'modelarts.vm.gpu.t4u8', soldOutAzs: ['cn-north-4a'] },
    { name: 'modelarts.vm.ppu.only', billingModes: [0] },
    { name: 'modelarts.vm.flaky', nodesFail: true },
  ],
};
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
  // The project signs with its own secret (locally the stand-in serves it the simulator's AK/SK).
  modelArts: {
    projects: {
      [PROJECT_ID]: {
        credentialsSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:poolgate/project-e2e-AbCdEf',
      },
    },
  },
  teams: [
    {
      name: 'ml-platform',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: {
        'modelarts.vm.2u4g.dcc': 100,
        'modelarts.vm.gpu.t4u8': 100,
        'modelarts.vm.ppu.only': 100,
        'modelarts.vm.flaky': 100,
        'modelarts.vm.ghost': 100,
      },
    },
  ],
};

let stack: RunningStack;
let alice: string;
let modelArts: ModelArtsClient;

beforeAll(async () => {
  const home = newHome();
  const catalogFile = join(home, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify(catalog));
  stack = await startStack({ home, policy, env: { POOLGATE_SIMULATOR_CATALOG: catalogFile } });
  alice = await stack.token('alice@example.com');
  modelArts = new ModelArtsClient({
    endpoint: stack.endpoints.modelArts,
    credentials: async () => ({ accessKey: DEV_HUAWEI_ACCESS_KEY, secretKey: DEV_HUAWEI_SECRET_KEY }),
    timeoutMs: 5000,
  });
});
afterAll(async () => {
  await stack?.stop();
  rmSync(stack.home, { recursive: true, force: true });
});

async function submitted(name: string, change: (b: ExampleBody) => void, pool = POOL): Promise<string> {
  const response = await submit(stack, alice, exampleBody(name, change), {}, pool);
  expect(response.status).toBe(202);
  return response.json.requestId as string;
}

it.each([
  ['FLAVOR_UNKNOWN', 'np-ghost', (b: ExampleBody) => (b.spec.resources.flavor = 'modelarts.vm.ghost'), POOL],
  [
    'FLAVOR_SOLD_OUT',
    'np-soldout',
    (b: ExampleBody) =>
      Object.assign(b.spec.resources, { flavor: 'modelarts.vm.gpu.t4u8', azs: [{ az: 'cn-north-4a', count: 1 }] }),
    POOL,
  ],
  [
    'BILLING_MODE_UNSUPPORTED',
    'np-yearly-ppu',
    (b: ExampleBody) => {
      b.spec.resources.flavor = 'modelarts.vm.ppu.only';
      b.metadata.annotations = {
        'os.modelarts/billing.mode': '1',
        'os.modelarts/period.num': '1',
        'os.modelarts/period.type': '2',
        'os.modelarts/order.id': 'CS1',
      };
    },
    POOL,
  ],
  ['NOT_PRIVILEGED_POOL', 'np-network', () => undefined, 'shared'],
  ['MAXCOUNT_NOT_ALLOWED', 'np-elastic', (b: ExampleBody) => (b.spec.resources.maxCount = 2), POOL],
])('rejects %s before anyone is asked', async (reason, name, change, pool) => {
  const requestId = await submitted(name, change, pool);
  const done = await waitForStatus(stack, alice, requestId, 'REJECTED');
  expect(done.reason).toBe(reason);
  expect(done.steps.map((s) => s.step)).toEqual(['submitted', 'capacity_checked']);
  expect(done.steps[1]).toMatchObject({ outcome: 'refused' });
  expect(readOutbox(stack).some((m) => m.subject.includes(name) && m.subject.includes('Approval needed'))).toBe(false);
});

it('rejects a name a node pool of the pool already has, NODE_POOL_EXISTS, before any approver is mailed (the dry run says so too)', async () => {
  await modelArts.createNodePool(PROJECT_ID, POOL, exampleBody('np-taken') as never);
  const dryRun = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools?dryRun=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
    body: JSON.stringify(exampleBody('np-taken')),
  });
  expect(dryRun.status).toBe(200);
  const preview = (await dryRun.json()) as {
    wouldBe: string;
    reason: string;
    checks: { check: string; message: string }[];
  };
  expect(preview).toMatchObject({ wouldBe: 'REJECTED', reason: 'NODE_POOL_EXISTS' });
  expect(preview.checks.find((c) => c.check === 'capacity')?.message).toContain('choose another name');

  const requestId = await submitted('np-taken', () => undefined);
  const done = await waitForStatus(stack, alice, requestId, 'REJECTED');
  expect(done.reason).toBe('NODE_POOL_EXISTS');
  expect(done.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['submitted:ok', 'capacity_checked:refused']);
  expect(done.steps[1].detail).toMatchObject({
    reason: 'NODE_POOL_EXISTS',
    message: 'a node pool named np-taken already exists in the pool; choose another name',
  });
  expect(readOutbox(stack).some((m) => m.subject.includes('np-taken') && m.subject.includes('Approval needed'))).toBe(
    false,
  );
});

it('rejects a request naming no billing mode in a yearly/monthly pool, BILLING_MODE_REQUIRED, before anyone is asked', async () => {
  const requestId = await submitted('np-prepaid', (b) => (b.metadata.annotations = {}), 'prepaid');
  const done = await waitForStatus(stack, alice, requestId, 'REJECTED');
  expect(done.reason).toBe('BILLING_MODE_REQUIRED');
  expect(done.billing).toEqual({ mode: '0', fromPool: true });
  expect(done.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['submitted:ok', 'capacity_checked:refused']);
  expect(done.steps[1].detail).toMatchObject({
    message: expect.stringContaining('give the billing annotations explicitly'),
  });
  expect(readOutbox(stack).some((m) => m.subject.includes('np-prepaid') && m.subject.includes('Approval needed'))).toBe(
    false,
  );
});

it('asks approvers about a request naming no billing mode in a pay-per-use pool as pay-per-use, and sends "0"', async () => {
  const requestId = await submitted('np-inherits', (b) => (b.metadata.annotations = {}));
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.subject.includes('np-inherits')),
    'approval mail',
  );
  expect(mail.raw).toContain('pay-per-use');
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const done = await waitForStatus(stack, alice, requestId, 'ACTIVE');
  expect(done.steps.find((s) => s.step === 'capacity_checked')?.detail).toMatchObject({
    billingMode: '0',
    billingFromPool: true,
  });
  expect(done.steps.find((s) => s.step === 'node_pool_created')?.detail).toMatchObject({
    annotations: { 'os.modelarts/billing.mode': '0' },
  });
});

it('lets maxCount exceed count in a logical pool, and follows the nodes to ACTIVE', async () => {
  const requestId = await submitted(
    'np-logical',
    (b) => {
      b.spec.resources.maxCount = 3;
      delete (b.spec.resources as Record<string, unknown>).network;
    },
    'elastic',
  );
  const mail = await eventually(() => readOutbox(stack).find((m) => m.subject.includes('np-logical')), 'approval mail');
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const done = await waitForStatus(stack, alice, requestId, 'ACTIVE');
  expect(done.steps.map((s) => s.step).slice(-2)).toEqual(['node_pool_created', 'nodes_active']);
});

it('fails NODES_ABNORMAL when the nodes come up abnormal', async () => {
  const requestId = await submitted('np-flaky', (b) => (b.spec.resources.flavor = 'modelarts.vm.flaky'));
  const mail = await eventually(() => readOutbox(stack).find((m) => m.subject.includes('np-flaky')), 'approval mail');
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const done = await waitForStatus(stack, alice, requestId, 'FAILED');
  expect(done.reason).toBe('NODES_ABNORMAL');
  expect(done.steps.map((s) => s.step).slice(-2)).toEqual(['node_pool_created', 'failed']);
});

it('never claims a node pool of the same name that someone made while the request waited for approval', async () => {
  const requestId = await submitted('np-foreign', () => undefined);
  const mail = await eventually(() => readOutbox(stack).find((m) => m.subject.includes('np-foreign')), 'approval mail');
  await modelArts.createNodePool(PROJECT_ID, POOL, exampleBody('np-foreign') as never);
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const done = await waitForStatus(stack, alice, requestId, 'FAILED');
  expect(done.reason).toBe('NODE_POOL_CONFLICT');
  const existing = await modelArts.showNodePool(PROJECT_ID, POOL, 'np-foreign');
  expect(existing?.spec.resources.labels).toBeUndefined();

  // A retry would fail the same way: refused, with the hint to choose another name.
  const retried = await fetch(`${stack.endpoints.api}/requests/${requestId}/retry`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}` },
  });
  expect(retried.status).toBe(409);
  expect(((await retried.json()) as { error_msg: string }).error_msg).toContain('choose another name');
});

it('fails NODE_POOL_CONFLICT when a node pool carries its label but another spec, and leaves it as it is', async () => {
  const requestId = await submitted('np-respec', () => undefined);
  await eventually(() => readOutbox(stack).find((m) => m.subject.includes('np-respec')), 'approval mail');
  // Made with this request's label and two nodes where the request asks for one (resized by hand, say).
  await modelArts.createNodePool(
    PROJECT_ID,
    POOL,
    exampleBody('np-respec', (b) =>
      Object.assign(b.spec.resources, { count: 2, maxCount: 2, labels: { 'poolgate/request-id': requestId } }),
    ) as never,
  );
  const mail = readOutbox(stack).find((m) => m.subject.includes('np-respec'))!;
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const done = await waitForStatus(stack, alice, requestId, 'FAILED');
  expect(done.reason).toBe('NODE_POOL_CONFLICT');
  expect(done.steps.at(-1)).toMatchObject({
    step: 'failed',
    detail: { error: 'NodePoolConflictError', cause: expect.stringContaining('another flavor or count') },
  });
  expect((await modelArts.showNodePool(PROJECT_ID, POOL, 'np-respec'))?.spec.resources.count).toBe(2);
});
