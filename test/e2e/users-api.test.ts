/**
 * What users touch, over real HTTP on the local stack: listing (filters, who may list what,
 * awaiting=me, pagination, cursors that cannot be forged), the dry run (answers at once, records
 * nothing), the OpenAPI document, and the signed read-only request page that mails and ModelArts link to.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { readFileSync } from 'node:fs';
import { ModelArtsClient } from '../../lambdas/adapters/modelarts/client';
import { DryRunResultSchema, RequestListSchema, RequestViewSchema } from '../../contracts/api';
import { LOCAL_TABLE_NAME } from '../../local/main';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../local/settings';
import { OPENAPI_FILE } from '../../scripts/generate-openapi';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import {
  acceptedCreateBody,
  decide,
  exampleBody,
  POOL,
  PROJECT_ID,
  submit,
  waitForStatus,
} from '../../local/harness/requests';

jest.setTimeout(120_000);

const person = (name: string) => ({ email: `${name}@example.com` });
const policy = {
  admins: ['root@example.com'],
  // A request ends CREATED once ModelArts accepts it: these tests are about what users see on the way.
  nodeTracking: { enabled: false },
  teams: [
    {
      name: 'ml-platform',
      members: [person('alice'), person('dave')],
      stages: [{ name: 'manager', approvers: [person('bob'), person('dave')], requiredApprovals: 1 }],
      quotas: { 'modelarts.vm.2u4g.dcc': 100, 'modelarts.vm.not-sold-here': 10 },
    },
    {
      name: 'vision',
      members: [person('erin')],
      stages: [{ name: 'lead', approvers: [person('frank')] }],
      quotas: { 'modelarts.vm.2u4g.dcc': 2 },
    },
  ],
};

let stack: RunningStack;
const tokens: Record<string, string> = {};
const token = async (name: string) => (tokens[name] ??= await stack.token(`${name}@example.com`));

beforeAll(async () => {
  stack = await startStack({ policy });
});
afterAll(() => stack?.stop());

async function list(who: string, query: string) {
  const response = await fetch(`${stack.endpoints.api}/requests${query ? `?${query}` : ''}`, {
    headers: { authorization: `Bearer ${await token(who)}` },
  });
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown> & {
      items: Array<Record<string, any>>;
      nextCursor: string | null;
    },
  };
}

/** Every page of a listing, following nextCursor. */
async function listAll(who: string, query: string, limit: number) {
  const pages: Array<Array<Record<string, any>>> = [];
  let cursor: string | null = null;
  do {
    const page = await list(who, `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    RequestListSchema.parse(page.json);
    pages.push(page.json.items);
    cursor = page.json.nextCursor;
  } while (cursor && pages.length < 50);
  return pages;
}

async function submitAs(
  who: string,
  name: string,
  change?: Parameters<typeof exampleBody>[1],
  headers: Record<string, string> = {},
) {
  const response = await submit(stack, await token(who), exampleBody(name, change), headers);
  expect(response.status).toBe(202);
  return response.json.requestId as string;
}

async function approvalLink(approver: string, nodePool: string) {
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.to.includes(approver) && m.subject.includes(nodePool)),
    `approval mail to ${approver} for ${nodePool}`,
  );
  return mail.links[0];
}

async function dryRun(who: string, body: unknown, query = 'dryRun=true', headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(who)}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

const PAGE_LINK = /https?:\/\/[^\s"<>]+\/requests\/[^\s"<>/]+\/page\?sig=[\w-]+/;

describe('GET /requests', () => {
  const ids: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) ids.push(await submitAs('alice', `np-list-${i}`));
    for (const id of ids) await waitForStatus(stack, await token('alice'), id, 'AWAITING_APPROVAL');
  });

  it('pages through my requests newest first, every one exactly once', async () => {
    const pages = await listAll('alice', 'mine=true', 2);
    const listed = pages.flat().map((r) => r.requestId);
    expect(listed).toEqual([...ids].reverse());
    expect(pages.slice(0, 2).map((p) => p.length)).toEqual([2, 2]);
    const first = pages[0][0];
    expect(first).toMatchObject({
      status: 'AWAITING_APPROVAL',
      final: false,
      requester: 'alice@example.com',
      team: 'ml-platform',
      nodePoolName: 'np-list-4',
    });
    expect(first.links.self).toBe(`/requests/${ids[4]}`);
    expect(first.links.page).toMatch(PAGE_LINK);
    expect(first).not.toHaveProperty('steps');
  });

  it('lists the team by default, and filters by status', async () => {
    const team = await list('dave', '');
    expect(team.status).toBe(200);
    expect(team.json.items.map((r) => r.requestId)).toEqual(expect.arrayContaining(ids));

    const rejected = ids[1];
    expect((await decide(await approvalLink('bob', 'np-list-1'), 'reject', 'not now')).status).toBe(200);
    await waitForStatus(stack, await token('alice'), rejected, 'REJECTED');
    const onlyRejected = await list('alice', 'mine=true&status=REJECTED');
    expect(onlyRejected.json.items.map((r) => r.requestId)).toEqual([rejected]);
    expect(onlyRejected.json.items[0]).toMatchObject({ reason: 'APPROVER_REJECTED', final: true });
    // Pages stay exact when a filter skips items: no duplicate, nothing lost.
    const awaiting = (await listAll('alice', 'mine=true&status=AWAITING_APPROVAL', 1)).flat().map((r) => r.requestId);
    expect(awaiting).toEqual([ids[4], ids[3], ids[2], ids[0]]);
  });

  it('lets approvers and admins list a team, and refuses anyone else with 403', async () => {
    expect((await list('bob', 'team=ml-platform')).status).toBe(200);
    const erin = await list('erin', 'team=ml-platform');
    expect(erin).toEqual({
      status: 403,
      json: {
        error_code: 'PoolGate.0403',
        error_msg: 'erin@example.com may not list the requests of team ml-platform',
      },
    });

    const visionId = await submitAs('erin', 'np-vision');
    await waitForStatus(stack, await token('erin'), visionId, 'AWAITING_APPROVAL');
    const admin = await list('root', 'status=AWAITING_APPROVAL&limit=100');
    expect(admin.json.items.map((r) => r.requestId)).toEqual(expect.arrayContaining([visionId, ids[0]]));
    expect(admin.json.items.every((r) => r.status === 'AWAITING_APPROVAL')).toBe(true);
    // Without a team of their own, a caller gets what awaits their decision (as awaiting=me).
    const bobsDefault = (await list('bob', '')).json.items.map((r) => r.requestId);
    expect(bobsDefault.length).toBeGreaterThan(0);
    expect(bobsDefault).toEqual((await list('bob', 'awaiting=me')).json.items.map((r) => r.requestId));
    // A status filter alone still needs to say whose requests.
    expect((await list('bob', 'status=ACTIVE')).json).toEqual({
      error_code: 'PoolGate.0400',
      error_msg: 'bob@example.com is in no team: a status filter needs mine=true or team=<name>',
    });
  });

  it('shows each approver what waits for their decision, until they or someone else decides', async () => {
    const open = [ids[4], ids[3], ids[2], ids[0]];
    const forBob = await list('bob', 'awaiting=me');
    expect(forBob.json.items.map((r) => r.requestId)).toEqual(open);
    expect(forBob.json.items[0]).toMatchObject({ awaiting: { approvalId: `${ids[4]}.0`, stage: 'manager' } });
    expect(forBob.json.items[0].links.decide).toBe(await approvalLink('bob', 'np-list-4'));
    expect((await list('frank', 'awaiting=me')).json.items.map((r) => r.nodePoolName)).toEqual(['np-vision']);
    expect((await list('alice', 'awaiting=me')).json.items).toEqual([]);

    // Bob approves one: it leaves his list, and dave's too (the stage needed one approval).
    expect((await decide(await approvalLink('bob', 'np-list-0'), 'approve')).status).toBe(200);
    await waitForStatus(stack, await token('alice'), ids[0], 'CREATED');
    for (const approver of ['bob', 'dave']) {
      expect((await list(approver, 'awaiting=me')).json.items.map((r) => r.requestId)).toEqual([
        ids[4],
        ids[3],
        ids[2],
      ]);
    }
    const paged = (await listAll('dave', 'awaiting=me', 2)).flat().map((r) => r.requestId);
    expect(paged).toEqual([ids[4], ids[3], ids[2]]);

    // Cancelled: no longer waiting for anyone.
    const cancel = await fetch(`${stack.endpoints.api}/requests/${ids[2]}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('alice')}` },
    });
    expect(cancel.status).toBe(200);
    expect((await list('bob', 'awaiting=me')).json.items.map((r) => r.requestId)).toEqual([ids[4], ids[3]]);
  });

  it('answers 400 in the error shape for a cursor it did not issue for this query, and for bad parameters', async () => {
    const page = await list('alice', 'mine=true&limit=1');
    const cursor = page.json.nextCursor!;
    const tampered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    const expected = {
      error_code: 'PoolGate.0400',
      error_msg: expect.stringContaining('cursor: not a cursor poolgate issued for this query'),
    };
    for (const [who, query] of [
      ['alice', `mine=true&limit=1&cursor=${encodeURIComponent(tampered)}`],
      ['alice', 'mine=true&cursor=garbage'],
      // The same cursor with another filter, or by another user.
      ['alice', `limit=1&cursor=${encodeURIComponent(cursor)}`],
      ['dave', `mine=true&limit=1&cursor=${encodeURIComponent(cursor)}`],
    ]) {
      expect(await list(who, query)).toEqual({ status: 400, json: expected });
    }
    expect((await list('alice', `mine=true&limit=1&cursor=${encodeURIComponent(cursor)}`)).status).toBe(200);
    expect(await list('alice', 'status=DONE')).toEqual({
      status: 400,
      json: { error_code: 'PoolGate.0400', error_msg: expect.stringContaining('status: must be one of') },
    });
    expect((await list('alice', 'limit=500')).json.error_code).toBe('PoolGate.0400');
    const anonymous = await fetch(`${stack.endpoints.api}/requests`);
    expect(anonymous.status).toBe(401);
  });
});

describe('POST .../nodepools?dryRun=true', () => {
  /** Everything a submission would leave behind: alice's requests, mails, the name claim, the quota counter. */
  async function traces(name: string) {
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.endpoints.dynamoDb }));
    const claim = await db.send(
      new GetCommand({
        TableName: LOCAL_TABLE_NAME,
        Key: { pk: `NODEPOOL#${PROJECT_ID}#${POOL}#${name}`, sk: 'OPEN' },
      }),
    );
    const quota = await db.send(
      new GetCommand({
        TableName: LOCAL_TABLE_NAME,
        Key: { pk: 'QUOTA#ml-platform', sk: 'FLAVOR#modelarts.vm.2u4g.dcc' },
      }),
    );
    const mine = (await listAll('alice', 'mine=true', 100)).flat().length;
    return {
      claim: claim.Item,
      inUse: quota.Item?.inUse,
      mine,
      mails: readOutbox(stack).filter((m) => m.subject.includes(name)).length,
    };
  }

  it('answers at once with what would happen, and records nothing, asks nobody, reserves nothing', async () => {
    const before = await traces('np-dry');
    const result = await dryRun('alice', exampleBody('np-dry'), 'dryRun=true', { 'x-justification': 'try first' });
    expect(result.status).toBe(200);
    DryRunResultSchema.parse(result.json);
    expect(result.json).toMatchObject({
      dryRun: true,
      wouldBe: 'AWAITING_APPROVAL',
      nodePool: {
        projectId: PROJECT_ID,
        poolName: POOL,
        nodePoolName: 'np-dry',
        flavor: 'modelarts.vm.2u4g.dcc',
        count: 1,
      },
      billing: { mode: '0' },
      justification: 'try first',
      approval: {
        stages: [{ name: 'manager', approvers: ['bob@example.com', 'dave@example.com'], requiredApprovals: 1 }],
      },
      quota: { limit: 100 },
    });
    expect(result.json.checks.map((c: { check: string; outcome: string }) => `${c.check}:${c.outcome}`)).toEqual([
      'validation:ok',
      'approvers:ok',
      'capacity:ok',
      'quota:ok',
    ]);
    expect(await traces('np-dry')).toEqual(before);
    expect(before.claim).toBeUndefined();

    // The same body, submitted for real, is a new request (the dry run used no idempotency key either).
    const real = await submit(stack, await token('alice'), exampleBody('np-dry'));
    expect(real.status).toBe(202);
  });

  it('reports the refusals the workflow would make, with the first one as the reason', async () => {
    const tooMany = await dryRun(
      'alice',
      exampleBody('np-dry-big', (b) => Object.assign(b.spec.resources, { count: 200, maxCount: 200 })),
    );
    expect(tooMany.json).toMatchObject({ wouldBe: 'REJECTED', reason: 'QUOTA_EXCEEDED' });
    const unknownFlavor = await dryRun(
      'alice',
      exampleBody('np-dry-flavor', (b) => (b.spec.resources.flavor = 'modelarts.vm.not-sold-here')),
    );
    expect(unknownFlavor.json).toMatchObject({ wouldBe: 'REJECTED', reason: 'FLAVOR_UNKNOWN' });
    expect(unknownFlavor.json.checks.find((c: { check: string }) => c.check === 'capacity')).toMatchObject({
      outcome: 'refused',
      reason: 'FLAVOR_UNKNOWN',
    });

    // What is already reserved counts: erin's open request holds both of vision's nodes.
    const vision = await dryRun(
      'erin',
      exampleBody('np-vision-2', (b) => Object.assign(b.spec.resources, { count: 2, maxCount: 2 })),
    );
    expect(vision.json).toMatchObject({
      wouldBe: 'REJECTED',
      reason: 'QUOTA_EXCEEDED',
      quota: { limit: 2, inUse: 1, available: 1 },
    });
  });

  it('answers the usual errors for a bad body, an open request of the same name, a bad flag', async () => {
    const bad = exampleBody('np-dry-bad', (b) => (b.spec.resources.count = 0));
    expect(await dryRun('alice', bad)).toEqual({
      status: 400,
      json: (await submit(stack, await token('alice'), bad)).json,
    });
    expect((await dryRun('alice', bad)).json.error_code).toBe('ModelArts.50004000');
    const open = await dryRun('alice', exampleBody('np-list-4'));
    expect(open.status).toBe(409);
    expect(open.json.error_code).toBe('PoolGate.0409');
    expect(await dryRun('alice', exampleBody('np-dry-flag'), 'dryRun=yes')).toEqual({
      status: 400,
      json: { error_code: 'PoolGate.0400', error_msg: 'dryRun: must be "true" or "false"' },
    });
  });
});

it('serves its OpenAPI document without a token', async () => {
  const response = await fetch(`${stack.endpoints.api}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(await response.json()).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
});

describe('the request page', () => {
  it('is where the mails, the API view and ModelArts link to, and shows the request and its timeline', async () => {
    const requestId = await submitAs('alice', 'np-page', undefined, {
      'x-justification': 'ranking <script>alert(1)</script> & more',
    });
    expect((await decide(await approvalLink('dave', 'np-page'), 'approve', 'ok "go"')).status).toBe(200);
    const done = RequestViewSchema.parse(await waitForStatus(stack, await token('alice'), requestId, 'CREATED'));
    expect(done.final).toBe(true);

    const mail = await eventually(
      () => readOutbox(stack).find((m) => m.to.includes('alice@example.com') && m.subject.includes('np-page')),
      'the outcome mail',
    );
    const link = PAGE_LINK.exec(mail.raw)?.[0];
    expect(link).toBe(done.links.page);
    const modelArts = new ModelArtsClient({
      endpoint: stack.endpoints.modelArts,
      credentials: async () => ({ accessKey: DEV_HUAWEI_ACCESS_KEY, secretKey: DEV_HUAWEI_SECRET_KEY }),
      timeoutMs: 5000,
    });
    expect(await modelArts.showNodePool(PROJECT_ID, POOL, 'np-page')).toBeDefined();
    const created = await acceptedCreateBody(stack, 'np-page');
    expect(created?.metadata.annotations['os.modelarts/service.console.url']).toBe(link);

    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    for (const fact of [
      'np-page',
      PROJECT_ID,
      POOL,
      'modelarts.vm.2u4g.dcc',
      'pay-per-use',
      'CREATED',
      'Node pool created',
      'dave@example.com',
      requestId,
    ])
      expect(html).toContain(fact);
    expect(html).toContain('ranking &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(html).toContain('comment: “ok &quot;go&quot;”');
    expect(html).not.toContain('<script>');
  });

  it('refuses a changed signature, or one taken from another request, with 403', async () => {
    const view = await list('alice', 'mine=true&limit=2');
    const [a, b] = view.json.items;
    const tampered = a.links.page.replace(/sig=(.)/, (_: string, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    const swapped = a.links.page.replace(a.requestId, b.requestId);
    for (const link of [tampered, swapped, a.links.page.replace(/\?sig=.*/, '')]) {
      const asBrowser = await fetch(link, { headers: { accept: 'text/html' } });
      expect(asBrowser.status).toBe(403);
      expect(await asBrowser.text()).toContain('Link not valid');
      const asClient = await fetch(link);
      expect(asClient.status).toBe(403);
      expect(await asClient.json()).toEqual({
        error_code: 'PoolGate.1403',
        error_msg: 'this request link is not valid (its signature does not match)',
      });
    }
  });
});
