/**
 * Leases on the local stack (1 s sweep): the header's refusals, reminders with a personal extension link,
 * extensions (bearer and link, once per lease, within maxTotal), and the end of a lease: requests still
 * waiting on the node pool end CANCELLED / LEASE_ENDED and the node pool is deleted by a `lease`
 * delete; an extension approved before end plus grace keeps it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { extendLinkSignature } from '../../lambdas/domain/lease-link';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, getRequest, POOL, PROJECT_ID, submit } from '../../local/harness/requests';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { nodePools, quotaItem, shares } from '../reliability/support/helpers';

jest.setTimeout(120_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
  quotaReconciliation: { enabled: false, intervalSeconds: 1 },
  admins: ['root@example.com'],
  pricing: { [FLAVOR]: { hourly: 2, currency: 'USD' } },
  teams: [
    {
      name: 'ml-platform',
      members: [{ email: 'alice@example.com' }, { email: 'carol@example.com' }],
      stages: [
        { name: 'manager', approvers: [{ email: 'bob@example.com' }] },
        // Deletes by users wait for an approval here (a request holding the record while it waits).
        { name: 'deletes', approvers: [{ email: 'bob@example.com' }], when: { changes: ['delete'] } },
      ],
      quotas: { [FLAVOR]: 100 },
      lease: { default: 'PT1H', max: 'P1D', maxTotal: 'P2D', grace: 'PT2S', remindBefore: ['PT4S'] },
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
  stack = await startStack({
    policy,
    env: { POOLGATE_SWEEP_SECONDS: '1', POOLGATE_NODE_READY_DELAY_MS: '200', POOLGATE_NODE_DELETE_DELAY_MS: '300' },
  });
  alice = await stack.token('alice@example.com');
});
afterAll(async () => {
  await stack?.stop();
});

type View = Awaited<ReturnType<typeof getRequest>>['json'] & {
  lease?: { duration: string; endsAt: string | null; deleteAt: string | null; extendedBy?: string };
  reason?: string;
  trigger?: string;
};

async function view(requestId: string, token = alice): Promise<View> {
  return (await getRequest(stack, token, requestId)).json;
}

async function settle(requestId: string, wanted: string, token = alice, timeoutMs = 30_000): Promise<View> {
  return eventually(
    async () => {
      const json = await view(requestId, token);
      return json.status === wanted ? json : undefined;
    },
    `${requestId} to be ${wanted}`,
    timeoutMs,
  );
}

const mailsAbout = (text: string) => readOutbox(stack).filter((m) => m.subject.includes(text));

/** Submits as alice (with `lease` as X-Lease), approves from bob's link, waits for ACTIVE. */
async function leased(name: string, lease?: string): Promise<View> {
  const before = mailsAbout(`Approval needed: node pool ${name} `).length;
  const response = await submit(stack, alice, exampleBody(name), lease ? { 'x-lease': lease } : {});
  expect(response.status).toBe(202);
  const mail = await eventually(
    () => mailsAbout(`Approval needed: node pool ${name} `)[before],
    `approval mail ${before + 1} for ${name}`,
  );
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  return settle(response.json.requestId as string, 'ACTIVE');
}

async function extend(createId: string, duration: unknown, token = alice) {
  const response = await fetch(`${stack.endpoints.api}/requests/${createId}/extend`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ duration }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

async function userDelete(name: string, token = alice, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

async function userPatch(name: string, body: unknown, headers: Record<string, string> = {}, token = alice) {
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

const scaleTo = (count: number) => ({ spec: { resources: { flavor: FLAVOR, count, maxCount: count } } });

/** Finished runs of the lease sweep (the local usage meter). */
const sweeps = async () =>
  (
    (await (await fetch(`${stack.endpoints.api}/_local/usage`)).json()) as {
      scheduledRuns: { sweepLeases?: number };
    }
  ).scheduledRuns.sweepLeases ?? 0;

const shown = async (name: string) => (await nodePools(stack)).some((n) => n.metadata.name === name);

it('refuses a lease over max, X-Lease on yearly/monthly, on a DELETE and on a PATCH (400 PoolGate.0400); the 202 shows the default lease', async () => {
  const tooLong = await submit(stack, alice, exampleBody('np-too-long'), { 'x-lease': 'P3D' });
  expect(tooLong.status).toBe(400);
  expect(tooLong.json.error_code).toBe('PoolGate.0400');
  expect(tooLong.json.error_msg).toMatch(/X-Lease: P3D is longer than the policy's lease.max P1D/);

  const notADuration = await submit(stack, alice, exampleBody('np-bad-lease'), { 'x-lease': 'two weeks' });
  expect(notADuration.status).toBe(400);
  expect(notADuration.json.error_msg).toMatch(/^X-Lease: must be a positive ISO 8601 duration/);

  const yearly = exampleBody('np-yearly', (b) => {
    b.metadata.annotations = {
      'os.modelarts/billing.mode': '1',
      'os.modelarts/period.num': '1',
      'os.modelarts/period.type': '2',
    };
  });
  const prepaid = await submit(stack, alice, yearly, { 'x-lease': 'P1D' });
  expect(prepaid.status).toBe(400);
  expect(prepaid.json.error_code).toBe('PoolGate.0400');
  expect(prepaid.json.error_msg).toMatch(/X-Lease: a yearly\/monthly node pool cannot have a lease/);

  const onDelete = await userDelete('np-any', alice, { 'x-lease': 'P1D' });
  expect(onDelete.status).toBe(400);
  expect(onDelete.json.error_code).toBe('PoolGate.0400');
  expect(onDelete.json.error_msg).toMatch(/^X-Lease: only a create takes a lease/);

  const onPatch = await userPatch('np-any', scaleTo(2), { 'x-lease': 'P1D' });
  expect(onPatch.status).toBe(400);
  expect(onPatch.json.error_code).toBe('PoolGate.0400');
  expect(onPatch.json.error_msg).toMatch(/^X-Lease: only a create takes a lease/);

  // Without the header (Huawei's SDKs, Terraform): the policy default, shown at once.
  const byDefault = await submit(stack, alice, exampleBody('np-default-lease'));
  expect(byDefault.status).toBe(202);
  expect(byDefault.json.lease).toEqual({ duration: 'PT1H', endsAt: null, deleteAt: null });
  const optedOut = await submit(stack, alice, exampleBody('np-no-lease'), { 'x-lease': 'none' });
  expect(optedOut.status).toBe(202);
  expect(optedOut.json.lease).toBeUndefined();
});

it('reminds the holder with a personal link; extensions: 409 past maxTotal, 403 for an outsider link, one request when posted twice, EXTENDED before the end keeps the node pool', async () => {
  const created = await leased('np-kept', 'PT8S');
  const createId = created.requestId as string;
  const endsAt = Date.parse(created.lease!.endsAt!);
  const startedAt = Date.parse(created.steps.find((s) => s.step === 'node_pool_created')!.at);
  expect(endsAt - startedAt).toBe(8_000);

  expect(await extend(createId, 'P2D')).toMatchObject({ status: 409, json: { error_code: 'PoolGate.6409' } });
  expect((await extend(createId, 'P2D')).json.error_msg).toMatch(/past the policy's lease.maxTotal of P2D/);
  expect((await extend(createId, 'soon')).status).toBe(400);
  const victor = await stack.token('victor@example.com');
  expect((await extend(createId, 'PT1H', victor)).status).toBe(404);

  // The reminder (PT4S before the end) carries alice's personal extension link.
  const reminder = await eventually(
    () =>
      mailsAbout('The lease of node pool np-kept ends in ').find((m) =>
        m.raw.includes('Reminder: PT4S before the end'),
      ),
    'the reminder',
  );
  // It says the time actually left (4 s at most, as the sweep sends it at or after the point).
  expect(reminder.subject).toMatch(/ends in [0-4] s \(at /);
  expect(reminder.to).toBe('alice@example.com');
  const link = /https?:\/\/\S+\/requests\/\S+\/extend\?as=\S+&sig=[\w-]+/.exec(reminder.raw)![0];
  expect(reminder.raw).toContain(`npx poolgate extend ${createId} --by P7D`);
  const page = await fetch(link, { headers: { accept: 'text/html' } });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<select id="duration" name="duration">');

  // A link made out to someone outside the owning team, and alice's link with another name: 403.
  const key = readFileSync(join(stack.home, 'secrets', 'link-signing-key'), 'utf8').trim();
  const outsider = `${stack.endpoints.api}/requests/${createId}/extend?as=victor%40example.com&sig=${extendLinkSignature(createId, 'victor@example.com', key)}`;
  expect((await fetch(outsider, { headers: { accept: 'text/html' } })).status).toBe(403);
  expect((await postForm(outsider, 'PT1H')).status).toBe(403);
  expect((await postForm(link.replace('as=alice', 'as=carol'), 'PT1H')).status).toBe(403);

  // Posted twice: one extension request.
  expect((await postForm(link, 'PT1H')).status).toBe(202);
  expect((await postForm(link, 'PT1H')).status).toBe(202);
  const approvals = await eventually(
    () => mailsAbout('Approval needed: extend the lease of node pool np-kept by PT1H').length === 1 || undefined,
    'one extension approval mail',
  );
  expect(approvals).toBe(true);
  const listed = (await (
    await fetch(`${stack.endpoints.api}/requests?mine=true&limit=100`, {
      headers: { authorization: `Bearer ${alice}` },
    })
  ).json()) as { items: Array<{ kind: string; requestId: string; nodePoolName: string }> };
  const extensions = listed.items.filter((r) => r.kind === 'extend' && r.nodePoolName === 'np-kept');
  expect(extensions).toHaveLength(1);
  const mail = mailsAbout('Approval needed: extend the lease of node pool np-kept')[0];
  expect(mail.raw).toContain('Estimated cost of the whole lease');
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const extended = await settle(extensions[0].requestId, 'EXTENDED');
  expect(extended.steps.map((s) => s.step)).toContain('lease_extended');

  // Two lease sweeps that started after the first end plus grace have finished (the local usage meter
  // counts finished scheduled runs): still there, no deletion, the end moved by an hour.
  await eventually(() => (Date.now() > endsAt + 2_000 ? true : undefined), 'the first end plus grace', 20_000);
  const from = await sweeps();
  await eventually(async () => ((await sweeps()) >= from + 3 ? true : undefined), 'two more lease sweeps', 20_000);
  expect(await shown('np-kept')).toBe(true);
  const after = await view(createId);
  expect(Date.parse(after.lease!.endsAt!)).toBe(endsAt + 3_600_000);
  expect(after.lease!.extendedBy).toBe('PT1H');
  expect((await getRequest(stack, alice, `${createId}-lease-1`)).status).toBe(404);
});

it('a lease that ends while an extension and a scale-up wait for approval: both CANCELLED / LEASE_ENDED, its reservation released, the node pool deleted by a lease delete within end + grace + two sweeps', async () => {
  const created = await leased('np-ends', 'PT8S');
  const createId = created.requestId as string;
  const deleteAt = Date.parse(created.lease!.deleteAt!);

  const extension = await extend(createId, 'PT1H');
  expect(extension.status).toBe(202);
  const carol = await stack.token('carol@example.com');
  // A scale-up (1 -> 4 nodes) needs the create stages' approval; it holds its delta meanwhile.
  const scaleUp = await userPatch('np-ends', scaleTo(4), {}, carol);
  expect(scaleUp.status).toBe(202);
  await settle(extension.json.requestId, 'AWAITING_APPROVAL');
  await settle(scaleUp.json.requestId, 'AWAITING_APPROVAL', carol);
  const holding = await quotaItem(stack, 'ml-platform', FLAVOR);
  expect([...shares(holding, 'hold#').keys()]).toContain(scaleUp.json.requestId);

  // The node pool is gone from ModelArts by end + grace + two sweeps (1 s each), plus the simulator's
  // deletion delay (300 ms) and this poll's interval.
  const goneAt = await eventually(
    async () => ((await shown('np-ends')) ? undefined : Date.now()),
    'np-ends gone',
    40_000,
    100,
  );
  expect(goneAt).toBeLessThanOrEqual(deleteAt + 2 * 1_000 + 300 + 200);
  const leaseDeletion = await settle(`${createId}-lease-1`, 'DELETED', alice, 40_000);
  expect(leaseDeletion.trigger).toBe('lease');
  expect(leaseDeletion.requester).toBe('alice@example.com');
  expect(leaseDeletion.steps.map((s) => s.step).slice(0, 2)).toEqual(['lease_expired', 'submitted']);
  expect(leaseDeletion.steps[0].actor).toBe('poolgate');
  const expiredAt = Date.parse(leaseDeletion.steps[0].at);
  expect(expiredAt).toBeGreaterThanOrEqual(deleteAt);
  expect(expiredAt).toBeLessThanOrEqual(deleteAt + 2_000 + 1_000);

  for (const [id, token] of [
    [extension.json.requestId, alice],
    [scaleUp.json.requestId, carol],
  ] as const) {
    const cancelled = await view(id, token);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', reason: 'LEASE_ENDED' });
  }
  expect(await shown('np-ends')).toBe(false);
  // The end notice came before the deletion; the holder heard of the deletion.
  expect(mailsAbout('The lease of node pool np-ends has ended')).toHaveLength(1);
  const item = await quotaItem(stack, 'ml-platform', FLAVOR);
  expect(shares(item, 'use#').get(createId)).toBeUndefined();
  expect([...shares(item, 'hold#').keys()]).not.toContain(scaleUp.json.requestId);
  expect([...shares(item, 'hold#').keys()]).not.toContain(extension.json.requestId);

  // Only an admin may cancel or retry a lease's deletion.
  const retry = await fetch(`${stack.endpoints.api}/requests/${createId}-lease-1/retry`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}` },
  });
  expect(retry.status).toBe(403);
  // The record dropped its lease: the name is free, and a new node pool of that name starts afresh.
  const again = await leased('np-ends');
  expect(again.lease).toMatchObject({ duration: 'PT1H' });
  expect(Date.parse(again.lease!.endsAt!)).toBeGreaterThan(Date.now() + 3_000_000);
});

async function postForm(link: string, duration: string) {
  const response = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ duration }).toString(),
  });
  return { status: response.status, html: await response.text() };
}

/** Runs `poolgate <args>` against the stack as alice, with no terminal. */
async function poolgate(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    POOLGATE_URL: stack.endpoints.api,
    POOLGATE_HOME: stack.home,
    POOLGATE_TOKEN: alice,
  };
  const child = spawn(process.execPath, [resolve(__dirname, '../../cli/poolgate.mjs'), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  return { code, stdout, stderr };
}

it('the CLI: submit --lease, extend <id> --by, the lease in status and nodepools', async () => {
  const file = join(stack.home, 'np-cli.json');
  writeFileSync(file, JSON.stringify(exampleBody('np-cli')));
  const submitted = await poolgate([
    'submit',
    file,
    '--project',
    PROJECT_ID,
    '--pool',
    POOL,
    '--lease',
    'PT2H',
    '--json',
  ]);
  expect(submitted.code).toBe(0);
  const accepted = JSON.parse(submitted.stdout) as { requestId: string; lease: { duration: string } };
  expect(accepted.lease.duration).toBe('PT2H');
  const mail = await eventually(() => mailsAbout('Approval needed: node pool np-cli ')[0], 'approval mail for np-cli');
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const active = await settle(accepted.requestId, 'ACTIVE');

  const status = await poolgate(['status', accepted.requestId.slice(0, 8)]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/Lease\s+PT2H, ends \S+ \S+ UTC, deleted/);
  const inventory = await poolgate(['nodepools']);
  expect(inventory.stdout).toMatch(/np-cli .* lease ends \S+ \S+ UTC/);

  const extended = await poolgate(['extend', accepted.requestId.slice(0, 8), '--by', 'P1D']);
  expect(extended.code).toBe(0);
  expect(extended.stdout).toMatch(/^Submitted extension request \S+ \(SUBMITTED\) for the lease of np-cli, which ends/);
  const refused = await poolgate(['extend', accepted.requestId, '--by', 'P3D']);
  expect(refused.code).toBe(1);
  expect(refused.stderr + refused.stdout).toMatch(/past the policy's lease.maxTotal of P2D/);
  expect(active.lease!.endsAt).not.toBeNull();
});
