/**
 * The policy's `auth` settings reach the handlers of the local stack, over real HTTP: verified
 * e-mails required, and RS256 the only accepted algorithm (so the dev issuer makes an RS256 key).
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadOrCreateDevIssuer } from '../../local/dev-issuer';
import { devIssuerKeyFile } from '../../local/paths';
import { newHome, startStack, type RunningStack } from '../../local/harness/stack';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '../..');

const policy = {
  ...(JSON.parse(readFileSync(join(ROOT, 'poolgate.config.json'), 'utf8')) as Record<string, unknown>),
  auth: {
    issuer: 'https://login.example.com/',
    audience: 'poolgate',
    algorithms: ['RS256'],
    requireVerifiedEmail: true,
  },
};

let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ policy });
});
afterAll(() => stack?.stop());

async function listAs(token: string) {
  const response = await fetch(`${stack.endpoints.api}/requests`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

it('signs with a key of the first accepted algorithm', async () => {
  expect((await loadOrCreateDevIssuer(stack.home)).jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
});

it('refuses a token without email_verified, and accepts a verified one', async () => {
  const silent = await stack.token('alice@example.com', { extraClaims: { email_verified: undefined } });
  expect(await listAs(silent)).toEqual({
    status: 401,
    json: {
      error_code: 'PoolGate.0401',
      error_msg:
        'the e-mail address is not verified: the token has no email_verified claim, and this poolgate accepts verified addresses only (policy auth.requireVerifiedEmail)',
    },
  });
  const verified = await stack.token('alice@example.com', { extraClaims: { email_verified: true } });
  expect((await listAs(verified)).status).toBe(200);
});

it('accepts the token `poolgate dev-token` prints with this policy', async () => {
  const run = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'cli/poolgate.mjs'), 'dev-token', 'alice@example.com'],
    {
      cwd: ROOT,
      env: { ...process.env, POOLGATE_HOME: stack.home, POOLGATE_CONFIG: join(stack.home, 'policy.json') },
    },
  );
  expect((await listAs(run.stdout.trim())).status).toBe(200);
});

it('refuses ES256, an algorithm of the default list that this policy leaves out', async () => {
  const es256 = await stack.token('alice@example.com', { algorithm: 'ES256' });
  expect(await listAs(es256)).toEqual({
    status: 401,
    json: {
      error_code: 'PoolGate.0401',
      error_msg: 'invalid token: signed with ES256, but poolgate accepts RS256 only (policy auth.algorithms)',
    },
  });
});

it('does not start with a dev issuer key whose algorithm the policy leaves out, and says what to do', async () => {
  const home = newHome();
  try {
    await loadOrCreateDevIssuer(home); // an ES256 key, as made by an earlier `npm start`
    const failed = await startStack({ home, policy }).then(
      () => new Error('the stack started'),
      (error: Error) => error,
    );
    expect(failed.message).toContain(
      `poolgate start exited with 1:\npoolgate: ${devIssuerKeyFile(home)} holds a ES256 key, but auth.algorithms (RS256) does not accept ES256: ` +
        'delete the file to have a RS256 key made (tokens it signed stop working), or add ES256 to the list\n',
    );
    // The operator's mistake, not a crash: no stack trace.
    expect(failed.message).not.toMatch(/^\s+at /m);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
