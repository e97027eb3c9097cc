/**
 * Approval rules through the local stack: Slack buttons (signed), N-of-M, no self-approval, the
 * finance stage and its order id, reminders and expiry, cancellation, simultaneous decisions,
 * escaping. One stack with a policy made for these tests (short durations for the time rules).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ModelArtsClient } from '../../lambdas/adapters/modelarts/client';
import { LOCAL_TABLE_NAME } from '../../local/main';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../local/settings';
import { readOutbox, readSlackCalls, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import {
  acceptedCreateBody,
  decide,
  exampleBody,
  formFields,
  getRequest,
  openLink,
  POOL,
  postDecision,
  PROJECT_ID,
  submit,
  waitForStatus,
} from '../../local/harness/requests';
import { blockAction, postSlack, TEST_SLACK_SIGNING_SECRET } from '../support/slack';

jest.setTimeout(120_000);

const person = (name: string, slack?: string) => ({
  email: `${name}@example.com`,
  ...(slack ? { slackUserId: slack } : {}),
});
const policy = {
  admins: ['root@example.com'],
  // These tests are about approvals: a request ends CREATED once ModelArts accepts it.
  nodeTracking: { enabled: false },
  pricing: { 'modelarts.vm.2u4g.dcc': { hourly: 0.5, currency: 'USD' } },
  teams: [
    {
      name: 'ml-platform',
      members: [person('alice', 'U0ALICE001'), person('dave', 'U0DAVE0001')],
      stages: [
        {
          name: 'manager',
          approvers: [person('bob', 'U0BOB00001'), person('dave', 'U0DAVE0001')],
          requiredApprovals: 1,
        },
        {
          name: 'finance',
          approvers: [person('carol', 'U0CAROL001')],
          when: { billingModes: ['1'] },
          collectsOrderId: true,
        },
      ],
      // Many requests of this suite stay open (each holds its reservation): room for all of them.
      quotas: { 'modelarts.vm.2u4g.dcc': 100 },
    },
    {
      name: 'quorum',
      members: [person('grace')],
      stages: [{ name: 'leads', approvers: [person('bob'), person('carol'), person('dave')], requiredApprovals: 2 }],
      quotas: { 'modelarts.vm.2u4g.dcc': 10 },
    },
    {
      name: 'fast',
      members: [person('heidi')],
      stages: [
        { name: 'manager', approvers: [person('bob')], requiredApprovals: 1, remindAfter: 'PT2S', expireAfter: 'PT5S' },
      ],
      escalation: [person('ivan')],
      quotas: { 'modelarts.vm.2u4g.dcc': 10 },
    },
  ],
};

let stack: RunningStack;
const tokens: Record<string, string> = {};
const token = async (name: string) => (tokens[name] ??= await stack.token(`${name}@example.com`));

beforeAll(async () => {
  stack = await startStack({ policy, env: { SLACK_SIGNING_SECRET: TEST_SLACK_SIGNING_SECRET } });
});
afterAll(() => stack?.stop());

async function mailFor(who: string, nodePool: string, subject = 'Approval needed') {
  return eventually(
    () =>
      readOutbox(stack).find(
        (m) => m.to.includes(`${who}@example.com`) && m.subject.includes(nodePool) && m.subject.includes(subject),
      ),
    `mail "${subject}" to ${who} about ${nodePool}`,
  );
}

async function submitFor(
  requester: string,
  name: string,
  change?: Parameters<typeof exampleBody>[1],
  headers: Record<string, string> = {},
) {
  const response = await submit(stack, await token(requester), exampleBody(name, change), headers);
  expect(response.status).toBe(202);
  return response.json.requestId as string;
}

/** This request's share of the team's quota counter, read straight from the local DynamoDB. */
async function quotaHold(team: string, flavor: string, requestId: string): Promise<unknown> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.endpoints.dynamoDb }));
  const { Item } = await db.send(
    new GetCommand({ TableName: LOCAL_TABLE_NAME, Key: { pk: `QUOTA#${team}`, sk: `FLAVOR#${flavor}` } }),
  );
  return Item?.[`hold#${requestId}`];
}

const approvalIdOf = (link: string) => new URL(link).pathname.split('/').pop() as string;

describe('Slack', () => {
  it('asks approvers with buttons that carry only the approval id, and decides on a signed click', async () => {
    const requestId = await submitFor('alice', 'np-slack-ok', undefined, { 'x-justification': 'ranking model' });
    const bobMail = await mailFor('bob', 'np-slack-ok');
    const asked = await eventually(() => {
      const calls = readSlackCalls(stack).filter(
        (c) => c.method === 'chat.postMessage' && c.payload.text?.includes('np-slack-ok'),
      );
      return calls.length === 2 ? calls : undefined;
    }, 'two Slack DMs');
    expect(asked.map((c) => c.payload.channel).sort()).toEqual(['U0BOB00001', 'U0DAVE0001']);
    const buttons = asked[0].payload.blocks?.find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.map((b) => b.value)).toEqual([approvalIdOf(bobMail.links[0]), approvalIdOf(bobMail.links[0])]);
    expect(JSON.stringify(asked[0].payload)).toContain('0.50 USD/h');
    expect(JSON.stringify(asked[0].payload)).toContain('ranking model');

    const response = await postSlack(stack, blockAction('U0BOB00001', 'approve', approvalIdOf(bobMail.links[0])));
    expect(response.status).toBe(200);
    const done = await waitForStatus(stack, await token('alice'), requestId, 'CREATED');
    expect(done.steps.find((s) => s.step === 'approved')).toMatchObject({ actor: 'bob@example.com' });

    // Every message of the stage now says who decided, without buttons.
    const updates = await eventually(() => {
      const calls = readSlackCalls(stack).filter(
        (c) => c.method === 'chat.update' && c.payload.text?.includes('np-slack-ok'),
      );
      return calls.length === 2 ? calls : undefined;
    }, 'both Slack messages updated');
    for (const update of updates) {
      expect(update.payload.text).toContain('approved by bob@example.com');
      expect(update.payload.blocks?.some((b) => b.type === 'actions')).toBe(false);
    }
    // The requester is told, by e-mail and Slack DM.
    await mailFor('alice', 'np-slack-ok', 'was approved');
    // The DM follows the e-mail: wait for it (with a deadline) rather than look once.
    await eventually(
      () =>
        readSlackCalls(stack).find(
          (c) => c.payload.channel === 'U0ALICE001' && c.payload.text?.includes('np-slack-ok'),
        ),
      'the Slack DM to alice',
    );
  });

  it('rejects on a signed Reject click', async () => {
    const requestId = await submitFor('alice', 'np-slack-no');
    const mail = await mailFor('dave', 'np-slack-no');
    expect((await postSlack(stack, blockAction('U0DAVE0001', 'reject', approvalIdOf(mail.links[0])))).status).toBe(200);
    const done = await waitForStatus(stack, await token('alice'), requestId, 'REJECTED');
    expect(done.reason).toBe('APPROVER_REJECTED');
  });

  it('refuses a bad signature and a stale timestamp with 401, deciding nothing', async () => {
    const requestId = await submitFor('alice', 'np-slack-sig');
    const mail = await mailFor('bob', 'np-slack-sig');
    const body = blockAction('U0BOB00001', 'approve', approvalIdOf(mail.links[0]));
    const forged = await postSlack(stack, body, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.text)).toEqual({ error_code: 'PoolGate.0401', error_msg: 'Slack signature mismatch' });
    const stale = await postSlack(stack, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    expect(JSON.parse(stale.text).error_msg).toBe('Slack request timestamp is too old');
    expect((await getRequest(stack, await token('alice'), requestId)).json.status).toBe('AWAITING_APPROVAL');
  });

  it('explains to a clicker who is not an approver, and decides nothing', async () => {
    const requestId = await submitFor('alice', 'np-slack-who');
    const mail = await mailFor('bob', 'np-slack-who');
    expect((await postSlack(stack, blockAction('U0MALLORY1', 'approve', approvalIdOf(mail.links[0])))).status).toBe(
      200,
    );
    await eventually(
      () => readSlackCalls(stack).find((c) => c.method === 'chat.postEphemeral' && c.payload.user === 'U0MALLORY1'),
      'an ephemeral explanation',
    );
    expect((await getRequest(stack, await token('alice'), requestId)).json.status).toBe('AWAITING_APPROVAL');
  });
});

describe('approval rules', () => {
  it('never asks the requester to approve their own request, nor lets them', async () => {
    const requestId = await submitFor('dave', 'np-self');
    const bob = await mailFor('bob', 'np-self');
    expect(readOutbox(stack).some((m) => m.to.includes('dave@example.com') && m.subject.includes('np-self'))).toBe(
      false,
    );
    expect((await postSlack(stack, blockAction('U0DAVE0001', 'approve', approvalIdOf(bob.links[0])))).status).toBe(200);
    await eventually(
      () => readSlackCalls(stack).find((c) => c.method === 'chat.postEphemeral' && c.payload.user === 'U0DAVE0001'),
      'dave told no',
    );
    expect((await getRequest(stack, await token('dave'), requestId)).json.status).toBe('AWAITING_APPROVAL');
  });

  it('counts N-of-M: one approval of two keeps waiting, the second decides', async () => {
    const requestId = await submitFor('grace', 'np-quorum');
    const bob = await mailFor('bob', 'np-quorum');
    const carol = await mailFor('carol', 'np-quorum');
    expect((await decide(bob.links[0], 'approve')).status).toBe(200);
    expect((await getRequest(stack, await token('grace'), requestId)).json.status).toBe('AWAITING_APPROVAL');
    expect((await decide(carol.links[0], 'approve')).status).toBe(200);
    const done = await waitForStatus(stack, await token('grace'), requestId, 'CREATED');
    expect(done.steps.filter((s) => s.step === 'approved').map((s) => s.actor)).toEqual([
      'bob@example.com',
      'carol@example.com',
    ]);
  });

  it('records exactly one decision when two approvers decide at the same moment', async () => {
    const requestId = await submitFor('alice', 'np-race');
    const links = [(await mailFor('bob', 'np-race')).links[0], (await mailFor('dave', 'np-race')).links[0]];
    const pages = await Promise.all(links.map(async (l) => formFields((await openLink(l)).html)));
    const results = await Promise.all([
      postDecision(links[0], pages[0], 'approve'),
      postDecision(links[1], pages[1], 'reject'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results[0].status === 200 ? 'approve' : 'reject';
    const done = await waitForStatus(
      stack,
      await token('alice'),
      requestId,
      winner === 'approve' ? 'CREATED' : 'REJECTED',
    );
    expect(done.steps.filter((s) => s.step === 'approved' || s.step === 'rejected')).toHaveLength(1);
  });

  it('asks finance only for yearly/monthly, and takes the order id from the finance approver', async () => {
    const payPerUse = await submitFor('alice', 'np-ppu');
    await mailFor('bob', 'np-ppu');
    const stages = (await getRequest(stack, await token('alice'), payPerUse)).json.steps.filter(
      (s) => s.step === 'approval_requested',
    );
    expect(stages).toHaveLength(1);

    const yearly = await submitFor('alice', 'np-yearly', (b) => {
      b.metadata.annotations = {
        'os.modelarts/billing.mode': '1',
        'os.modelarts/period.num': '1',
        'os.modelarts/period.type': '2',
      };
    });
    expect((await decide((await mailFor('bob', 'np-yearly')).links[0], 'approve')).status).toBe(200);
    const carolLink = (await mailFor('carol', 'np-yearly')).links[0];
    const page = await openLink(carolLink);
    expect(page.html).toContain('name="orderId"');
    const fields = formFields(page.html);
    const missing = await postDecision(carolLink, fields, 'approve');
    expect(missing.status).toBe(400);
    expect(missing.html).toContain('order id is required');
    const response = await fetch(carolLink.split('?')[0], {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ ...fields, decision: 'approve', orderId: 'CS2611261234ABCD' }).toString(),
    });
    expect(response.status).toBe(200);
    await waitForStatus(stack, await token('alice'), yearly, 'CREATED');
    const modelArts = new ModelArtsClient({
      endpoint: stack.endpoints.modelArts,
      credentials: async () => ({ accessKey: DEV_HUAWEI_ACCESS_KEY, secretKey: DEV_HUAWEI_SECRET_KEY }),
      timeoutMs: 5000,
    });
    expect(await modelArts.showNodePool(PROJECT_ID, POOL, 'np-yearly')).toBeDefined();
    const created = await acceptedCreateBody(stack, 'np-yearly');
    expect(created?.metadata.annotations).toMatchObject({
      'os.modelarts/billing.mode': '1',
      'os.modelarts/order.id': 'CS2611261234ABCD',
      'os.modelarts/period.num': '1',
      'os.modelarts/period.type': '2',
      'os.modelarts/auto.renew': '0',
    });
  });

  it('escapes a justification on the page and in the e-mail', async () => {
    await submitFor('alice', 'np-xss', undefined, { 'x-justification': '<script>alert(1)</script>' });
    const mail = await mailFor('bob', 'np-xss');
    const page = await openLink(mail.links[0]);
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('refuses a form post from another site', async () => {
    await submitFor('alice', 'np-csrf');
    const link = (await mailFor('bob', 'np-csrf')).links[0];
    const fields = formFields((await openLink(link)).html);
    const response = await fetch(link.split('?')[0], {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ ...fields, decision: 'approve' }).toString(),
    });
    expect(response.status).toBe(403);
    const noToken = await postDecision(link, { ...fields, formToken: '' }, 'approve');
    expect(noToken.status).toBe(403);
  });
});

describe('time', () => {
  it('reminds (and escalates) after remindAfter, then expires after expireAfter, and tells the requester', async () => {
    const requestId = await submitFor('heidi', 'np-slow');
    const first = await mailFor('bob', 'np-slow');
    await mailFor('bob', 'np-slow', 'Reminder');
    const ivan = await mailFor('ivan', 'np-slow', 'Reminder');
    const done = await waitForStatus(stack, await token('heidi'), requestId, 'EXPIRED', 20_000);
    expect(done.reason).toBe('APPROVAL_EXPIRED');
    expect(done.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(['approval_requested', 'reminded', 'expired']),
    );
    expect(done.steps.some((s) => s.step === 'approved')).toBe(false);
    await mailFor('heidi', 'np-slow', 'expired');
    expect((await openLink(first.links[0])).status).toBe(410);
    expect((await openLink(ivan.links[0])).status).toBe(410);
  });
});

describe('cancellation', () => {
  it('refuses to cancel a request that is already provisioned', async () => {
    const requestId = await submitFor('alice', 'np-too-late');
    expect((await decide((await mailFor('bob', 'np-too-late')).links[0], 'approve')).status).toBe(200);
    await waitForStatus(stack, await token('alice'), requestId, 'CREATED');
    const response = await fetch(`${stack.endpoints.api}/requests/${requestId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('alice')}` },
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({
      error_code: 'PoolGate.2409',
      error_msg: `request ${requestId} is CREATED and can no longer be cancelled`,
    });
  });

  it('lets the requester cancel while waiting: execution stopped, quota released, links closed', async () => {
    const requestId = await submitFor('alice', 'np-cancel');
    const link = (await mailFor('bob', 'np-cancel')).links[0];
    await waitForStatus(stack, await token('alice'), requestId, 'AWAITING_APPROVAL');
    expect(await quotaHold('ml-platform', 'modelarts.vm.2u4g.dcc', requestId)).toBe(1);
    const bobsTry = await fetch(`${stack.endpoints.api}/requests/${requestId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('bob')}` },
    });
    expect(bobsTry.status).toBe(404);
    const response = await fetch(`${stack.endpoints.api}/requests/${requestId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('alice')}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'CANCELLED', reason: 'CANCELLED_BY_USER' });
    expect((await openLink(link)).status).toBe(410);
    await mailFor('alice', 'np-cancel', 'cancelled');
    expect(await quotaHold('ml-platform', 'modelarts.vm.2u4g.dcc', requestId)).toBeUndefined();
    // A retried cancel is safe: same answer, nothing recorded twice.
    const again = await fetch(`${stack.endpoints.api}/requests/${requestId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('alice')}` },
    });
    expect(again.status).toBe(200);
    expect(
      ((await again.json()) as { steps: Array<{ step: string }> }).steps.filter((s) => s.step === 'cancelled'),
    ).toHaveLength(1);
    // The name is free again.
    expect(
      (await submit(stack, await token('alice'), exampleBody('np-cancel'), { 'idempotency-key': 'second' })).status,
    ).toBe(202);
  });
});
