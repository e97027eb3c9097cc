/**
 * 40 scale-ups of 40 node pools of one team sent at once against what is left of its quota: each
 * reserves only the nodes it adds, atomically; the quota is never over-committed, and each refused one
 * ends REJECTED QUOTA_EXCEEDED before anyone is asked.
 */
import { inParallel, quotaItem, shares } from '../reliability/support/helpers';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, getRequest, POOL, PROJECT_ID, submit } from '../../local/harness/requests';

jest.setTimeout(90_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const TEAM = 'ml-platform';
const LIMIT = 100;
const POOLS = 40;
const ADDED = 3;
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
  quotaReconciliation: { enabled: false, intervalSeconds: 1 },
  admins: ['root@example.com'],
  teams: [
    {
      name: TEAM,
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: LIMIT },
    },
  ],
};

let stack: RunningStack;
let alice: string;

beforeAll(async () => {
  stack = await startStack({ policy });
  alice = await stack.token('alice@example.com');
});
afterAll(async () => {
  await stack?.stop();
});

const names = Array.from({ length: POOLS }, (_, i) => `np-q${String(i).padStart(2, '0')}`);
const mailsAbout = (name: string) =>
  readOutbox(stack).filter((m) => m.subject.includes(`${name} (`) && m.subject.includes('Approval needed'));

async function statusOf(requestId: string) {
  return (await getRequest(stack, alice, requestId)).json;
}

it(`scales ${POOLS} node pools up at once against the remaining quota: never over-committed, each refusal QUOTA_EXCEEDED before anyone is asked`, async () => {
  // 40 node pools of one node each, created through the gate.
  const createIds = await inParallel(names, 10, async (name) => {
    const response = await submit(stack, alice, exampleBody(name));
    expect(response.status).toBe(202);
    const mail = await eventually(() => mailsAbout(name)[0], `approval mail for ${name}`);
    expect((await decide(mail.links[0], 'approve')).status).toBe(200);
    return response.json.requestId as string;
  });
  await inParallel(createIds, 10, (id) =>
    eventually(async () => ((await statusOf(id)).status === 'ACTIVE' ? true : undefined), `${id} ACTIVE`, 60_000),
  );
  const before = await quotaItem(stack, TEAM, FLAVOR);
  expect(Number(before.inUse)).toBe(POOLS);
  const room = Math.floor((LIMIT - POOLS) / ADDED);

  // All at once: each asks for ADDED more nodes.
  const answers = await Promise.all(
    names.map(async (name) => {
      const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ spec: { resources: { flavor: FLAVOR, count: 1 + ADDED, maxCount: 1 + ADDED } } }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { requestId: string }).requestId;
    }),
  );
  // Each is checked: waiting for approval (its nodes reserved) or refused.
  const views = await inParallel(answers, 10, (id) =>
    eventually(
      async () => {
        const view = await statusOf(id);
        return view.status === 'AWAITING_APPROVAL' || view.status === 'REJECTED' ? view : undefined;
      },
      `${id} checked`,
      60_000,
    ),
  );
  const waiting = views.filter((v) => v.status === 'AWAITING_APPROVAL');
  const refused = views.filter((v) => v.status === 'REJECTED');
  expect(waiting).toHaveLength(room);
  expect(refused).toHaveLength(POOLS - room);
  for (const view of refused) {
    expect(view.reason).toBe('QUOTA_EXCEEDED');
    expect(view.steps.map((s) => s.step)).toEqual(['submitted', 'capacity_checked', 'quota_checked']);
    expect(view.steps.some((s) => s.step === 'approval_requested')).toBe(false);
  }
  const item = await quotaItem(stack, TEAM, FLAVOR);
  expect(Number(item.inUse)).toBeLessThanOrEqual(LIMIT);
  expect(Number(item.inUse)).toBe(POOLS + room * ADDED);
  expect(Number(item.reserved)).toBe(room * ADDED);
  const holds = shares(item, 'hold#');
  expect([...holds.keys()].sort()).toEqual(waiting.map((v) => v.requestId).sort());
  expect([...holds.values()].every((n) => n === ADDED)).toBe(true);
  // Nobody was asked about a refused one: one approval mail per node pool (its create) and one per waiting scale.
  for (const view of refused) expect(mailsAbout(view.nodePoolName as string)).toHaveLength(1);
});
