/**
 * A node pool's life through the gate, on the local stack with the quota reconciliation off: create,
 * delete, re-create with the very same body (same requester, no key), delete again. Who may delete,
 * yearly/monthly refusals, and node pools poolgate did not create (or that were re-created outside it)
 * are never deleted.
 */
import { signRequest } from '../../lambdas/adapters/modelarts/signer';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../local/settings';
import { nodePools, quotaItem, shares } from '../reliability/support/helpers';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { runPoolgate } from '../../local/harness/cli';
import { eventually } from '../../local/harness/poll';
import {
  decide,
  exampleBody,
  getRequest,
  POOL,
  PROJECT_ID,
  submit,
  waitForStatus,
  type ExampleBody,
} from '../../local/harness/requests';

jest.setTimeout(90_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
  quotaReconciliation: { enabled: false, intervalSeconds: 1 },
  admins: ['root@example.com'],
  teams: [
    {
      name: 'ml-platform',
      members: [{ email: 'alice@example.com' }, { email: 'carol@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: 100 },
    },
    {
      name: 'vision',
      members: [{ email: 'victor@example.com' }],
      stages: [{ name: 'lead', approvers: [{ email: 'lena@example.com' }] }],
      quotas: { [FLAVOR]: 100 },
    },
  ],
};

let stack: RunningStack;
let alice: string;

beforeAll(async () => {
  stack = await startStack({ policy, env: { POOLGATE_NODE_DELETE_DELAY_MS: '800' } });
  alice = await stack.token('alice@example.com');
});
afterAll(async () => {
  await stack?.stop();
});

type View = Awaited<ReturnType<typeof getRequest>>['json'];

const settle = (requestId: string, wanted: string, token = alice, timeoutMs = 30_000): Promise<View> =>
  waitForStatus(stack, token, requestId, wanted, timeoutMs);

/** Submits as alice and approves from bob's e-mail link (the approval mails of this name so far tell it apart). */
async function created(name: string, change: (b: ExampleBody) => void = () => undefined): Promise<string> {
  const before = approvalMails(name).length;
  const response = await submit(stack, alice, exampleBody(name, change));
  expect(response.status).toBe(202);
  expect(response.json.kind).toBe('create');
  const mail = await eventually(() => approvalMails(name)[before], `approval mail ${before + 1} for ${name}`);
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  return response.json.requestId as string;
}

const approvalMails = (name: string) =>
  readOutbox(stack).filter((m) => m.subject.includes(name) && m.subject.includes('Approval needed'));

async function deleteNodePool(name: string, token = alice, query = '', headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}${query}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

async function read(path: string, token: string) {
  const response = await fetch(`${stack.endpoints.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function simulatorState() {
  return (await (await fetch(`${stack.endpoints.modelArts}/_sim/state`)).json()) as {
    deleteCalls: Record<string, number>;
  };
}

/** The quota as stored, and what ModelArts shows: one share per node pool, `used` its node count. */
async function quota() {
  const item = await quotaItem(stack, 'ml-platform', FLAVOR);
  const listed = await nodePools(stack);
  return {
    used: Number(item.used ?? 0),
    reserved: Number(item.reserved ?? 0),
    uses: shares(item, 'use#'),
    simulatorNodes: listed.reduce(
      (sum, n) => sum + (n.spec.resources.flavor === FLAVOR ? n.spec.resources.count : 0),
      0,
    ),
  };
}

/** Signed calls as someone in the ModelArts console makes them. */
async function consoleCall(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<number> {
  const url = `${stack.endpoints.modelArts}/v2/${PROJECT_ID}/pools/${POOL}/nodepools${path}`;
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = signRequest({
    method,
    url,
    accessKey: DEV_HUAWEI_ACCESS_KEY,
    secretKey: DEV_HUAWEI_SECRET_KEY,
    projectId: PROJECT_ID,
    body: text,
    headers: text ? { 'content-type': 'application/json' } : {},
  });
  const { host: _host, ...sent } = headers;
  return (await fetch(url, { method, headers: sent, body: text })).status;
}

it('creates, deletes, re-creates with the same body and deletes again: four requests, the quota exact after each', async () => {
  const name = 'np-life';
  const ids: string[] = [];
  const finals: string[] = [];
  const expectQuota = async (nodes: number) => {
    // A create's ACTIVE is recorded by its tracking; its Finalize turns the reservation into use right after.
    const q = await eventually(async () => {
      const read = await quota();
      return read.reserved === 0 && read.used === nodes ? read : undefined;
    }, `${nodes} node(s) counted`);
    expect(q.reserved).toBe(0);
    expect(q.used).toBe(q.simulatorNodes);
    expect(q.used).toBe(nodes);
    expect([...q.uses.values()]).toEqual(nodes ? [nodes] : []);
  };

  for (let round = 0; round < 2; round++) {
    const createId = await created(name);
    const active = await settle(createId, 'ACTIVE');
    ids.push(createId);
    finals.push(active.status);
    await expectQuota(1);

    const deleted = await deleteNodePool(name);
    expect(deleted.status).toBe(202);
    expect(deleted.json).toMatchObject({ status: 'SUBMITTED', kind: 'delete' });
    const deleteId = deleted.json.requestId as string;
    expect(deleted.headers.get('location')).toBe(`/requests/${deleteId}`);
    // While it is open, any second request on the node pool is refused.
    expect((await submit(stack, alice, exampleBody(name))).status).toBe(409);
    const done = await settle(deleteId, 'DELETED');
    ids.push(deleteId);
    finals.push(done.status);
    expect(done).toMatchObject({ kind: 'delete', trigger: 'user', final: true });
    expect(done.steps.map((s) => s.step)).toEqual([
      'submitted',
      'capacity_checked',
      'node_pool_delete_requested',
      'node_pool_deleted',
    ]);
    expect((await nodePools(stack)).map((n) => n.metadata.name)).not.toContain(name);
    expect((await read(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, alice)).status).toBe(404);
    await expectQuota(0);
  }

  expect(new Set(ids).size).toBe(4);
  expect(finals).toEqual(['ACTIVE', 'DELETED', 'ACTIVE', 'DELETED']);
  expect((await simulatorState()).deleteCalls[`${PROJECT_ID}/${POOL}/${name}`]).toBe(2);
  // Requests list their kind, filterable.
  const listed = await fetch(`${stack.endpoints.api}/requests?kind=delete&limit=100`, {
    headers: { authorization: `Bearer ${alice}` },
  });
  const items = ((await listed.json()) as { items: Array<{ requestId: string; kind: string }> }).items;
  expect(
    items
      .filter((i) => ids.includes(i.requestId))
      .map((i) => i.requestId)
      .sort(),
  ).toEqual([ids[1], ids[3]].sort());
  expect(items.every((i) => i.kind === 'delete')).toBe(true);
});

it('tells the creator when someone else of the team deletes the node pool', async () => {
  const name = 'np-carol-deletes';
  await settle(await created(name), 'ACTIVE');
  const carol = await stack.token('carol@example.com');
  const deleted = await deleteNodePool(name, carol);
  expect(deleted.status).toBe(202);
  await settle(deleted.json.requestId as string, 'DELETED', carol);
  await eventually(
    () => readOutbox(stack).find((m) => m.to.includes('alice@example.com') && m.subject.includes(`${name} (`)),
    'the creator told',
  );
});

it('answers another team 404, the team approver 403, and a dry run what would happen', async () => {
  const name = 'np-guarded';
  await settle(await created(name), 'ACTIVE');
  const victor = await stack.token('victor@example.com');
  const bob = await stack.token('bob@example.com');
  expect((await deleteNodePool(name, victor)).status).toBe(404);
  expect((await deleteNodePool(name, bob)).status).toBe(403);

  // Reads answer what ModelArts answers, for whoever may read the team's requests.
  const direct = (await nodePools(stack)).find((n) => n.metadata.name === name);
  const shown = await read(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, bob);
  expect(shown.status).toBe(200);
  expect(shown.json).toEqual(JSON.parse(JSON.stringify(direct)));
  expect((await read(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, victor)).status).toBe(404);
  const listed = await read(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools`, alice);
  expect(listed.json).toMatchObject({ apiVersion: 'v2', kind: 'NodePoolList' });
  const listedNames = (listed.json.items as Array<{ metadata: { name: string } }>).map((n) => n.metadata.name);
  expect(listedNames).toContain(name);
  expect(((await read(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools`, victor)).json.items as unknown[]).length).toBe(0);
  // The inventory: poolgate's own view, the team's node pools.
  const inventory = await read('/nodepools?team=ml-platform', bob);
  expect(inventory.status).toBe(200);
  expect((inventory.json.items as Array<Record<string, unknown>>).find((i) => i.nodePoolName === name)).toMatchObject({
    team: 'ml-platform',
    flavor: FLAVOR,
    count: 1,
    billingMode: '0',
  });
  expect((await read('/nodepools?team=ml-platform', victor)).status).toBe(403);
  expect((await deleteNodePool('np-never-there')).status).toBe(404);
  const dry = await deleteNodePool(name, alice, '?dryRun=true');
  expect(dry.status).toBe(200);
  expect(dry.json).toMatchObject({ dryRun: true, kind: 'delete', wouldBe: 'PROVISIONING', nodePool: { count: 1 } });
  expect((await nodePools(stack)).map((n) => n.metadata.name)).toContain(name);
  expect((await simulatorState()).deleteCalls[`${PROJECT_ID}/${POOL}/${name}`]).toBeUndefined();
});

it('never deletes a node pool poolgate did not create: 404, ModelArts never asked', async () => {
  expect(await consoleCall('POST', '', exampleBody('np-foreign'))).toBe(200);
  const refused = await deleteNodePool('np-foreign');
  expect(refused.status).toBe(404);
  expect(refused.json.error_code).toBe('PoolGate.0404');
  expect((await nodePools(stack)).map((n) => n.metadata.name)).toContain('np-foreign');
  expect((await simulatorState()).deleteCalls[`${PROJECT_ID}/${POOL}/np-foreign`]).toBeUndefined();
});

it('never deletes a node pool re-created in the console under the same name: REJECTED, nothing changed', async () => {
  const name = 'np-recreated';
  const createId = await created(name);
  await settle(createId, 'ACTIVE');
  // Deleted and created again in the console: same name, no poolgate label.
  expect(await consoleCall('DELETE', `/${name}`)).toBe(200);
  await eventually(
    async () => ((await nodePools(stack)).some((n) => n.metadata.name === name) ? undefined : true),
    'gone',
  );
  expect(await consoleCall('POST', '', exampleBody(name))).toBe(200);
  const before = await quota();

  const deleted = await deleteNodePool(name);
  expect(deleted.status).toBe(202);
  const rejected = await settle(deleted.json.requestId as string, 'REJECTED');
  expect(rejected.reason).toBe('NODE_POOL_NOT_OURS');
  expect((await nodePools(stack)).map((n) => n.metadata.name)).toContain(name);
  expect((await simulatorState()).deleteCalls[`${PROJECT_ID}/${POOL}/${name}`]).toBe(1); // the console's only
  expect(await quota()).toEqual(before);
});

it('refuses a yearly/monthly node pool with 409 and changes nothing', async () => {
  const name = 'np-yearly';
  const createId = await created(name, (b) => {
    b.metadata.annotations = {
      'os.modelarts/billing.mode': '1',
      'os.modelarts/period.type': '2',
      'os.modelarts/period.num': '1',
      'os.modelarts/order.id': 'CS2612060000001',
    };
  });
  await settle(createId, 'ACTIVE');
  const before = await quota();
  const refused = await deleteNodePool(name);
  expect(refused.status).toBe(409);
  expect(refused.json).toEqual({ error_code: 'PoolGate.4409', error_msg: expect.stringContaining('yearly/monthly') });
  expect((await nodePools(stack)).map((n) => n.metadata.name)).toContain(name);
  expect(await quota()).toEqual(before);
});

/** `poolgate <args>` against the stack as alice, with no terminal. */
const poolgate = (args: readonly string[]) => runPoolgate(stack, alice, args);

it('deletes from the CLI: --dry-run, --wait exits 0 once DELETED, and the inventory before and after', async () => {
  const name = 'np-cli';
  await settle(await created(name), 'ACTIVE');
  const listed = await poolgate(['nodepools', '--json']);
  expect(listed.code).toBe(0);
  expect(
    (JSON.parse(listed.stdout) as { items: Array<{ nodePoolName: string }> }).items.map((i) => i.nodePoolName),
  ).toContain(name);

  const dry = await poolgate(['delete', `${POOL}/${name}`, '--project', PROJECT_ID, '--dry-run']);
  expect(dry).toMatchObject({ code: 0, stdout: expect.stringContaining('no approval needed') });
  const deleted = await poolgate(['delete', `${POOL}/${name}`, '--project', PROJECT_ID, '--wait', '--json']);
  expect(deleted.code).toBe(0);
  expect(JSON.parse(deleted.stdout)).toMatchObject({ kind: 'delete', status: 'DELETED', nodePoolName: name });
  const after = await poolgate(['nodepools', '--json']);
  expect(
    (JSON.parse(after.stdout) as { items: Array<{ nodePoolName: string }> }).items.map((i) => i.nodePoolName),
  ).not.toContain(name);
  expect((await poolgate(['delete', `${POOL}/${name}`, '--project', PROJECT_ID])).code).toBe(1);
});
