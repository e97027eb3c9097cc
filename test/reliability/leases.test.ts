/**
 * Sixty leases (14 s each) with a 1 s sweep, a fifth of them extended once (by 30 s), and the stack killed (SIGKILL) once while
 * the lease deletions run, then restarted on the same data. After the last end plus grace only the
 * extended node pools remain, until their new end; then none. Every quota share is exact, ModelArts was
 * asked to delete each node pool at most once across the kill, a decoy whose label was changed in the
 * console is left untouched and reported (its metric, once, and the sweep's report naming it), and each
 * reminder went out at most once per lease and point (exactly once, unless its claim was written just as
 * the stack was killed); every lease whose points fell clear of the kill and of its extension had exactly
 * its expected reminders.
 */
import { rmSync } from 'node:fs';
import { OutboxIndex } from '../../local/harness/outbox';
import { eventually } from '../../local/harness/poll';
import { changeInConsole, exampleBody, getRequest, POOL, PROJECT_ID, submit } from '../../local/harness/requests';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { OWNER_LABEL } from '../../lambdas/domain/modelarts';
import { decide } from '../../local/harness/requests';
import { inParallel, nodePools, quotaItem, shares } from './support/helpers';

jest.setTimeout(150_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const LEASES = 60;
const EXTENDED = LEASES / 5;
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 120 },
  quotaReconciliation: { enabled: false, intervalSeconds: 1 },
  teams: [
    {
      name: 'leases',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: 200 },
      lease: { max: 'PT1M', maxTotal: 'PT2M', grace: 'PT2S', remindBefore: ['PT8S', 'PT4S'] },
    },
  ],
};
const env = {
  // Business metrics written as EMF lines (as on AWS), so the decoy's report is read from its metric.
  POWERTOOLS_METRICS_NAMESPACE: 'poolgate-reliability',
  POOLGATE_SWEEP_SECONDS: '1',
  POOLGATE_NODE_READY_DELAY_MS: '200',
  POOLGATE_NODE_DELETE_DELAY_MS: '1500',
};

let stack: RunningStack | undefined;
afterAll(async () => {
  await stack?.stop();
  if (stack) rmSync(stack.home, { recursive: true, force: true });
});

type View = Awaited<ReturnType<typeof getRequest>>['json'] & {
  lease?: { endsAt: string | null; deleteAt: string | null };
  reason?: string;
};

async function simulatorDeletes(s: RunningStack): Promise<Record<string, number>> {
  const state = (await (await fetch(`${s.endpoints.modelArts}/_sim/state`)).json()) as {
    deleteCalls: Record<string, number>;
  };
  return state.deleteCalls;
}

it('60 leases, 12 extended, one SIGKILL while deletions run: the right node pools go at the right time, once each', async () => {
  stack = await startStack({ policy, env });
  const alice = await stack.token('alice@example.com');
  const outbox = new OutboxIndex(stack.endpoints.outbox);
  const names = Array.from({ length: LEASES }, (_, i) => `lease-${String(i).padStart(2, '0')}`);

  // 60 creates with a 14 s lease each, and a decoy with the same lease.
  const all = [...names, 'lease-decoy'];
  const ids = await inParallel(all, 8, async (name) => {
    const response = await submit(stack!, alice, exampleBody(name), { 'x-lease': 'PT14S' });
    expect(response.status).toBe(202);
    return response.json.requestId as string;
  });
  const idOf = new Map(all.map((name, i) => [name, ids[i]]));
  const approve = (id: string) =>
    eventually(() => outbox.link(id, 'bob@example.com'), `the approval link of ${id}`, 30_000).then(async (link) =>
      expect((await decide(link, 'approve')).status).toBe(200),
    );
  const activeView = (id: string) =>
    eventually<View>(
      async () => {
        const { json } = await getRequest(stack!, alice, id);
        return json.status === 'ACTIVE' ? json : undefined;
      },
      `${id} to be ACTIVE`,
      40_000,
      250,
    );

  // A fifth approved first, and extended once by 30 s as soon as they are ACTIVE (well before their end).
  const extended = names.slice(0, EXTENDED);
  const firstEnd = new Map<string, number>();
  const extensions = await inParallel(extended, 6, async (name) => {
    const id = idOf.get(name)!;
    await approve(id);
    firstEnd.set(name, Date.parse((await activeView(id)).lease!.endsAt!));
    const response = await fetch(`${stack!.endpoints.api}/requests/${id}/extend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 'PT30S' }),
    });
    expect(response.status).toBe(202);
    const extension = ((await response.json()) as { requestId: string }).requestId;
    await approve(extension);
    await eventually(
      async () => ((await getRequest(stack!, alice, extension)).json.status === 'EXTENDED' ? true : undefined),
      `${extension} to be EXTENDED`,
      20_000,
      250,
    );
    return extension;
  });
  expect(extensions).toHaveLength(EXTENDED);

  // The others and the decoy.
  const rest = all.slice(EXTENDED);
  await inParallel(rest, 6, (name) => approve(idOf.get(name)!));
  const restActive = await inParallel(rest, 8, (name) => activeView(idOf.get(name)!));
  rest.forEach((name, i) => firstEnd.set(name, Date.parse(restActive[i].lease!.endsAt!)));

  // The decoy's label is changed in the console: it is not the node pool poolgate created any more.
  await changeInConsole(
    stack,
    { projectId: PROJECT_ID, pool: POOL, name: 'lease-decoy' },
    { spec: { resources: { labels: { [OWNER_LABEL]: 'someone-else' } } } },
  );

  // Killed once the lease deletions run (some asked of ModelArts, nodes still deleting), then restarted.
  await eventually(
    async () => (Object.keys(await simulatorDeletes(stack!)).length >= 5 ? true : undefined),
    'lease deletions under way',
    60_000,
    100,
  );
  const home = stack.home;
  await stack.stop('SIGKILL', true);
  const killedAt = Date.now();
  const outputBeforeKill = stack.output();
  stack = await startStack({ home, policy, env });
  const restartedAt = Date.now();

  // After the last end plus grace of the others: only the extended ones remain, until their new end.
  const others = names.slice(EXTENDED);
  await eventually(
    async () => {
      const shown = new Set((await nodePools(stack!)).map((n) => n.metadata.name));
      return others.every((name) => !shown.has(name)) ? true : undefined;
    },
    'the node pools whose lease ran out to be gone',
    60_000,
    500,
  );
  const shownNow = new Set((await nodePools(stack)).map((n) => n.metadata.name));
  const now = Date.now();
  let stillBeforeTheirEnd = 0;
  for (const name of extended) {
    // Still there while their new end (first end + 30 s) has not come.
    if (now < firstEnd.get(name)! + 30_000) {
      expect(shownNow.has(name)).toBe(true);
      stillBeforeTheirEnd += 1;
    }
  }
  expect(stillBeforeTheirEnd).toBeGreaterThan(0);
  expect(shownNow.has('lease-decoy')).toBe(true);

  // Then none (but the decoy).
  await eventually(
    async () => {
      const shown = (await nodePools(stack!)).map((n) => n.metadata.name);
      return shown.length === 1 && shown[0] === 'lease-decoy' ? true : undefined;
    },
    'the extended node pools to be gone after their new end',
    60_000,
    500,
  );
  for (const name of names) {
    const deletion = await eventually(
      async () => {
        const views = await Promise.all(
          [1, 2].map(async (n) => (await getRequest(stack!, alice, `${idOf.get(name)}-lease-${n}`)).json as View),
        );
        return views.find((v) => v.status === 'DELETED');
      },
      `the lease deletion of ${name}`,
      20_000,
    );
    const expiredAt = Date.parse(deletion.steps.find((s) => s.step === 'lease_expired')!.at);
    const end = firstEnd.get(name)! + (extended.includes(name) ? 30_000 : 0);
    expect(expiredAt).toBeGreaterThanOrEqual(end + 2_000);
  }

  // ModelArts was asked to delete each node pool at most once across the kill; never the decoy.
  const deletes = await simulatorDeletes(stack);
  for (const [key, count] of Object.entries(deletes)) expect([key, count]).toEqual([key, 1]);
  expect(Object.keys(deletes).filter((k) => k.endsWith('/lease-decoy'))).toEqual([]);
  expect(Object.keys(deletes)).toHaveLength(LEASES);

  // The decoy: its lease deletion refused (not ours), reported, nothing deleted; its share still counted.
  const decoyDeletion = await eventually<View>(
    async () => {
      const { json } = await getRequest(stack!, alice, `${idOf.get('lease-decoy')}-lease-1`);
      return json.status === 'REJECTED' ? json : undefined;
    },
    'the decoy lease deletion to be refused',
    20_000,
  );
  expect(decoyDeletion.reason).toBe('NODE_POOL_NOT_OURS');
  // Reported by the sweep: its report names the decoy and nothing else, and the metric (alarmed on AWS)
  // counted it once, across the kill.
  const lines = () => `${outputBeforeKill}\n${stack!.output()}`.split('\n');
  const notOursMetrics = () =>
    lines().filter((l) => l.includes('"CloudWatchMetrics"') && l.includes('"leaseNodePoolNotOurs"')).length;
  await eventually(() => (notOursMetrics() >= 1 ? true : undefined), 'the leaseNodePoolNotOurs metric', 10_000);
  expect(notOursMetrics()).toBe(1);
  const reported = lines()
    .filter((l) => l.includes("leases ended on node pools that are not poolgate's any more"))
    .flatMap((l) => (JSON.parse(l.slice(l.indexOf('{'))) as { notOurs: string[] }).notOurs);
  expect(reported).toEqual([`${PROJECT_ID}/${POOL}/lease-decoy`]);

  // Every quota share exact: only the decoy's nodes are counted, nothing reserved.
  const item = await quotaItem(stack, 'leases', FLAVOR);
  expect(shares(item, 'hold#').size).toBe(0);
  expect([...shares(item, 'use#').keys()]).toEqual([idOf.get('lease-decoy')]);
  const decoyCount = shares(item, 'use#').get(idOf.get('lease-decoy')!)!;
  expect(Number(item.used)).toBe(decoyCount);
  expect(Number(item.inUse)).toBe(decoyCount);
  expect(Number(item.reserved ?? 0)).toBe(0);

  // Each reminder at most once per lease and point; exactly once unless claimed just as the stack was killed.
  const mails = readOutbox(stack).filter((m) => m.subject.startsWith('The lease of node pool'));
  const sent = new Map<string, number>();
  for (const mail of mails) {
    const name = /node pool (\S+?)[: ]/.exec(mail.subject)![1];
    const point = /Reminder: (\S+) before the end/.exec(mail.raw)?.[1] ?? 'end';
    const endsAt = /Lease ends: .*\((\S+)\)/.exec(mail.raw)![1];
    const key = `${name} ${endsAt} ${point}`;
    sent.set(key, (sent.get(key) ?? 0) + 1);
  }
  for (const [key, count] of sent) expect([key, count]).toEqual([key, 1]);
  const extendedAt = new Map<string, number>();
  for (const [i, name] of extended.entries()) {
    const { json } = await getRequest(stack, alice, extensions[i]);
    extendedAt.set(name, Date.parse(json.steps.find((s) => s.step === 'lease_extended')!.at));
  }
  // Each lease's reminder points (two, then the end notice) for each end it had. Those of a first end
  // that an extension moved are due only if they came before the extension was applied.
  const pointsOf = (end: number) => [
    { point: 'PT8S', at: end - 8_000, endsAt: new Date(end).toISOString() },
    { point: 'PT4S', at: end - 4_000, endsAt: new Date(end).toISOString() },
    { point: 'end', at: end, endsAt: new Date(end).toISOString() },
  ];
  let checkedExactly = 0;
  for (const name of all) {
    const { json } = await getRequest(stack, alice, idOf.get(name)!);
    const claims = json.steps.filter((s) => s.step === 'lease_reminded') as unknown as Array<{
      at: string;
      detail: { endsAt: string; point: string };
    }>;
    for (const claim of claims) {
      const count = sent.get(`${name} ${claim.detail.endsAt} ${claim.detail.point}`) ?? 0;
      const claimedAt = Date.parse(claim.at);
      const atTheKill = claimedAt <= killedAt && claimedAt > killedAt - 2_000;
      if (!atTheKill) expect([name, claim.detail.point, count]).toEqual([name, claim.detail.point, 1]);
    }
    // Exactly the expected points, for a lease none of whose points fell where the outcome may differ:
    // around the kill (down until the restart: only the latest overdue point is sent after it), or around
    // its extension (the end moved while the sweep was on that point).
    const first = firstEnd.get(name)!;
    const movedAt = extendedAt.get(name);
    const points = movedAt === undefined ? pointsOf(first) : [...pointsOf(first), ...pointsOf(first + 30_000)];
    const uncertain = points.some(
      (p) =>
        (p.at > killedAt - 2_000 && p.at < restartedAt + 2_000) ||
        (movedAt !== undefined && p.at > movedAt - 2_000 && p.at < movedAt + 1_000),
    );
    if (uncertain) continue;
    const expected = points.filter(
      (p) => movedAt === undefined || p.endsAt !== new Date(first).toISOString() || p.at < movedAt,
    );
    expect([name, claims.map((c) => `${c.detail.endsAt} ${c.detail.point}`).sort()]).toEqual([
      name,
      expected.map((p) => `${p.endsAt} ${p.point}`).sort(),
    ]);
    for (const p of expected)
      expect([name, p.point, sent.get(`${name} ${p.endsAt} ${p.point}`)]).toEqual([name, p.point, 1]);
    checkedExactly += 1;
  }
  // Enough leases were checked exactly for a missing reminder to be noticed.
  expect(checkedExactly).toBeGreaterThanOrEqual(LEASES / 4);
  // No mail without its claim.
  expect(mails.length).toBeLessThanOrEqual(
    (
      await Promise.all(
        all.map(
          async (name) =>
            (await getRequest(stack!, alice, idOf.get(name)!)).json.steps.filter((s) => s.step === 'lease_reminded')
              .length,
        ),
      )
    ).reduce((a, b) => a + b, 0),
  );
});
