/**
 * A scale-up ModelArts accepted whose nodes then time out, on the local stack (nodes ready 11 s after a
 * change, tracked for 10 s, the policy's least; quota reconciliation every second): the request ends
 * FAILED NODES_TIMEOUT, yet its nodes stay counted (the quota and the node-pool record follow the
 * target, as for a created node pool), so a later create cannot over-commit and drift reports nothing.
 */
import { countOf } from '../../lambdas/domain/modelarts';
import { nodePools, quotaItem, shares } from '../reliability/support/helpers';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, getRequest, POOL, PROJECT_ID, submit } from '../../local/harness/requests';

jest.setTimeout(60_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const TEAM = 'ml-platform';
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 10 },
  quotaReconciliation: { enabled: true, intervalSeconds: 1 },
  admins: ['root@example.com'],
  teams: [
    {
      name: TEAM,
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: 8 },
    },
  ],
};

let stack: RunningStack;
let alice: string;
beforeAll(async () => {
  stack = await startStack({
    policy,
    env: { POOLGATE_NODE_READY_DELAY_MS: '11000' },
  });
  alice = await stack.token('alice@example.com');
});
afterAll(async () => {
  await stack?.stop();
});

type View = Awaited<ReturnType<typeof getRequest>>['json'];

async function settle(requestId: string, wanted: readonly string[]): Promise<View> {
  return eventually(
    async () => {
      const { json } = await getRequest(stack, alice, requestId);
      return wanted.includes(json.status) ? json : undefined;
    },
    `${requestId} to be ${wanted.join(' or ')}`,
  );
}

const approvalMails = (name: string) =>
  readOutbox(stack).filter((m) => m.subject.includes(name) && m.subject.includes('Approval needed'));

async function approveNext(name: string, before: number): Promise<void> {
  const mail = await eventually(() => approvalMails(name)[before], `approval mail ${before + 1} for ${name}`);
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
}

/** Creates `name` with `count` nodes (approved) and waits until its nodes are available. */
async function created(name: string, count: number): Promise<string> {
  const before = approvalMails(name).length;
  const response = await submit(
    stack,
    alice,
    exampleBody(name, (b) => {
      b.spec.resources.count = count;
      b.spec.resources.maxCount = count;
    }),
  );
  expect(response.status).toBe(202);
  await approveNext(name, before);
  const id = response.json.requestId as string;
  // Tracked for 10 s, ready after 11 s: the create may end FAILED (NODES_TIMEOUT); its node pool exists either way.
  await settle(id, ['ACTIVE', 'FAILED']);
  await eventually(
    async () => {
      const shown = (await nodePools(stack)).find((n) => n.metadata.name === name);
      return countOf(shown?.status?.resources?.available) === count ? true : undefined;
    },
    `${name}'s nodes available`,
    30_000,
  );
  return id;
}

async function patch(name: string, count: number) {
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { resources: { flavor: FLAVOR, count, maxCount: count } } }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { requestId: string }).requestId;
}

async function quota() {
  const item = await quotaItem(stack, TEAM, FLAVOR);
  return { inUse: Number(item.inUse ?? 0), uses: shares(item, 'use#'), holds: shares(item, 'hold#') };
}

const reconciliations = async () =>
  (
    (await (await fetch(`${stack.endpoints.api}/_local/usage`)).json()) as {
      scheduledRuns: { reconcileQuota?: number };
    }
  ).scheduledRuns.reconcileQuota ?? 0;

it('a scale-up that fails after ModelArts accepted it keeps its nodes counted: no over-commit, no drift', async () => {
  const name = 'np-failed-up';
  const createId = await created(name, 2);
  const before = approvalMails(name).length;
  const scaleId = await patch(name, 6);
  await approveNext(name, before);
  const failed = await settle(scaleId, ['FAILED', 'ACTIVE']);
  expect(failed.status).toBe('FAILED');
  expect(failed.reason).toBe('NODES_TIMEOUT');
  expect(failed.steps.map((s) => s.step)).toContain('node_pool_patched');

  // Finalize moved the reservation into the node pool's share: 6 counted, nothing held.
  const q = await eventually(async () => {
    const read = await quota();
    return read.holds.has(scaleId) ? undefined : read;
  }, 'the scale settled');
  expect(q.uses.get(createId)).toBe(6);
  expect(q.inUse).toBe(6);

  // 6 more would be 12 of 8.
  const other = await submit(
    stack,
    alice,
    exampleBody('np-failed-other', (b) => {
      b.spec.resources.count = 6;
      b.spec.resources.maxCount = 6;
    }),
  );
  const refused = await settle(other.json.requestId as string, ['REJECTED', 'AWAITING_APPROVAL']);
  expect(refused.reason).toBe('QUOTA_EXCEEDED');

  // The nodes arrive; two later reconciliations find the count poolgate recorded: no unapproved change.
  await eventually(
    async () => {
      const shown = (await nodePools(stack)).find((n) => n.metadata.name === name);
      return countOf(shown?.status?.resources?.available) === 6 ? true : undefined;
    },
    'the 6 nodes available',
    30_000,
  );
  const from = await reconciliations();
  await eventually(async () => ((await reconciliations()) >= from + 2 ? true : undefined), 'two reconciliations');
  for (const id of [createId, scaleId]) {
    const { json } = await getRequest(stack, alice, id);
    expect(json.steps.filter((s) => s.step === 'unapproved_change')).toEqual([]);
  }
  expect((await quota()).uses.get(createId)).toBe(6);
});
