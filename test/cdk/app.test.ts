/**
 * The app as the operator runs it: `cdk synth` through the CLI with cdk.json (real bundling by the
 * local esbuild, offline, no Docker), and the bin entry refusing a wrong policy file. Slow by nature
 * (one esbuild run per function): everything runs once, concurrently, in beforeAll.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LAMBDA_BUNDLING } from '../../contracts/bundling';
import { FUNCTION_ENTRIES } from '../../contracts/functions';
import { BUNDLED_POLICY_FILE } from '../../lib/constructs/poolgate-function';
import { type CfnResource, POLICY_FILE, ROOT } from './support';

jest.setTimeout(180_000);

const run = promisify(execFile);
const STACK_NAME = 'PoolgateAppTest';

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; a non-zero exit is an outcome to assert, not a test error. */
async function outcomeOf(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: ROOT, env, timeout: 170_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/**
 * The environment of a machine with no AWS access: no credentials (the test setup sets dummy ones, which
 * would make the CLI try to look the account up) and no instance metadata service.
 */
function offlineEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'CDK_DEFAULT_ACCOUNT',
    'CDK_DEFAULT_REGION',
    'POOLGATE_CONFIG',
  ]) {
    delete env[name];
  }
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}

const scratch = mkdtempSync(join(tmpdir(), 'poolgate-app-test-'));
const outdir = join(scratch, 'cdk.out');
let synth: Outcome;
let badPolicy: Outcome;
let noAuth: Outcome;

function policyFile(name: string, policy: unknown): string {
  const file = join(scratch, name);
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

/** Runs bin/poolgate.ts as the CLI does (through tsx), with a policy file of our own. */
const bin = (policy: string) =>
  outcomeOf(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bin/poolgate.ts')],
    offlineEnv({ POOLGATE_CONFIG: policy, CDK_OUTDIR: `${policy}.out` }),
  );

beforeAll(async () => {
  const valid = JSON.parse(readFileSync(POLICY_FILE, 'utf8')) as Record<string, unknown> & {
    teams: Array<Record<string, unknown>>;
  };
  const team = valid.teams[0];
  [synth, badPolicy, noAuth] = await Promise.all([
    outcomeOf(
      join(ROOT, 'node_modules/.bin/cdk'),
      ['synth', '--quiet', '--output', outdir, '--context', `poolgate:stackName=${STACK_NAME}`],
      offlineEnv({}),
    ),
    bin(
      policyFile('bad.json', {
        ...valid,
        alarms: { email: 'oncall' },
        auth: { issuer: 'https://login.example.com/', audience: 'poolgate', algorithms: ['HS256'] },
        teams: [{ ...team, members: [{ email: 'not-an-email' }], stages: [] }],
      }),
    ),
    bin(policyFile('no-auth.json', { ...valid, auth: undefined })),
  ]);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bin/poolgate.ts', () => {
  it('fails synth on an invalid policy file with a message naming each field', () => {
    expect(badPolicy.code).toBe(1);
    expect(badPolicy.stderr).toContain('bad.json is invalid');
    expect(badPolicy.stderr).toContain('teams.0.members.0.email');
    expect(badPolicy.stderr).toContain('teams.0.stages');
    expect(badPolicy.stderr).toContain('alarms.email');
    expect(badPolicy.stderr).toContain('auth.algorithms.0: must be one of RS256,');
    // The operator's mistake, not a crash: no stack trace.
    expect(badPolicy.stderr).not.toMatch(/^\s+at /m);
  });

  it('requires the auth block to deploy', () => {
    expect(noAuth.code).toBe(1);
    expect(noAuth.stderr).toContain('auth: required to deploy');
  });
});

describe('cdk synth (as npm run synth)', () => {
  const template = () =>
    JSON.parse(readFileSync(join(outdir, `${STACK_NAME}.template.json`), 'utf8')) as {
      Resources: Record<string, CfnResource>;
    };
  const bundleDirs = () =>
    Object.values(template().Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => join(outdir, String(r.Metadata?.['aws:asset:path'])));

  it('succeeds offline, without Docker, with both stacks and cdk-nag passing (a finding would fail it)', () => {
    expect([synth.code, synth.stderr.includes('docker') ? synth.stderr : '']).toEqual([0, '']);
    expect(existsSync(join(outdir, `${STACK_NAME}.template.json`))).toBe(true);
    expect(existsSync(join(outdir, `${STACK_NAME}Data.template.json`))).toBe(true);
  });

  it('bundles every handler as minified ESM with the require banner, its source map and the policy file', () => {
    const dirs = bundleDirs();
    expect(dirs).toHaveLength(Object.keys(FUNCTION_ENTRIES).length);
    const policy = readFileSync(POLICY_FILE, 'utf8');
    for (const dir of dirs) {
      expect([dir, readdirSync(dir).sort()]).toEqual([dir, ['index.mjs', 'index.mjs.map', BUNDLED_POLICY_FILE]]);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith(LAMBDA_BUNDLING.banner)).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(readFileSync(join(dir, BUNDLED_POLICY_FILE), 'utf8')).toBe(policy);
    }
  });

  it('bundles with the options of contracts/bundling.ts: environment credentials, no event-stream codec, maps without sources', () => {
    const sources = (dir: string) =>
      (JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources;
    const all = bundleDirs().map(sources);
    for (const list of all) expect(list.filter((s) => /credential-provider-node|nested-clients/.test(s))).toEqual([]);
    // The SDK clients are there (all but health and openapi), and with them the environment provider.
    expect(all.filter((list) => list.some((s) => s.includes('credential-provider-env'))).length).toBe(
      all.filter((list) => list.some((s) => s.includes('@smithy/core'))).length,
    );
    expect(all.some((list) => list.some((s) => s.includes('@smithy/core')))).toBe(true);
    // Left external (contracts/bundling.ts): the event-stream codec none of poolgate's SDK clients uses.
    for (const list of all) expect(list.filter((s) => s.includes('event-streams'))).toEqual([]);
    // Maps without the sources (contracts/bundling.ts, sourcesContent): Node parses them at import.
    for (const dir of bundleDirs())
      expect([dir, 'sourcesContent' in JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8'))]).toEqual([
        dir,
        false,
      ]);
  });

  it('produces bundles that load as ES modules, and the health handler answers', async () => {
    // In a child process: jest's module system is not Node's ESM loader.
    const script = `
      const dirs = JSON.parse(process.argv[1]);
      const results = {};
      for (const dir of dirs) {
        const module = await import(new URL('file://' + dir + '/index.mjs').href);
        results[dir] = typeof module.handler;
        if (dir.endsWith(process.argv[2])) results.health = (await module.handler({})).statusCode;
      }
      console.log(JSON.stringify(results));`;
    const template_ = template();
    const healthId = Object.keys(template_.Resources).find(
      (id) => id.startsWith('FunctionsHealth') && template_.Resources[id].Type === 'AWS::Lambda::Function',
    )!;
    const healthDir = String(template_.Resources[healthId].Metadata?.['aws:asset:path']);
    const result = await outcomeOf(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify(bundleDirs()), healthDir],
      offlineEnv({}),
    );
    expect(result.stderr).toBe('');
    const loaded = JSON.parse(result.stdout) as Record<string, string | number>;
    for (const dir of bundleDirs()) expect([dir, loaded[dir]]).toEqual([dir, 'function']);
    expect(loaded.health).toBe(200);
  });
});
