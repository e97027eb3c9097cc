/**
 * Scaling and updating a node pool through the gate (ModelArts' own PATCH), on the local stack with the
 * quota reconciliation off: the five-request life (create 2, scale to 6 approved, to 2 without approval,
 * to 6 again with the first scale's very body, delete) with the quota exact after each; a labels-only
 * update; what a PATCH may not do; and 20 PATCHes of one node pool at once.
 */
import { OWNER_LABEL } from '../../lambdas/domain/modelarts';
import { nodePools, quotaItem, setFaults, shares } from '../reliability/support/helpers';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { runPoolgate } from '../../local/harness/cli';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, getRequest, POOL, PROJECT_ID, submit, waitForStatus } from '../../local/harness/requests';

jest.setTimeout(90_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const TEAM = 'ml-platform';
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
  quotaReconciliation: { enabled: false, intervalSeconds: 1 },
  admins: ['root@example.com'],
  teams: [
    {
      name: TEAM,
      members: [{ email: 'alice@example.com' }, { email: 'carol@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: 100 },
    },
  ],
};

let stack: RunningStack;
let alice: string;

beforeAll(async () => {
  stack = await startStack({
    policy,
    env: { POOLGATE_NODE_DELETE_DELAY_MS: '800', POOLGATE_NODE_READY_DELAY_MS: '800' },
  });
  alice = await stack.token('alice@example.com');
});
afterAll(async () => {
  await stack?.stop();
});

type View = Awaited<ReturnType<typeof getRequest>>['json'];

const settle = (requestId: string, wanted: string, token = alice, timeoutMs = 30_000): Promise<View> =>
  waitForStatus(stack, token, requestId, wanted, timeoutMs);

const approvalMails = (name: string) =>
  readOutbox(stack).filter((m) => m.subject.includes(name) && m.subject.includes('Approval needed'));

/** Approves the next approval mail about `name` (the mails so far tell it apart). */
async function approveNext(name: string, before: number) {
  const mail = await eventually(() => approvalMails(name)[before], `approval mail ${before + 1} for ${name}`);
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  return mail;
}

async function created(name: string, count: number, annotations: Record<string, string> = {}): Promise<string> {
  const before = approvalMails(name).length;
  const response = await submit(
    stack,
    alice,
    exampleBody(name, (b) => {
      b.spec.resources.count = count;
      b.spec.resources.maxCount = count;
      b.metadata.annotations = annotations;
    }),
  );
  expect(response.status).toBe(202);
  await approveNext(name, before);
  const id = response.json.requestId as string;
  await settle(id, 'ACTIVE');
  return id;
}

async function patch(
  name: string,
  body: unknown,
  options: { token?: string; query?: string; contentType?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(
    `${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}${options.query ?? ''}`,
    {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${options.token ?? alice}`,
        'content-type': options.contentType ?? 'application/merge-patch+json',
        ...options.headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
  );
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

const scaleBody = (count: number) => ({ spec: { resources: { flavor: FLAVOR, count, maxCount: count } } });

async function deleteNodePool(name: string) {
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${alice}` },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The quota as stored, and the nodes ModelArts shows for node pool `name`. */
async function quota(name: string) {
  const item = await quotaItem(stack, TEAM, FLAVOR);
  const listed = (await nodePools(stack)).find((n) => n.metadata.name === name);
  return {
    used: Number(item.used ?? 0),
    reserved: Number(item.reserved ?? 0),
    inUse: Number(item.inUse ?? 0),
    uses: shares(item, 'use#'),
    holds: shares(item, 'hold#'),
    simulatorNodes: listed?.spec.resources.count ?? 0,
  };
}

async function patchCalls() {
  const { calls } = (await (await fetch(`${stack.endpoints.modelArts}/_sim/calls`)).json()) as {
    calls: Array<{ method: string; path: string; body: string; status: number; headers: Record<string, string> }>;
  };
  return calls.filter((c) => c.method === 'PATCH');
}

it('creates 2, scales to 6 (approved), to 2 (no approval), to 6 again with the same body, deletes: five requests, the quota exact after each', async () => {
  const name = 'np-scale-life';
  const ids: string[] = [];
  const finals: string[] = [];
  const expectQuota = async (nodes: number, createId: string) => {
    const q = await quota(name);
    expect(q.reserved).toBe(0);
    expect(q.holds.size).toBe(0);
    expect(q.used).toBe(q.simulatorNodes);
    expect(q.used).toBe(nodes);
    expect(q.inUse).toBe(nodes);
    expect([...q.uses.entries()]).toEqual(nodes ? [[createId, nodes]] : []);
  };

  const createId = await created(name, 2);
  ids.push(createId);
  finals.push('ACTIVE');
  await expectQuota(2, createId);

  // Scale up to 6: approved like a create, the mail says what changes.
  const firstScale = JSON.stringify(scaleBody(6));
  const before = approvalMails(name).length;
  const up = await patch(name, firstScale);
  expect(up.status).toBe(202);
  expect(up.json).toMatchObject({
    status: 'SUBMITTED',
    kind: 'scale',
    links: { self: `/requests/${up.json.requestId as string}` },
  });
  expect(up.headers.get('location')).toBe(`/requests/${up.json.requestId as string}`);
  // While it is open, another PATCH of the node pool is refused.
  expect((await patch(name, scaleBody(3))).status).toBe(409);
  const mail = await approveNext(name, before);
  expect(mail.subject).toContain('from 2 to 6 nodes, +4');
  const upView = await settle(up.json.requestId as string, 'ACTIVE');
  expect(upView).toMatchObject({ kind: 'scale', count: 6, change: { kind: 'scale-up', from: 2, to: 6 }, final: true });
  expect(upView.steps.map((s) => s.step)).toEqual([
    'submitted',
    'capacity_checked',
    'quota_checked',
    'approval_requested',
    'approved',
    'node_pool_patched',
    'nodes_active',
  ]);
  ids.push(up.json.requestId as string);
  finals.push(upView.status);
  await expectQuota(6, createId);
  // Growth carries the record's billing mode explicitly, and poolgate's label.
  const sent = JSON.parse((await patchCalls()).at(-1)!.body) as {
    metadata?: { annotations: Record<string, string> };
    spec: { resources: { labels: Record<string, string> } };
  };
  expect(sent.metadata?.annotations['os.modelarts/billing.mode']).toBe('0');
  expect(sent.spec.resources.labels[OWNER_LABEL]).toBe(createId);

  // Scale down to 2: no approval; the share lowered once the nodes are gone.
  const down = await patch(name, scaleBody(2), { contentType: 'application/json' });
  expect(down.status).toBe(202);
  const downView = await settle(down.json.requestId as string, 'ACTIVE');
  expect(downView.steps.map((s) => s.step)).toEqual([
    'submitted',
    'capacity_checked',
    'node_pool_patched',
    'nodes_active',
  ]);
  ids.push(down.json.requestId as string);
  finals.push(downView.status);
  await expectQuota(2, createId);
  expect(JSON.parse((await patchCalls()).at(-1)!.body)).not.toHaveProperty('metadata');

  // The first scale's very body again: a new request (the first has finished), approved again.
  const again = await patch(name, firstScale);
  expect(again.status).toBe(202);
  expect(again.json.requestId).not.toBe(up.json.requestId);
  await approveNext(name, before + 1);
  const againView = await settle(again.json.requestId as string, 'ACTIVE');
  ids.push(again.json.requestId as string);
  finals.push(againView.status);
  await expectQuota(6, createId);

  const deleted = await deleteNodePool(name);
  expect(deleted.status).toBe(202);
  const gone = await settle(deleted.json.requestId as string, 'DELETED');
  ids.push(deleted.json.requestId as string);
  finals.push(gone.status);
  await expectQuota(0, createId);

  expect(new Set(ids).size).toBe(5);
  expect(finals).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'DELETED']);
});

it('updates labels without approval or quota, and ModelArts receives poolgate label intact', async () => {
  const name = 'np-labels';
  const createId = await created(name, 1);
  const before = await quota(name);
  const mailsBefore = approvalMails(name).length;
  const response = await patch(name, {
    spec: { resources: { flavor: FLAVOR, count: 1, maxCount: 1, labels: { 'team.example.com/tier': 'gold' } } },
  });
  expect(response.status).toBe(202);
  const view = await settle(response.json.requestId as string, 'ACTIVE');
  expect(view.change).toEqual({ kind: 'update', from: 1, to: 1 });
  expect(view.steps.map((s) => s.step)).toEqual(['submitted', 'capacity_checked', 'node_pool_patched']);
  expect(approvalMails(name)).toHaveLength(mailsBefore);
  const after = await quota(name);
  expect(after.reserved).toBe(0);
  expect(after.used).toBe(before.used);
  const shown = (await nodePools(stack)).find((n) => n.metadata.name === name)!;
  expect(shown.spec.resources.labels).toMatchObject({ [OWNER_LABEL]: createId, 'team.example.com/tier': 'gold' });
  const call = (await patchCalls()).findLast((c) => c.path.endsWith(`/${name}`))!;
  expect(call.headers['content-type']).toBe('application/merge-patch+json');
  expect((JSON.parse(call.body) as { spec: { resources: { labels: object } } }).spec.resources.labels).toEqual({
    'team.example.com/tier': 'gold',
    [OWNER_LABEL]: createId,
  });

  // A label is removed with null (merge-patch); poolgate's own cannot be.
  const removed = await patch(name, {
    spec: { resources: { flavor: FLAVOR, count: 1, maxCount: 1, labels: { 'team.example.com/tier': null } } },
  });
  expect(removed.status).toBe(202);
  await settle(removed.json.requestId as string, 'ACTIVE');
  const after2 = (await nodePools(stack)).find((n) => n.metadata.name === name)!;
  expect(after2.spec.resources.labels).toEqual({ [OWNER_LABEL]: createId });

  for (const value of [null, 'someone-else']) {
    const refused = await patch(name, {
      spec: { resources: { flavor: FLAVOR, count: 1, maxCount: 1, labels: { [OWNER_LABEL]: value } } },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error_code).toBe('ModelArts.50004000');
    expect(refused.json.error_msg).toContain(`spec.resources.labels.${OWNER_LABEL}`);
  }
});

it('refuses what a PATCH may not do, each with the documented error, and a dry run says what would happen', async () => {
  const name = 'np-patch-rules';
  await created(name, 1);
  const cases: Array<[unknown, string, string?]> = [
    [{ spec: { resources: { flavor: 'modelarts.vm.8u16g.dcc', count: 1, maxCount: 1 } } }, 'spec.resources.flavor'],
    [{ spec: { resources: { flavor: FLAVOR, count: 2, maxCount: 1 } } }, 'maxCount'],
    [{ spec: { resources: { flavor: FLAVOR, maxCount: 2 } } }, 'spec.resources.count'],
    [{ spec: { resources: { flavor: FLAVOR, count: 1, maxCount: 1, taints: null } } }, 'spec.resources.taints'],
    [
      { spec: { resources: { flavor: FLAVOR, count: 1, maxCount: 1, network: { vpc: 'another-vpc' } } } },
      'spec.resources.network.vpc',
    ],
    [
      { metadata: { name: 'renamed' }, spec: { resources: { flavor: FLAVOR, count: 1, maxCount: 1 } } },
      'metadata.name',
    ],
  ];
  for (const [body, path] of cases) {
    const response = await patch(name, body);
    expect({ body, status: response.status, code: response.json.error_code }).toEqual({
      body,
      status: 400,
      code: 'ModelArts.50004000',
    });
    expect(response.json.error_msg).toContain(path);
  }
  const wrongType = await patch(name, scaleBody(2), { contentType: 'text/plain' });
  expect(wrongType.status).toBe(415);
  expect(wrongType.json.error_code).toBe('PoolGate.0415');

  // The whole spec as read, sent back with a new count: accepted (fields unchanged are fine).
  const shown = (await nodePools(stack)).find((n) => n.metadata.name === name)!;
  const dry = await patch(
    name,
    { spec: { resources: { ...shown.spec.resources, count: 3, maxCount: 3 } } },
    { query: '?dryRun=true' },
  );
  expect(dry.status).toBe(200);
  expect(dry.json).toMatchObject({
    dryRun: true,
    kind: 'scale',
    change: { kind: 'scale-up', from: 1, to: 3 },
    wouldBe: 'AWAITING_APPROVAL',
  });
  expect((await quota(name)).reserved).toBe(0);
});

it('accepts exactly one of 20 PATCHes of one node pool sent at once, with 20 different counts; the others 409', async () => {
  const name = 'np-twenty';
  await created(name, 1);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => patch(name, scaleBody(i + 2), { headers: { 'idempotency-key': `k-${i}` } })),
  );
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses.filter((s) => s === 202)).toHaveLength(1);
  expect(statuses.filter((s) => s === 409)).toHaveLength(19);
  for (const refused of answers.filter((a) => a.status === 409)) expect(refused.json.error_code).toBe('PoolGate.0409');
  // The accepted one is withdrawn: its reservation goes with it.
  const accepted = answers.find((a) => a.status === 202)!.json.requestId as string;
  await settle(accepted, 'AWAITING_APPROVAL');
  const cancelled = await fetch(`${stack.endpoints.api}/requests/${accepted}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}` },
  });
  expect(cancelled.status).toBe(200);
  expect((await quota(name)).holds.has(accepted)).toBe(false);
});

it('grows a yearly/monthly node pool with an order id (its billing mode sent explicitly), and refuses to shrink it with 409', async () => {
  const name = 'np-yearly-scale';
  const createId = await created(name, 1, {
    'os.modelarts/billing.mode': '1',
    'os.modelarts/period.type': '2',
    'os.modelarts/period.num': '1',
    'os.modelarts/order.id': 'CS2612060000001',
  });
  const before = approvalMails(name).length;
  const up = await patch(name, {
    metadata: {
      annotations: {
        'os.modelarts/order.id': 'CS2612060000002',
        'os.modelarts/period.type': '2',
        'os.modelarts/period.num': '1',
      },
    },
    ...scaleBody(3),
  });
  expect(up.status).toBe(202);
  await approveNext(name, before);
  await settle(up.json.requestId as string, 'ACTIVE');
  const sent = JSON.parse((await patchCalls()).findLast((c) => c.path.endsWith(`/${name}`))!.body) as {
    metadata: { annotations: Record<string, string> };
  };
  expect(sent.metadata.annotations).toEqual({
    'os.modelarts/billing.mode': '1',
    'os.modelarts/order.id': 'CS2612060000002',
    'os.modelarts/period.type': '2',
    'os.modelarts/period.num': '1',
  });
  expect((await quota(name)).uses.get(createId)).toBe(3);

  const down = await patch(name, scaleBody(1));
  expect(down.status).toBe(409);
  expect(down.json).toEqual({ error_code: 'PoolGate.8409', error_msg: expect.stringContaining('yearly/monthly') });
  const otherMode = await patch(name, {
    metadata: { annotations: { 'os.modelarts/billing.mode': '0' } },
    ...scaleBody(4),
  });
  expect(otherMode.status).toBe(400);
  expect(otherMode.json.error_msg).toContain('os.modelarts/billing.mode');
  expect((await nodePools(stack)).find((n) => n.metadata.name === name)?.spec.resources.count).toBe(3);
});

async function retry(requestId: string) {
  const response = await fetch(`${stack.endpoints.api}/requests/${requestId}/retry`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}` },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

it('a scale that ModelArts refused gives its reservation back; its retry reserves the delta again; a superseded one cannot be retried', async () => {
  const name = 'np-scale-retry';
  const createId = await created(name, 2);
  await setFaults(stack, { rules: [{ rate: 1, operations: ['patch'], status: 400 }] });
  let failedId: string;
  try {
    const before = approvalMails(name).length;
    const up = await patch(name, scaleBody(5));
    failedId = up.json.requestId as string;
    await approveNext(name, before);
    const failed = await settle(up.json.requestId as string, 'FAILED');
    expect(failed.reason).toBe('MODELARTS_ERROR');
    // Finalize records FAILED, then gives the reservation back.
    const q = await eventually(async () => {
      const read = await quota(name);
      return read.holds.has(failedId) ? undefined : read;
    }, 'the reservation given back');
    expect(q.uses.get(createId)).toBe(2);
  } finally {
    await setFaults(stack, { rules: [] });
  }
  expect((await retry(failedId)).status).toBe(202);
  await settle(failedId, 'ACTIVE');
  let q = await quota(name);
  expect(q.holds.has(failedId)).toBe(false);
  expect(q.uses.get(createId)).toBe(5);
  expect(q.simulatorNodes).toBe(5);

  // Fails again (scale to 7), then a later scale-down finishes: the failed one is superseded.
  await setFaults(stack, { rules: [{ rate: 1, operations: ['patch'], status: 400 }] });
  let second: string;
  try {
    const before = approvalMails(name).length;
    second = (await patch(name, scaleBody(7))).json.requestId as string;
    await approveNext(name, before);
    await settle(second, 'FAILED');
  } finally {
    await setFaults(stack, { rules: [] });
  }
  const down = await patch(name, scaleBody(3));
  expect(down.status).toBe(202);
  await settle(down.json.requestId as string, 'ACTIVE');
  const refused = await retry(second);
  expect(refused.status).toBe(409);
  expect(refused.json).toEqual({ error_code: 'PoolGate.3409', error_msg: expect.stringContaining('superseded') });
  q = await quota(name);
  expect(q.holds.has(second)).toBe(false);
  expect(q.uses.get(createId)).toBe(3);
});

/** `poolgate <args>` against the stack as alice, with no terminal. */
const poolgate = (args: readonly string[]) => runPoolgate(stack, alice, args);

it('scales from the CLI: --dry-run says what would change, --wait exits 0 once ModelArts shows the new count', async () => {
  const name = 'np-cli-scale';
  const createId = await created(name, 3);
  const dry = await poolgate(['scale', `${POOL}/${name}`, '--project', PROJECT_ID, '--count', '5', '--dry-run']);
  expect(dry).toMatchObject({ code: 0, stdout: expect.stringContaining('from 3 to 5 nodes (+2, scale-up)') });
  const scaled = await poolgate([
    'scale',
    `${POOL}/${name}`,
    '--project',
    PROJECT_ID,
    '--count',
    '1',
    '--wait',
    '--json',
  ]);
  expect(scaled.code).toBe(0);
  expect(JSON.parse(scaled.stdout)).toMatchObject({
    kind: 'scale',
    status: 'ACTIVE',
    nodePoolName: name,
    change: { kind: 'scale-down', from: 3, to: 1 },
  });
  const q = await quota(name);
  expect(q.uses.get(createId)).toBe(1);
  expect(q.simulatorNodes).toBe(1);
});

it('a scale-up cancelled while it waits for approval gives back the nodes it reserved, and the node pool can be scaled again', async () => {
  const name = 'np-scale-cancel';
  const createId = await created(name, 2);
  const before = approvalMails(name).length;
  const up = await patch(name, scaleBody(5));
  const id = up.json.requestId as string;
  await eventually(() => approvalMails(name)[before], 'the approval mail');
  const waiting = await quota(name);
  expect(waiting.holds.get(id)).toBe(3);
  const cancelled = await fetch(`${stack.endpoints.api}/requests/${id}/cancel`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}` },
  });
  expect(cancelled.status).toBe(200);
  const q = await quota(name);
  expect(q.holds.has(id)).toBe(false);
  expect(q.reserved).toBe(waiting.reserved - 3);
  expect(q.uses.get(createId)).toBe(2);
  const item = await quotaItem(stack, TEAM, FLAVOR);
  expect(item[`open#${createId}`]).toBeUndefined();
  const down = await patch(name, scaleBody(1));
  expect(down.status).toBe(202);
  await settle(down.json.requestId as string, 'ACTIVE');
  expect((await quota(name)).uses.get(createId)).toBe(1);
});
