/**
 * Quota race: 40 one-node requests at once against a quota of 10. Exactly 10 pass the quota step;
 * the other 30 end REJECTED / QUOTA_EXCEEDED. Reservations given back (an approver rejects, the
 * requester cancels) return to the counter and can be taken again; approved ones become use.
 */
import { startStack, type RunningStack } from '../../local/harness/stack';
import { OutboxIndex } from '../../local/harness/outbox';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, getRequest, submit, waitForStatus } from '../../local/harness/requests';
import { inParallel, quotaItem, shares } from './support/helpers';

jest.setTimeout(300_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const LIMIT = 10;
const policy = {
  nodeTracking: { enabled: false },
  teams: [
    {
      name: 'race',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: LIMIT },
    },
  ],
};

let stack: RunningStack;
let alice: string;
let outbox: OutboxIndex;

beforeAll(async () => {
  stack = await startStack({ policy });
  alice = await stack.token('alice@example.com');
  outbox = new OutboxIndex(stack.endpoints.outbox);
});
afterAll(() => stack?.stop());

type Request = Awaited<ReturnType<typeof getRequest>>['json'];

/** Submits one-node requests all at once; returns each request once it has passed or failed the quota step. */
async function race(names: readonly string[]): Promise<Request[]> {
  const ids = await Promise.all(
    names.map(async (name) => {
      const response = await submit(stack, alice, exampleBody(name));
      expect(response.status).toBe(202);
      return response.json.requestId as string;
    }),
  );
  return inParallel(ids, 10, (id) =>
    eventually(
      async () => {
        const { json } = await getRequest(stack, alice, id);
        return json.status === 'AWAITING_APPROVAL' || json.status === 'REJECTED' ? json : undefined;
      },
      `${id} to pass or fail the quota step`,
      120_000,
      100,
    ),
  );
}

const quotaStep = (r: Request) => r.steps.find((s) => s.step === 'quota_checked');

async function counter() {
  const item = await quotaItem(stack, 'race', FLAVOR);
  return {
    inUse: Number(item.inUse ?? 0),
    reserved: Number(item.reserved ?? 0),
    used: Number(item.used ?? 0),
    holds: shares(item, 'hold#'),
    uses: shares(item, 'use#'),
  };
}

it(`lets exactly ${LIMIT} of 40 simultaneous requests reserve a quota of ${LIMIT}, and gives released reservations back`, async () => {
  const first = await race(Array.from({ length: 40 }, (_, i) => `race-${i}`));

  const passed = first.filter((r) => quotaStep(r)?.outcome === 'ok');
  const refused = first.filter((r) => quotaStep(r)?.outcome === 'refused');
  expect(passed).toHaveLength(LIMIT);
  expect(refused).toHaveLength(40 - LIMIT);
  for (const r of passed) expect(r.status).toBe('AWAITING_APPROVAL');
  for (const r of refused)
    expect({ status: r.status, reason: r.reason }).toEqual({ status: 'REJECTED', reason: 'QUOTA_EXCEEDED' });
  expect(await counter()).toEqual({
    inUse: LIMIT,
    reserved: LIMIT,
    used: 0,
    holds: new Map(passed.map((r) => [r.requestId, 1])),
    uses: new Map(),
  });

  // Give back 6 reservations: the approver rejects 4, the requester cancels 2; approve the other 4.
  const [rejected, cancelled, approved] = [passed.slice(0, 4), passed.slice(4, 6), passed.slice(6)];
  await inParallel(rejected, 4, async (r) => {
    const link = await eventually(() => outbox.link(r.requestId as string, 'bob@example.com'), 'approval mail');
    expect((await decide(link, 'reject')).status).toBe(200);
    expect((await waitForStatus(stack, alice, r.requestId as string, 'REJECTED', 60_000, 100)).reason).toBe(
      'APPROVER_REJECTED',
    );
  });
  await inParallel(cancelled, 2, async (r) => {
    const response = await fetch(`${stack.endpoints.api}/requests/${String(r.requestId)}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(response.status).toBe(200);
    await waitForStatus(stack, alice, r.requestId as string, 'CANCELLED', 60_000, 100);
  });
  await inParallel(approved, 4, async (r) => {
    const link = await eventually(() => outbox.link(r.requestId as string, 'bob@example.com'), 'approval mail');
    expect((await decide(link, 'approve')).status).toBe(200);
    await waitForStatus(stack, alice, r.requestId as string, 'CREATED', 60_000, 100);
  });
  // CREATED is final here (node tracking off): the reservations are use the moment it shows.
  expect(await counter()).toEqual({
    inUse: 4,
    reserved: 0,
    used: 4,
    holds: new Map(),
    uses: new Map(approved.map((r) => [r.requestId, 1])),
  });

  // The 6 nodes given back can be reserved again, by exactly 6 of 10 new simultaneous requests.
  const second = await race(Array.from({ length: 10 }, (_, i) => `race-again-${i}`));
  expect(second.filter((r) => quotaStep(r)?.outcome === 'ok')).toHaveLength(LIMIT - 4);
  expect(second.filter((r) => r.reason === 'QUOTA_EXCEEDED')).toHaveLength(4);
  expect(await counter()).toMatchObject({ inUse: LIMIT, reserved: LIMIT - 4, used: 4 });
});
