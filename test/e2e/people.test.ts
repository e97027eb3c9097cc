/**
 * The CLI and API as people use them (issue 15): an approver in no team lists what awaits them, CLI
 * errors name the CLI's flags, a reader who may not cancel is told who may, a request id can be
 * shortened, a port in use at start is one line, `GET /` links what there is to see locally, and
 * `poolgate outbox` shows decoded links and decides from them.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { newHome, readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import { exampleBody, getRequest, PROJECT_ID, submit } from '../../local/harness/requests';

jest.setTimeout(90_000);

const ROOT = resolve(__dirname, '../..');
const person = (name: string) => ({ email: `${name}@example.com` });
const policy = {
  admins: ['root@example.com'],
  teams: [
    {
      name: 'ml-platform',
      members: [person('alice'), person('dave')],
      stages: [{ name: 'manager', approvers: [person('bob'), person('dave')], requiredApprovals: 1 }],
      quotas: { 'modelarts.vm.2u4g.dcc': 100 },
    },
  ],
};

let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ policy, env: { POOLGATE_NODE_READY_DELAY_MS: '100' } });
});
afterAll(async () => {
  await stack?.stop();
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `poolgate <args>` as `who` (POOLGATE_TOKEN) against the stack, with no terminal. */
async function poolgate(args: readonly string[], as?: string, env: Record<string, string> = {}): Promise<Run> {
  const childEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    POOLGATE_URL: stack.endpoints.api,
    POOLGATE_HOME: stack.home,
    ...env,
  };
  delete childEnv.POOLGATE_TOKEN;
  if (as) childEnv.POOLGATE_TOKEN = await stack.token(as);
  const child = spawn(process.execPath, [join(ROOT, 'cli/poolgate.mjs'), ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  return { code, stdout, stderr };
}

async function submitted(name: string): Promise<string> {
  const answer = await submit(stack, await stack.token('alice@example.com'), exampleBody(name));
  expect(answer.status).toBe(202);
  const requestId = answer.json.requestId as string;
  await eventually(
    () => readOutbox(stack).find((m) => m.to.includes('bob@example.com') && m.subject.includes(`node pool ${name} `)),
    `bob's mail for ${name}`,
  );
  return requestId;
}

describe('an approver in no team', () => {
  it('gets what awaits them from a plain `poolgate list`, with their links; CLI errors name the flags', async () => {
    const requestId = await submitted('np-people-list');
    const list = await poolgate(['list'], 'bob@example.com');
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${requestId}  AWAITING_APPROVAL  np-people-list .* manager\\n`));
    expect(list.stdout).toContain(
      `${requestId}: decide at ${stack.endpoints.api}/approvals/${requestId}.0?approver=bob%40example.com&sig=`,
    );

    const filtered = await poolgate(['list', '--status', 'ACTIVE'], 'bob@example.com');
    expect(filtered.code).toBe(1);
    expect(filtered.stderr).toBe(
      'poolgate: bob@example.com is in no team: a status filter needs --mine or --team <name> (PoolGate.0400, HTTP 400)\n',
    );
    const combined = await poolgate(['list', '--awaiting-me', '--mine'], 'bob@example.com');
    expect(combined.code).toBe(2);
    expect(combined.stderr).toBe('poolgate: --awaiting-me cannot be combined with --mine, --team or --status\n');

    // The API says the same in its own terms.
    const api = await fetch(`${stack.endpoints.api}/requests`, {
      headers: { authorization: `Bearer ${await stack.token('bob@example.com')}` },
    });
    const body = (await api.json()) as { items: Array<{ requestId: string; links: { decide?: string } }> };
    expect(body.items.find((i) => i.requestId === requestId)?.links.decide).toContain('/approvals/');
  });
});

describe('cancel by someone who may read but not cancel', () => {
  it('answers 403 saying who may cancel (CLI and API); someone who may not read gets 404', async () => {
    const requestId = await submitted('np-people-cancel');
    const cli = await poolgate(['cancel', requestId], 'bob@example.com');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toBe(
      `poolgate: bob@example.com may read request ${requestId} but not cancel it: only its requester (alice@example.com) or an admin (root@example.com) may (PoolGate.0403, HTTP 403)\n`,
    );
    const api = await fetch(`${stack.endpoints.api}/requests/${requestId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token('dave@example.com')}` },
    });
    expect(api.status).toBe(403);
    expect(await api.json()).toEqual({
      error_code: 'PoolGate.0403',
      error_msg: `dave@example.com may read request ${requestId} but not cancel it: only its requester (alice@example.com) or an admin (root@example.com) may`,
    });
    const stranger = await fetch(`${stack.endpoints.api}/requests/${requestId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token('mallory@example.com')}` },
    });
    expect(stranger.status).toBe(404);
    expect((await getRequest(stack, await stack.token('alice@example.com'), requestId)).json.status).toBe(
      'AWAITING_APPROVAL',
    );
  });
});

describe('poolgate status with a shortened id', () => {
  it('finds a request by its first 8 characters among those the caller may see; not for others, not shorter', async () => {
    const requestId = await submitted('np-people-prefix');
    const prefix = requestId.slice(0, 8);
    const shown = await poolgate(['status', prefix], 'alice@example.com');
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toMatch(new RegExp(`^Request +${requestId}\\n`));
    // An approver of the team sees it too; someone outside does not learn it exists.
    expect((await poolgate(['status', prefix, '--json'], 'bob@example.com')).stdout).toContain(requestId);
    const stranger = await poolgate(['status', prefix], 'mallory@example.com');
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain(`request ${prefix} not found`);
    const short = await poolgate(['status', requestId.slice(0, 7)], 'alice@example.com');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('the start of an id needs at least 8 characters');
  });
});

describe('poolgate outbox', () => {
  it('lists the latest mails with their links decoded, and approves or rejects from them as the approver', async () => {
    const approveId = await submitted('np-people-outbox');
    const listed = await poolgate(['outbox', '--to', 'bob@example.com', '--request', approveId.slice(0, 8)]);
    expect(listed.code).toBe(0);
    const bobs = readOutbox(stack).find(
      (m) => m.to.includes('bob@example.com') && m.subject.includes('np-people-outbox'),
    );
    expect(listed.stdout).toContain(`  ${bobs?.links[0]}\n`);
    expect(listed.stdout).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}to bob@example\.com\n {2}Approval needed: node pool np-people-outbox /,
    );

    const approved = await poolgate([
      'outbox',
      '--to',
      'dave@example.com',
      '--request',
      approveId,
      '--approve',
      '--comment',
      'fine',
    ]);
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toContain('Your approval is recorded');
    const again = await poolgate(['outbox', '--to', 'bob@example.com', '--request', approveId, '--reject']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('as bob@example.com: Already decided');
    const view = await eventually(async () => {
      const { json } = await getRequest(stack, await stack.token('alice@example.com'), approveId);
      return json.steps.some((s) => s.step === 'approved') ? json : undefined;
    }, 'the approval to be recorded');
    expect(view.steps.find((s) => s.step === 'approved')).toMatchObject({ actor: 'dave@example.com' });

    const rejectId = await submitted('np-people-reject');
    const rejected = await poolgate([
      'outbox',
      '--to',
      'bob@example.com',
      '--request',
      rejectId,
      '--reject',
      '--comment',
      'no',
    ]);
    expect(rejected.stdout).toContain('The request is rejected.');
    await eventually(
      async () =>
        (await getRequest(stack, await stack.token('alice@example.com'), rejectId)).json.status === 'REJECTED' ||
        undefined,
      'REJECTED',
    );
  });
});

describe('GET / on the local stack', () => {
  it('answers browsers with a page linking the docs, /openapi.json, the outbox and the simulator, and each link works', async () => {
    const page = await fetch(`${stack.endpoints.api}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    for (const expected of [
      `${stack.endpoints.api}/openapi.json`,
      `${stack.endpoints.api}/_local/outbox`,
      `${stack.endpoints.modelArts}/_sim/nodepools`,
      `${stack.endpoints.api}/_local/docs/README.md`,
      `${stack.endpoints.api}/_local/docs/docs/modelarts.md`,
    ])
      expect(links).toContain(expected);
    for (const link of links) expect([link, (await fetch(link)).status]).toEqual([link, 200]);
    const asJson = (await (await fetch(`${stack.endpoints.api}/`)).json()) as { links: Array<{ rel: string }> };
    expect(asJson.links.map((l) => l.rel)).toEqual(expect.arrayContaining(['docs', 'openapi', 'outbox', 'simulator']));
  });

  it("shows the simulator's node pools without signing, while its API still wants a signature", async () => {
    const requestId = await submitted('np-people-sim');
    expect((await poolgate(['outbox', '--to', 'bob@example.com', '--request', requestId, '--approve'])).code).toBe(0);
    const held = await eventually(async () => {
      const { nodePools } = (await (await fetch(`${stack.endpoints.modelArts}/_sim/nodepools`)).json()) as {
        nodePools: Array<{
          projectId: string;
          name: string;
          nodePool: { spec: { resources: { labels?: Record<string, string> } } };
        }>;
      };
      return nodePools.find((n) => n.name === 'np-people-sim');
    }, 'the node pool in the simulator');
    expect(held.projectId).toBe(PROJECT_ID);
    expect(held.nodePool.spec.resources.labels?.['poolgate/request-id']).toBe(requestId);
    expect((await fetch(`${stack.endpoints.modelArts}/v2/${PROJECT_ID}/pools/pool-e2e/nodepools`)).status).toBe(401);
  });
});

describe('a port in use at start', () => {
  async function occupy(): Promise<{ server: Server; port: number }> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return { server, port: (server.address() as { port: number }).port };
  }

  it.each([
    ['DynamoDB (dynalite)', 'POOLGATE_DYNAMODB_PORT'],
    ['HTTP API', 'POOLGATE_HTTP_PORT'],
  ])('%s: one line naming the part and %s, exit 1, no stack trace', async (part, variable) => {
    const { server, port } = await occupy();
    const home = newHome();
    try {
      const run = await poolgate(['start'], undefined, {
        POOLGATE_HOME: home,
        POOLGATE_HTTP_PORT: '0',
        POOLGATE_SFN_PORT: '0',
        POOLGATE_DYNAMODB_PORT: '0',
        POOLGATE_MODELARTS_PORT: '0',
        [variable]: String(port),
      });
      expect(run).toEqual({
        code: 1,
        stdout: '',
        stderr: `poolgate: ${part}: 127.0.0.1:${port} is in use; set ${variable}, or 0 for a free port\n`,
      });
    } finally {
      server.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
