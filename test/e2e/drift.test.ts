/**
 * Drift on the local stack: node pools poolgate created, changed "in the console" (the simulator's
 * unsigned `/_sim` route), are found by the next reconciliation, recorded once as `unapproved_change` on
 * their request, mailed once to the team's approvers and the admins; a later run records nothing new.
 * The quota follows what exists, and a removed label does not free it.
 */
import { OWNER_LABEL } from '../../lambdas/domain/modelarts';
import { nodePools, quotaItem } from '../reliability/support/helpers';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import {
  changeInConsole,
  decide,
  exampleBody,
  getRequest,
  POOL,
  PROJECT_ID,
  submit,
} from '../../local/harness/requests';

jest.setTimeout(90_000);

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
  quotaReconciliation: { enabled: true, intervalSeconds: 1 },
  admins: ['root@example.com'],
  teams: [
    {
      name: 'ml-platform',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
      quotas: { [FLAVOR]: 100 },
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

type View = Awaited<ReturnType<typeof getRequest>>['json'];

async function createdAndActive(name: string, count: number): Promise<string> {
  const response = await submit(
    stack,
    alice,
    exampleBody(name, (b) => {
      b.spec.resources.count = count;
      b.spec.resources.maxCount = count;
    }),
  );
  expect(response.status).toBe(202);
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.subject.includes(name) && m.subject.includes('Approval needed')),
    `approval mail for ${name}`,
  );
  expect((await decide(mail.links[0], 'approve')).status).toBe(200);
  const requestId = response.json.requestId as string;
  await eventually(
    async () => ((await getRequest(stack, alice, requestId)).json.status === 'ACTIVE' ? true : undefined),
    `${name} to be ACTIVE`,
    30_000,
  );
  return requestId;
}

const driftSteps = (view: View) => view.steps.filter((s) => s.step === 'unapproved_change');
const driftMails = (name: string) =>
  readOutbox(stack).filter((m) => m.subject.includes(`Node pool ${name} `) && m.subject.includes('outside poolgate'));
const reconciliations = async () =>
  (
    (await (await fetch(`${stack.endpoints.api}/_local/usage`)).json()) as {
      scheduledRuns: { reconcileQuota?: number };
    }
  ).scheduledRuns.reconcileQuota ?? 0;

/** Waits for two more reconciliation runs to finish: the later one started after this call. */
async function twoMoreRuns(): Promise<void> {
  const from = await reconciliations();
  await eventually(async () => ((await reconciliations()) >= from + 2 ? true : undefined), 'two more reconciliations');
}

it('records a count changed in the console once, mails it once, follows the new count in the quota, and records nothing new on later runs', async () => {
  const requestId = await createdAndActive('np-drift-count', 2);
  expect(Number((await quotaItem(stack, 'ml-platform', FLAVOR)).used)).toBe(2);

  await changeInConsole(
    stack,
    { projectId: PROJECT_ID, pool: POOL, name: 'np-drift-count' },
    {
      spec: { resources: { count: 5, maxCount: 5 } },
    },
  );
  const view = await eventually(async () => {
    const { json } = await getRequest(stack, alice, requestId);
    return driftSteps(json).length ? json : undefined;
  }, 'the reconciliation to record the unapproved change');
  expect(driftSteps(view)).toEqual([
    expect.objectContaining({
      step: 'unapproved_change',
      outcome: 'error',
      detail: expect.objectContaining({ change: 'count', expected: 2, found: 5, nodePool: 'np-drift-count' }),
    }),
  ]);
  const mails = await eventually(
    () => (driftMails('np-drift-count').length ? driftMails('np-drift-count') : undefined),
    'the drift mail',
  );
  expect(mails).toHaveLength(1);
  expect(mails[0].to).toContain('bob@example.com');
  expect(mails[0].to).toContain('root@example.com');
  expect(mails[0].raw).toContain('5 node(s) in ModelArts, but 2 were approved');

  // used follows what exists: the quota reconciliation counts the 5 nodes.
  await eventually(
    async () => (Number((await quotaItem(stack, 'ml-platform', FLAVOR)).used) === 5 ? true : undefined),
    'the quota to follow the new count',
  );

  await twoMoreRuns();
  expect(driftSteps((await getRequest(stack, alice, requestId)).json)).toHaveLength(1);
  expect(driftMails('np-drift-count')).toHaveLength(1);

  // The request's signed page shows the step.
  const links = view.links as Record<string, string>;
  const page = await fetch(links.page, {
    headers: { accept: 'text/html' },
  });
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('Changed outside poolgate');
  expect(html).toContain('5 node(s) in ModelArts, but 2 were approved');
});

it("records a removed ownership label once and keeps the node pool's nodes counted", async () => {
  const requestId = await createdAndActive('np-drift-label', 3);
  const usedBefore = Number((await quotaItem(stack, 'ml-platform', FLAVOR)).used);

  await changeInConsole(
    stack,
    { projectId: PROJECT_ID, pool: POOL, name: 'np-drift-label' },
    {
      spec: { resources: { labels: { [OWNER_LABEL]: null } } },
    },
  );
  const shown = (await nodePools(stack)).find((n) => n.metadata.name === 'np-drift-label');
  expect(shown?.spec.resources.labels?.[OWNER_LABEL]).toBeUndefined();

  const view = await eventually(async () => {
    const { json } = await getRequest(stack, alice, requestId);
    return driftSteps(json).length ? json : undefined;
  }, 'the reconciliation to record the removed label');
  expect(driftSteps(view)).toEqual([
    expect.objectContaining({
      detail: expect.objectContaining({ change: 'label', expected: requestId, found: null }),
    }),
  ]);
  await eventually(() => (driftMails('np-drift-label').length ? true : undefined), 'the drift mail');

  await twoMoreRuns();
  // Not freed: the node pool still holds its 3 nodes in the team's quota.
  expect(Number((await quotaItem(stack, 'ml-platform', FLAVOR)).used)).toBe(usedBefore);
  const after = (await getRequest(stack, alice, requestId)).json;
  expect(driftSteps(after)).toHaveLength(1);
  expect(after.steps.filter((s) => s.step === 'quota_reconciled')).toEqual([]);
  expect(driftMails('np-drift-label')).toHaveLength(1);
});
