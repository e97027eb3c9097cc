/**
 * A delete racing the quota reconciliation, and a delete surviving a crash, on the local stack.
 */
import { signRequest } from '../../lambdas/adapters/modelarts/signer';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../local/settings';
import { nodePools, quotaItem, shares } from '../reliability/support/helpers';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, getRequest, POOL, PROJECT_ID, submit } from '../../local/harness/requests';

jest.setTimeout(90_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const team = {
  name: 'ml-platform',
  members: [{ email: 'alice@example.com' }],
  stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
  quotas: { [FLAVOR]: 100 },
};

let stack: RunningStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

type View = Awaited<ReturnType<typeof getRequest>>['json'];

async function settle(s: RunningStack, token: string, requestId: string, wanted: string): Promise<View> {
  return eventually(
    async () => {
      const { json } = await getRequest(s, token, requestId);
      return json.status === wanted ? json : undefined;
    },
    `${requestId} to be ${wanted}`,
    40_000,
  );
}

async function created(s: RunningStack, token: string, name: string): Promise<string> {
  const response = await submit(s, token, exampleBody(name));
  expect(response.status).toBe(202);
  const mail = await eventually(
    () => readOutbox(s).find((m) => m.subject.includes(name) && m.subject.includes('Approval needed')),
    `approval mail for ${name}`,
  );
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  return response.json.requestId as string;
}

async function deleteThroughGate(s: RunningStack, token: string, name: string): Promise<string> {
  const response = await fetch(`${s.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { requestId: string }).requestId;
}

async function deleteInConsole(s: RunningStack, name: string): Promise<void> {
  const url = `${s.endpoints.modelArts}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`;
  const { host: _host, ...headers } = signRequest({
    method: 'DELETE',
    url,
    accessKey: DEV_HUAWEI_ACCESS_KEY,
    secretKey: DEV_HUAWEI_SECRET_KEY,
    projectId: PROJECT_ID,
  });
  expect((await fetch(url, { method: 'DELETE', headers })).status).toBe(200);
}

async function deleteCalls(s: RunningStack, name: string): Promise<number | undefined> {
  const state = (await (await fetch(`${s.endpoints.modelArts}/_sim/state`)).json()) as {
    deleteCalls: Record<string, number>;
  };
  return state.deleteCalls[`${PROJECT_ID}/${POOL}/${name}`];
}

const stepAt = (view: View, step: string) => Date.parse(view.steps.find((s) => s.step === step)?.at ?? 'NaN');

it('keeps the quota exact, never negative, when the reconciliation runs between the node pool vanishing and Finalize', async () => {
  // Reconciliation every second; the delete's tracking looks every 4 s: it runs several times in between.
  stack = await startStack({
    policy: {
      nodeTracking: { enabled: true, pollIntervalSeconds: 4, timeoutSeconds: 60 },
      quotaReconciliation: { enabled: true, intervalSeconds: 1 },
      teams: [team],
    },
    env: { POOLGATE_NODE_DELETE_DELAY_MS: '200' },
  });
  const s = stack;
  const alice = await s.token('alice@example.com');
  const [mine, witness] = await Promise.all([created(s, alice, 'np-race'), created(s, alice, 'np-witness')]);
  await Promise.all([settle(s, alice, mine, 'ACTIVE'), settle(s, alice, witness, 'ACTIVE')]);
  // Their reservations became use when ModelArts accepted them, before CREATED and so before ACTIVE.
  expect(Number((await quotaItem(s, 'ml-platform', FLAVOR)).used)).toBe(2);

  const deleteId = await deleteThroughGate(s, alice, 'np-race');
  // The witness, deleted in the console once ModelArts has accepted np-race's deletion, is what the
  // reconciliation corrects: it shows when it ran. (Deleted any earlier, a reconciliation could correct it
  // before np-race is gone, and the run would show nothing about the race.)
  await eventually(async () => {
    const { json } = await getRequest(s, alice, deleteId);
    return json.steps.some((step) => step.step === 'node_pool_delete_requested') ? true : undefined;
  }, 'ModelArts to accept the deletion of np-race');
  await deleteInConsole(s, 'np-witness');
  const samples: number[] = [];
  const deleted = await eventually(
    async () => {
      samples.push(Number((await quotaItem(s, 'ml-platform', FLAVOR)).used ?? 0));
      const { json } = await getRequest(s, alice, deleteId);
      return json.status === 'DELETED' ? json : undefined;
    },
    'the delete to finish',
    40_000,
  );
  const reconciledWitness = await eventually(async () => {
    const { json } = await getRequest(s, alice, witness);
    return json.steps.some((step) => step.step === 'quota_reconciled') ? json : undefined;
  }, 'the reconciliation to correct the witness');

  // The reconciliation ran after ModelArts dropped np-race and before its delete finalized ...
  const dropped = stepAt(deleted, 'node_pool_delete_requested') + 200;
  const finalized = stepAt(deleted, 'node_pool_deleted');
  expect(stepAt(reconciledWitness, 'quota_reconciled')).toBeGreaterThan(dropped);
  expect(stepAt(reconciledWitness, 'quota_reconciled')).toBeLessThan(finalized);
  // ... and left np-race's share to the delete: released once, by the delete.
  const creation = (await getRequest(s, alice, mine)).json;
  expect(creation.steps.map((step) => step.step)).not.toContain('quota_reconciled');
  expect(deleted.steps.find((step) => step.step === 'node_pool_deleted')).toMatchObject({ detail: { released: 1 } });
  const item = await quotaItem(s, 'ml-platform', FLAVOR);
  expect({ used: Number(item.used), reserved: Number(item.reserved), uses: shares(item, 'use#').size }).toEqual({
    used: 0,
    reserved: 0,
    uses: 0,
  });
  expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
  expect(await nodePools(s)).toEqual([]);
});

it('finishes a delete tracked when the stack was killed: deleted once, the quota exact', async () => {
  const policy = {
    nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
    quotaReconciliation: { enabled: false, intervalSeconds: 1 },
    teams: [team],
  };
  const env = { POOLGATE_NODE_DELETE_DELAY_MS: '4000' };
  stack = await startStack({ policy, env });
  const alice = await stack.token('alice@example.com');
  const createId = await created(stack, alice, 'np-crash');
  await settle(stack, alice, createId, 'ACTIVE');
  const first = stack;
  await eventually(
    async () => (Number((await quotaItem(first, 'ml-platform', FLAVOR)).used) === 1 ? true : undefined),
    'the node pool counted',
  );
  const deleteId = await deleteThroughGate(stack, alice, 'np-crash');
  const s = stack;
  await eventually(async () => {
    const { json } = await getRequest(s, alice, deleteId);
    return json.steps.some((step) => step.step === 'node_pool_delete_requested') ? true : undefined;
  }, 'the deletion accepted and tracked');
  expect(await deleteCalls(s, 'np-crash')).toBe(1);

  const home = stack.home;
  await stack.stop('SIGKILL', true);
  stack = await startStack({ home, policy, env });
  const done = await settle(stack, alice, deleteId, 'DELETED');
  expect(done.steps.filter((step) => step.step === 'node_pool_deleted')).toHaveLength(1);
  expect(await deleteCalls(stack, 'np-crash')).toBe(1);
  const item = await quotaItem(stack, 'ml-platform', FLAVOR);
  expect({ used: Number(item.used), reserved: Number(item.reserved), uses: shares(item, 'use#').size }).toEqual({
    used: 0,
    reserved: 0,
    uses: 0,
  });
  expect(await nodePools(stack)).toEqual([]);
});
