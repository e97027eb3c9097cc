/**
 * The local dev JWT issuer: its key on disk, its tokens, and its JWKS served on a real local HTTP
 * API, verified with jose exactly as lambdas/adapters/authenticator.ts verifies bearer tokens.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from 'jose';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ROUTES } from '../../contracts/routes';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  JWKS_PATH,
  jwksMount,
  loadOrCreateDevIssuer,
  type DevIssuer,
} from '../../local/dev-issuer';
import { startHttpApi, type HttpApi } from '../../local/http-api';
import { devIssuerKeyFile, outboxDir, poolgateHome } from '../../local/paths';

const ROOT = resolve(__dirname, '../..');
const homes: string[] = [];

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'poolgate-issuer-'));
  homes.push(home);
  return home;
}

afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

async function serveJwks(issuer: DevIssuer): Promise<HttpApi> {
  return startHttpApi({
    port: 0,
    routes: ROUTES,
    invoke: async () => ({ statusCode: 500 }),
    mounts: [jwksMount(issuer)],
  });
}

describe('dev issuer key', () => {
  it('is created once, private to the user, and reused', async () => {
    const home = newHome();
    const first = await loadOrCreateDevIssuer(home);
    const file = devIssuerKeyFile(home);
    expect(file).toBe(join(home, 'dev-issuer', 'key.json'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({
      kid: expect.any(String),
      alg: expect.stringMatching(/^(RS|ES)256$/),
      d: expect.any(String),
    });

    const again = await loadOrCreateDevIssuer(home);
    expect(again.jwks).toEqual(first.jwks);
    expect(first.jwks.keys).toEqual([expect.objectContaining({ kid: stored.kid, alg: stored.alg, use: 'sig' })]);
    // The JWKS is public: no private key member.
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(first.jwks.keys[0]).not.toHaveProperty(member);
  });

  it('is the same for every loader starting at once, in this process', async () => {
    const home = newHome();
    const issuers = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateDevIssuer(home)));
    expect(new Set(issuers.map((i) => i.jwks.keys[0].kid)).size).toBe(1);
    expect(readdirSync(dirname(devIssuerKeyFile(home)))).toEqual(['key.json']);
  });

  it('is the same for processes starting at once', async () => {
    const home = newHome();
    const script = join(home, 'load-key.mts');
    writeFileSync(
      script,
      `import { loadOrCreateDevIssuer } from ${JSON.stringify(join(ROOT, 'local/dev-issuer.ts'))};\n` +
        'const issuer = await loadOrCreateDevIssuer(process.argv[2]);\nprocess.stdout.write(String(issuer.jwks.keys[0].kid));\n',
    );
    const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', script, home], { cwd: ROOT });
    const outputs = await Promise.all([run(), run(), run()]);
    const kids = new Set(outputs.map((o) => o.stdout));
    expect(kids.size).toBe(1);
    expect((await loadOrCreateDevIssuer(home)).jwks.keys[0].kid).toBe([...kids][0]);
  }, 60_000);

  it('makes its key for the first accepted algorithm, and refuses a stored key the algorithms leave out', async () => {
    const home = newHome();
    const rsa = await loadOrCreateDevIssuer(home, { algorithms: ['RS256', 'ES256'] });
    expect(rsa.jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
    // A stored key the list accepts is kept, whatever its place in the list.
    expect((await loadOrCreateDevIssuer(home, { algorithms: ['ES256', 'RS256'] })).jwks).toEqual(rsa.jwks);
    await expect(loadOrCreateDevIssuer(home, { algorithms: ['ES256'] })).rejects.toThrow(
      `${devIssuerKeyFile(home)} holds a RS256 key, but auth.algorithms (ES256) does not accept RS256: ` +
        'delete the file to have a ES256 key made (tokens it signed stop working), or add RS256 to the list',
    );
    expect((await loadOrCreateDevIssuer(newHome(), { algorithms: ['EdDSA'] })).jwks.keys[0]).toMatchObject({
      kty: 'OKP',
      alg: 'EdDSA',
    });
    expect((await loadOrCreateDevIssuer(newHome())).jwks.keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256' });
  });

  it('refuses a key file that is not a private JWK, naming the file', async () => {
    const home = newHome();
    mkdirSync(dirname(devIssuerKeyFile(home)), { recursive: true });
    writeFileSync(devIssuerKeyFile(home), JSON.stringify({ kty: 'EC' }));
    await expect(loadOrCreateDevIssuer(home)).rejects.toThrow(devIssuerKeyFile(home));
  });
});

describe('dev issuer tokens', () => {
  let home: string;
  let issuer: DevIssuer;
  let api: HttpApi;
  let jwks: JSONWebKeySet;

  beforeEach(async () => {
    home = newHome();
    issuer = await loadOrCreateDevIssuer(home);
    api = await serveJwks(issuer);
    const response = await fetch(`${api.url}${JWKS_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    jwks = (await response.json()) as JSONWebKeySet;
  });

  afterEach(() => api.close());

  const verify = (token: string, keys = createLocalJWKSet(jwks)) =>
    jwtVerify(token, keys, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE });

  it('serves the public keys at /.well-known/jwks.json', () => {
    expect(jwks).toEqual(issuer.jwks);
  });

  it('issues tokens that verify against the served JWKS, issuer and audience', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await issuer.issueToken('Alice@Example.COM');
    const { payload, protectedHeader } = await verify(token);
    expect(issuer.issuer).toBe('urn:poolgate:local-dev-issuer');
    expect(issuer.audience).toBe('poolgate');
    expect(payload).toMatchObject({
      iss: DEV_ISSUER,
      aud: DEV_AUDIENCE,
      sub: 'alice@example.com',
      email: 'alice@example.com',
      email_verified: true,
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(12 * 3600);
    expect(protectedHeader).toMatchObject({ kid: jwks.keys[0].kid, alg: jwks.keys[0].alg, typ: 'JWT' });

    // As the authenticator does it: keys fetched by URL from the mount.
    const remote = createRemoteJWKSet(new URL(`${api.url}${JWKS_PATH}`));
    await expect(verify(token, remote)).resolves.toMatchObject({ payload: { email: 'alice@example.com' } });
  });

  it('honours ttlSeconds and extraClaims', async () => {
    const token = await issuer.issueToken('bob@example.com', { ttlSeconds: 60, extraClaims: { name: 'Bob' } });
    const { payload } = await verify(token);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(60);
    expect(payload.name).toBe('Bob');

    await expect(verify(await issuer.issueToken('bob@example.com', { ttlSeconds: -60 }))).rejects.toMatchObject({
      code: 'ERR_JWT_EXPIRED',
    });
    await expect(
      verify(await issuer.issueToken('bob@example.com', { extraClaims: { aud: 'someone-else' } })),
    ).rejects.toMatchObject({
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  it('does not verify a token of another issuer key', async () => {
    const otherIssuer = await loadOrCreateDevIssuer(newHome());
    const fromOtherHome = await otherIssuer.issueToken('alice@example.com');
    await expect(verify(fromOtherHome)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });

    // Another key claiming our key id: the signature does not verify.
    const { kid, alg } = jwks.keys[0];
    const { privateKey } = await generateKeyPair(alg ?? 'ES256', { extractable: true });
    expect(await exportJWK(privateKey)).not.toEqual(jwks.keys[0]);
    const forged = await new SignJWT({ email: 'alice@example.com' })
      .setProtectedHeader({ alg: alg ?? 'ES256', kid, typ: 'JWT' })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject('alice@example.com')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    expect(decodeProtectedHeader(forged).kid).toBe(kid);
    await expect(verify(forged)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('signs with another algorithm on request: with its own key when it can, else with a key of no JWKS', async () => {
    // ES384 (another curve) and HS256 (a secret): a throwaway key under the issuer's key id.
    // (A key set has no secrets: jose does not even look for an HS256 key in one.)
    for (const [algorithm, code] of [
      ['ES384', 'ERR_JWKS_NO_MATCHING_KEY'],
      ['HS256', 'ERR_JOSE_NOT_SUPPORTED'],
    ]) {
      const token = await issuer.issueToken('alice@example.com', { algorithm });
      expect(decodeProtectedHeader(token)).toEqual({ alg: algorithm, kid: jwks.keys[0].kid, typ: 'JWT' });
      await expect(verify(token)).rejects.toMatchObject({ code });
    }
    // An RSA issuer signs PS256 with its own key: a key set without `alg` verifies it.
    const rsa = await loadOrCreateDevIssuer(newHome(), { algorithms: ['RS256'] });
    const pss = await rsa.issueToken('alice@example.com', { algorithm: 'PS256' });
    const withoutAlg = createLocalJWKSet({ keys: rsa.jwks.keys.map(({ alg: _alg, ...key }) => key) });
    await expect(verify(pss, withoutAlg)).resolves.toMatchObject({ protectedHeader: { alg: 'PS256' } });
    await expect(verify(pss, createLocalJWKSet(rsa.jwks))).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('answers 405 to anything but GET on the JWKS path', async () => {
    const response = await fetch(`${api.url}${JWKS_PATH}`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(await response.json()).toEqual({ error_code: 'PoolGate.0405', error_msg: expect.any(String) });
  });
});

describe('local paths', () => {
  it('puts $POOLGATE_HOME, else .poolgate/ under the working directory, as an absolute path', () => {
    expect(poolgateHome({ POOLGATE_HOME: '/srv/pg' }, '/work')).toBe('/srv/pg');
    expect(poolgateHome({ POOLGATE_HOME: 'data/pg' }, '/work')).toBe('/work/data/pg');
    expect(poolgateHome({}, '/work')).toBe('/work/.poolgate');
    expect(poolgateHome({ POOLGATE_HOME: '' }, '/work')).toBe('/work/.poolgate');
    expect(outboxDir('/work/.poolgate')).toBe('/work/.poolgate/outbox');
  });
});
