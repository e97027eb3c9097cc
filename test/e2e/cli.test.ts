/**
 * The `poolgate` CLI as a user runs it: the real command in a child process (no terminal, as in a CI
 * job), talking HTTP to a started local stack, chosen by POOLGATE_URL and POOLGATE_TOKEN. (Help and
 * usage errors need no server: test/unit/cli.test.ts runs them in-process.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, POOL, PROJECT_ID } from '../../local/harness/requests';

jest.setTimeout(120_000);

const ROOT = resolve(__dirname, '../..');
const person = (name: string) => ({ email: `${name}@example.com` });
const policy = {
  admins: ['root@example.com'],
  // Node tracking on (the default), polled quickly: success is ACTIVE.
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 60 },
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
let dir: string;
const tokens: Record<string, string> = {};
const token = async (name: string) => (tokens[name] ??= await stack.token(`${name}@example.com`));

beforeAll(async () => {
  stack = await startStack({ policy });
  dir = mkdtempSync(join(tmpdir(), 'poolgate-cli-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `poolgate <args>` against the stack, as `who` (POOLGATE_TOKEN), with no terminal. */
function poolgate(args: readonly string[], options: { as?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return (async () => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      POOLGATE_URL: stack.endpoints.api,
      POOLGATE_HOME: stack.home,
    };
    delete env.POOLGATE_TOKEN;
    if (options.as) env.POOLGATE_TOKEN = await token(options.as);
    Object.assign(env, options.env);
    const child = spawn(process.execPath, [join(ROOT, 'cli/poolgate.mjs'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.once('close', done));
    return { code, stdout, stderr };
  })();
}

function bodyFile(name: string, change?: Parameters<typeof exampleBody>[1]): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(exampleBody(name, change)));
  return file;
}

const target = ['--project', PROJECT_ID, '--pool', POOL];

async function approvalLink(approver: string, nodePool: string) {
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.to.includes(`${approver}@example.com`) && m.subject.includes(nodePool)),
    `approval mail for ${nodePool}`,
  );
  return mail.links[0];
}

function json<T = Record<string, any>>(run: Run): T {
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as T;
}

describe('poolgate submit --wait', () => {
  it('follows the steps as plain lines and exits 0 once the node pool is ACTIVE', async () => {
    const waiting = poolgate(['submit', bodyFile('np-cli-wait'), ...target, '--justification', 'CI run', '--wait'], {
      as: 'alice',
    });
    expect((await decide(await approvalLink('bob', 'np-cli-wait'), 'approve', 'go')).status).toBe(200);
    const run = await waiting;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Submitted request [\w-]+; waiting for it to finish/);
    for (const step of [
      'submitted',
      'capacity checked',
      'quota checked',
      'approval requested',
      'approved',
      'node pool created',
      'nodes active',
    ]) {
      expect(lines.some((l) => l.includes(`  ${step}  ok`))).toBe(true);
    }
    expect(run.stdout).toContain('  approved  ok  bob@example.com  stage manager; "go"');
    expect(run.stdout).toMatch(
      /✔ ACTIVE: node pool created, its nodes are available\. Request [\w-]+\n {2}http:\/\/\S+\/page\?sig=\S+\n$/,
    );
    // No terminal, no spinner: no control sequences in a CI log.
    // eslint-disable-next-line no-control-regex -- the escape character is what it looks for
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });

  it('exits 3 when the request is rejected, with the reason', async () => {
    const waiting = poolgate(['submit', bodyFile('np-cli-reject'), ...target, '--wait'], { as: 'alice' });
    await decide(await approvalLink('dave', 'np-cli-reject'), 'reject', 'too big');
    const run = await waiting;
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('  rejected  refused  dave@example.com  stage manager; "too big"');
    expect(run.stdout).toMatch(/✖ REJECTED: rejected \(APPROVER_REJECTED\)\. Request [\w-]+/);
  });

  it('gives the final request as JSON with --json, and stops waiting at --timeout with exit 4', async () => {
    const timedOut = await poolgate(
      ['submit', bodyFile('np-cli-timeout'), ...target, '--wait', '--timeout', '2', '--json'],
      { as: 'alice' },
    );
    expect(timedOut.code).toBe(4);
    expect(JSON.parse(timedOut.stdout)).toMatchObject({
      nodePoolName: 'np-cli-timeout',
      status: 'AWAITING_APPROVAL',
      final: false,
    });
    expect(timedOut.stderr).toMatch(
      /still AWAITING_APPROVAL after the --timeout; the request goes on \(poolgate status [\w-]+\)/,
    );
  });
});

describe('poolgate submit', () => {
  it('prints the request id, or the 202 body with --json', async () => {
    const plain = await poolgate(['submit', bodyFile('np-cli-plain'), ...target], { as: 'alice' });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^Submitted request ([\w-]+) \(SUBMITTED\)\.\nFollow it: poolgate status \1\n$/);
    const submitted = json(await poolgate(['submit', bodyFile('np-cli-json'), ...target, '--json'], { as: 'alice' }));
    expect(submitted).toEqual({
      requestId: expect.any(String),
      status: 'SUBMITTED',
      kind: 'create',
      links: { self: `/requests/${submitted.requestId}` },
    });
  });

  it('says what a dry run would do, records nothing, and exits 3 when it would be rejected', async () => {
    const dry = await poolgate(['submit', bodyFile('np-cli-dry'), ...target, '--dry-run'], { as: 'alice' });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Dry run: the request would be AWAITING_APPROVAL. Nothing was recorded.');
    expect(dry.stdout).toMatch(/✔ quota: 1 of \d+ available node\(s\) \(limit 100, \d+ in use\)/);
    const tooBig = bodyFile('np-cli-dry-big', (b) => Object.assign(b.spec.resources, { count: 500, maxCount: 500 }));
    const refused = await poolgate(['submit', tooBig, ...target, '--dry-run', '--json'], { as: 'alice' });
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ dryRun: true, wouldBe: 'REJECTED', reason: 'QUOTA_EXCEEDED' });
    const mine = json<{ items: Array<{ nodePoolName: string }> }>(
      await poolgate(['list', '--mine', '--all', '--json'], { as: 'alice' }),
    );
    expect(mine.items.map((r) => r.nodePoolName)).not.toContain('np-cli-dry');
  });

  it("prints the server's error_msg and exits 1 when the body breaks a rule", async () => {
    const run = await poolgate(['submit', bodyFile('np-cli-bad', (b) => (b.spec.resources.count = 0)), ...target], {
      as: 'alice',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^poolgate: spec\.resources\.count: must be an integer >= 1\b.* \(ModelArts\.50004000, HTTP 400\)\n$/,
    );
    const asJson = await poolgate(['submit', bodyFile('np-cli-bad'), ...target, '--json'], { as: 'mallory' });
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toEqual({
      error_code: 'PoolGate.0403',
      error_msg: 'mallory@example.com is not a member of any team',
    });
  });
});

describe('poolgate status, list, cancel', () => {
  let ids: string[];

  beforeAll(async () => {
    ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        json(await poolgate(['submit', bodyFile(`np-cli-list-${i}`), ...target, '--json'], { as: 'dave' })).requestId,
      );
    await eventually(async () => {
      const listed = json<{ items: Array<{ status: string }> }>(
        await poolgate(['list', '--mine', '--status', 'AWAITING_APPROVAL', '--json'], { as: 'dave' }),
      );
      return listed.items.length === 3 ? true : undefined;
    }, "dave's three requests to await approval");
  });

  it('shows a request and its timeline as a table', async () => {
    const run = await poolgate(['status', ids[0]], { as: 'dave' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^Request +${ids[0]}\\nStatus +AWAITING_APPROVAL \\(waiting for approval from bob@example.com \\(stage manager\\)\\)\\n`,
      ),
    );
    expect(run.stdout).toMatch(
      /\nNode pool +np-cli-list-0 in pool pool-e2e, project 0123456789abcdef0123456789abcdef\n/,
    );
    const table = run.stdout.split('\n\n')[1].trim().split('\n');
    expect(table[0]).toMatch(/^TIME \(UTC\) +STEP +OUTCOME +BY +DETAILS$/);
    expect(table.slice(1).map((row) => row.split(/ {2,}/)[1])).toEqual([
      'submitted',
      'capacity checked',
      'quota checked',
      'approval requested',
    ]);
    expect(table[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +submitted +ok +dave@example.com$/);
    const asJson = json(await poolgate(['status', ids[0], '--json'], { as: 'dave' }));
    expect(asJson).toMatchObject({ requestId: ids[0], status: 'AWAITING_APPROVAL', steps: expect.any(Array) });
  });

  it('lists with filters, one page at a time or every page', async () => {
    const first = await poolgate(['list', '--mine', '--limit', '2'], { as: 'dave' });
    expect(first.code).toBe(0);
    const rows = first.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^CREATED \(UTC\) +ID +STATUS +NODE POOL +FLAVOR +COUNT +REQUESTER$/);
    expect(rows.slice(1, 3).map((r) => r.split(/ {2,}/)[3])).toEqual(['np-cli-list-2', 'np-cli-list-1']);
    const cursor = /^More: add --cursor (\S+) \(or --all\)$/.exec(rows[3])?.[1];
    expect(cursor).toBeDefined();
    const second = await poolgate(['list', '--mine', '--limit', '2', '--cursor', cursor!], { as: 'dave' });
    expect(
      second.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((r) => r.split(/ {2,}/)[3]),
    ).toEqual(['np-cli-list-0']);

    const all = json<{ items: Array<{ requestId: string }>; nextCursor: null }>(
      await poolgate(['list', '--mine', '--limit', '1', '--all', '--json'], { as: 'dave' }),
    );
    expect(all).toEqual({
      items: [...ids].reverse().map((requestId) => expect.objectContaining({ requestId })),
      nextCursor: null,
    });

    const awaiting = await poolgate(['list', '--awaiting-me'], { as: 'bob' });
    for (const id of ids)
      expect(awaiting.stdout).toContain(
        `  ${id}: decide at ${stack.endpoints.publicUrl}/approvals/${id}.0?approver=bob%40example.com&sig=`,
      );
    const rejected = await poolgate(['list', '--status', 'rejected'], { as: 'alice' });
    expect(
      rejected.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((r) => r.split(/ {2,}/)[3]),
    ).toEqual(['np-cli-reject']);
    const none = await poolgate(['list', '--mine', '--status', 'FAILED'], { as: 'dave' });
    expect(none.stdout).toBe('No requests.\n');
  });

  it('cancels, again harmlessly, and says why it cannot cancel a created node pool', async () => {
    const run = await poolgate(['cancel', ids[1]], { as: 'dave' });
    expect(run).toEqual({ code: 0, stdout: `Request ${ids[1]} is CANCELLED (CANCELLED_BY_USER).\n`, stderr: '' });
    expect(json(await poolgate(['cancel', ids[1], '--json'], { as: 'dave' }))).toMatchObject({
      requestId: ids[1],
      status: 'CANCELLED',
      final: true,
    });

    const active = json<{ items: Array<{ requestId: string }> }>(
      await poolgate(['list', '--mine', '--status', 'ACTIVE', '--json'], { as: 'alice' }),
    ).items[0].requestId;
    const refused = await poolgate(['cancel', active], { as: 'alice' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `poolgate: request ${active} is ACTIVE and can no longer be cancelled (PoolGate.2409, HTTP 409)\n`,
    );
    // Only a FAILED request can be retried (test/e2e/recovery.test.ts retries one).
    expect(await poolgate(['retry', active], { as: 'alice' })).toEqual({
      code: 1,
      stdout: '',
      stderr: `poolgate: request ${active} is ACTIVE: only a FAILED request can be retried (PoolGate.3409, HTTP 409)\n`,
    });
  });

  it("prints the server's error_msg for an unknown request; --url and --token win over the environment", async () => {
    expect(await poolgate(['status', 'no-such-id'], { as: 'dave' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'poolgate: request no-such-id not found (PoolGate.0404, HTTP 404)\n',
    });
    const flag = await poolgate(
      ['list', '--mine', '--token', await token('dave'), '--url', stack.endpoints.api, '--json'],
      { as: 'alice', env: { POOLGATE_URL: 'http://127.0.0.1:9' } },
    );
    expect(JSON.parse(flag.stdout).items.every((r: { requester: string }) => r.requester === 'dave@example.com')).toBe(
      true,
    );
    expect(JSON.parse(flag.stdout).items.length).toBeGreaterThan(0);
    const down = await poolgate(['status', ids[0], '--url', 'http://127.0.0.1:9'], { as: 'dave' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('poolgate: cannot reach poolgate at http://127.0.0.1:9');
  });
});

it('prints a dev token, as JSON with --json', async () => {
  const run = await poolgate(['dev-token', '--json', 'carol@example.com']);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^\{\n {2}"token": "[\w-]+\.[\w-]+\.[\w-]+"\n\}\n$/);
  // The token works: carol (in no team) lists what waits for her: nothing.
  const listed = await poolgate(['list', '--awaiting-me', '--json'], {
    env: { POOLGATE_TOKEN: JSON.parse(run.stdout).token },
  });
  expect(json(listed)).toEqual({ items: [], nextCursor: null });
});
