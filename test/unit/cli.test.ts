/**
 * The CLI without a server: help on every command, usage errors (exit 2) before any call, and what
 * it prints for people. The commands against a running stack are in test/e2e/cli.test.ts.
 */
import { succeeded, type PoolgateApi, type RequestView } from '../../cli/api';
import { EXIT, main } from '../../cli/main';
import { waitUntilFinal } from '../../cli/progress';
import { requestDetails, requestTable, stepLine, table, type Colors } from '../../cli/render';

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

const plain = new Proxy({}, { get: () => (text: string) => text }) as Colors;

describe('help', () => {
  it.each(['submit', 'status', 'list', 'cancel', 'retry', 'start', 'dev-token'])(
    'explains %s, with --json',
    async (command) => {
      const result = await run([command, '--help']);
      expect(result.code).toBe(EXIT.ok);
      expect(result.stdout).toContain(`Usage: poolgate ${command}`);
      expect(result.stdout).toContain('--json');
    },
  );

  it('lists every command, the environment and the exit codes', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(EXIT.ok);
    for (const command of ['start', 'dev-token', 'submit', 'status', 'list', 'cancel', 'retry'])
      expect(result.stdout).toMatch(new RegExp(`\\n  ${command} `));
    expect(result.stdout).toContain('POOLGATE_URL');
    expect(result.stdout).toContain('POOLGATE_TOKEN');
    expect(result.stdout).toContain('Exit codes: 0 done');
    expect((await run([])).code).toBe(EXIT.usage);
  });
});

describe('usage errors exit 2 before calling anything', () => {
  it.each([
    [['lsit'], "unknown command 'lsit'"],
    [['list', '--limit', '0'], "option '--limit <n>' argument '0' is invalid"],
    [['list', '--status', 'DONE'], 'Allowed choices are SUBMITTED, AWAITING_APPROVAL'],
    [['submit', 'body.json', '--project', 'p'], "required option '--pool <name>' not specified"],
    [
      ['submit', '/no/such/file.json', '--project', 'p', '--pool', 'q', '--token', 't'],
      'poolgate: cannot read /no/such/file.json',
    ],
    [['status'], "missing required argument 'id'"],
    [['dev-token', 'not-an-email'], 'usage: poolgate dev-token <email>'],
    [['list', '--url', 'not a url', '--token', 't'], 'poolgate: not a URL: not a url'],
  ])('%j', async (args, message) => {
    const result = await run(args, { POOLGATE_TOKEN: undefined });
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain(message);
  });

  it('says how to get a token when there is none', async () => {
    const result = await run(['status', 'r-1'], { POOLGATE_TOKEN: undefined, POOLGATE_URL: 'http://127.0.0.1:9' });
    expect(result).toEqual({
      code: EXIT.usage,
      stdout: '',
      stderr:
        'poolgate: no token: set POOLGATE_TOKEN or pass --token (locally: export POOLGATE_TOKEN=$(npx poolgate dev-token you@example.com))\n',
    });
  });
});

describe('what it prints', () => {
  const view = {
    requestId: 'r-1',
    status: 'AWAITING_APPROVAL',
    final: false,
    requester: 'alice@example.com',
    team: 'ml-platform',
    projectId: 'p',
    poolName: 'pool-a',
    nodePoolName: 'np-1',
    flavor: 'modelarts.vm.2u4g.dcc',
    count: 2,
    maxCount: 3,
    billing: { mode: '1', periodNum: '1', periodType: '2', orderId: 'ORD-1' },
    createdAt: '2026-11-26T10:00:00.000Z',
    updatedAt: '2026-11-26T10:00:01.000Z',
    links: { self: '/requests/r-1', page: 'http://127.0.0.1:3000/requests/r-1/page?sig=x' },
    steps: [
      { step: 'submitted', outcome: 'ok', at: '2026-11-26T10:00:00.000Z', actor: 'alice@example.com' },
      {
        step: 'approval_requested',
        outcome: 'ok',
        at: '2026-11-26T10:00:01.000Z',
        detail: { stage: 'manager', approvers: ['bob@example.com'] },
      },
    ],
  } as RequestView;

  it('shows a request with its timeline, the current step in words', () => {
    const text = requestDetails(view, plain);
    expect(text).toContain('Status     AWAITING_APPROVAL (waiting for approval from bob@example.com (stage manager))');
    expect(text).toContain('Billing    yearly/monthly, 1 month(s), order ORD-1');
    expect(text).toContain('Page       http://127.0.0.1:3000/requests/r-1/page?sig=x');
    expect(text.split('\n\n')[1]).toBe(
      [
        'TIME (UTC)           STEP                OUTCOME  BY                 DETAILS',
        '2026-11-26 10:00:00  submitted           ok       alice@example.com',
        '2026-11-26 10:00:01  approval requested  ok                          stage manager; asked bob@example.com',
        '',
      ].join('\n'),
    );
  });

  it('aligns list columns and prints decide links for --awaiting-me', () => {
    const listed = requestTable(
      [
        {
          ...view,
          awaiting: { approvalId: 'r-1.0', stage: 'manager', askedAt: view.createdAt, expiresAt: view.createdAt },
          links: { ...view.links, decide: 'http://x/approvals/r-1.0?sig=y' },
        },
      ],
      plain,
      true,
    );
    expect(listed.split('\n')[0]).toBe(
      'CREATED (UTC)        ID   STATUS             NODE POOL  FLAVOR                 COUNT  REQUESTER          STAGE',
    );
    expect(listed).toContain('  r-1: decide at http://x/approvals/r-1.0?sig=y');
    expect(table(['A', 'LONGER'], [['xyz', '1']])).toBe('A    LONGER\nxyz  1');
    expect(
      stepLine(
        {
          step: 'rejected',
          outcome: 'refused',
          at: '2026-11-26T10:05:00.000Z',
          actor: 'bob@example.com',
          detail: { comment: 'no' },
        },
        plain,
      ),
    ).toBe('✖ 2026-11-26 10:05:00  rejected  refused  bob@example.com  "no"');
  });

  it('counts ACTIVE, and CREATED only when final, as success', () => {
    expect(succeeded({ status: 'ACTIVE', final: true })).toBe(true);
    expect(succeeded({ status: 'CREATED', final: true })).toBe(true);
    expect(succeeded({ status: 'CREATED', final: false })).toBe(false);
    expect(succeeded({ status: 'REJECTED', final: true })).toBe(false);
  });
});

describe('submit --wait progress', () => {
  it('prints each new step once, as plain lines on a terminal without a width, and stops at a final view', async () => {
    const base = { requestId: 'r-1', final: false, links: { self: '/requests/r-1' } };
    const steps = [
      { step: 'submitted', outcome: 'ok', at: '2026-11-26T10:00:00.000Z', actor: 'alice@example.com' },
      { step: 'approved', outcome: 'ok', at: '2026-11-26T10:01:00.000Z', actor: 'bob@example.com' },
      { step: 'node_pool_created', outcome: 'ok', at: '2026-11-26T10:01:01.000Z' },
    ];
    const views = [
      { ...base, status: 'AWAITING_APPROVAL', steps: steps.slice(0, 1) },
      { ...base, status: 'CREATED', final: true, steps },
    ];
    const call = jest.fn(async () => views.shift());
    const written: string[] = [];
    // `script` without a size gives a terminal of 0 columns: no spinner there (it would divide by 0).
    const stream = {
      isTTY: true,
      columns: 0,
      write: (text: string) => (written.push(text), true),
    } as unknown as NodeJS.WriteStream;
    const final = await waitUntilFinal({ call } as unknown as PoolgateApi, 'r-1', { show: true, stream });
    expect(final.status).toBe('CREATED');
    expect(call).toHaveBeenCalledTimes(2);
    // A terminal gets colour; the text is the same as in a log.
    expect(written[0]).toContain('\u001b[32mok\u001b[39m');
    // eslint-disable-next-line no-control-regex -- strips the colour codes it just checked
    expect(written.map((text) => text.replace(/\u001b\[\d+m/g, ''))).toEqual([
      '✔ 2026-11-26 10:00:00  submitted  ok  alice@example.com\n',
      '✔ 2026-11-26 10:01:00  approved  ok  bob@example.com\n',
      '✔ 2026-11-26 10:01:01  node pool created  ok\n',
    ]);
  });
});
