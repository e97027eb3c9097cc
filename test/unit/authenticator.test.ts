/**
 * The bearer-token adapter with real tokens signed by the local dev issuer and its key set served over
 * real HTTP: who a token names (verified e-mails only) and which signing algorithms it may use.
 */
import { createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTES } from '../../contracts/routes';
import { Authenticator, type AuthenticatorOptions } from '../../lambdas/adapters/authenticator';
import { UnauthenticatedError } from '../../lambdas/domain/errors';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  JWKS_PATH,
  jwksMount,
  loadOrCreateDevIssuer,
  type DevIssuer,
} from '../../local/dev-issuer';
import { startHttpApi, type HttpApi } from '../../local/http-api';

const homes: string[] = [];
const apis: HttpApi[] = [];

afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

/** A dev issuer in a fresh home, its key set served at <url>/.well-known/jwks.json (as `jwks` says, if given). */
async function issuerWithKeySet(algorithms?: readonly string[], jwks?: (own: JSONWebKeySet) => JSONWebKeySet) {
  const home = mkdtempSync(join(tmpdir(), 'poolgate-auth-'));
  homes.push(home);
  const issuer = await loadOrCreateDevIssuer(home, { algorithms });
  const api = await startHttpApi({
    port: 0,
    routes: ROUTES,
    invoke: async () => ({ statusCode: 500 }),
    mounts: [jwksMount({ jwks: jwks ? jwks(issuer.jwks) : issuer.jwks })],
  });
  apis.push(api);
  return { issuer, jwksUri: `${api.url}${JWKS_PATH}` };
}

function authenticator(jwksUri: string, options: Partial<AuthenticatorOptions> = {}): Authenticator {
  return new Authenticator({
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    jwksUri,
    algorithms: ['ES256', 'RS256'],
    requireVerifiedEmail: false,
    ...options,
  });
}

const bearer = (token: string) => `Bearer ${token}`;
const refused = (message: string | RegExp) =>
  expect.objectContaining({
    constructor: UnauthenticatedError,
    code: 'PoolGate.0401',
    message: typeof message === 'string' ? message : expect.stringMatching(message),
  });

describe('email_verified', () => {
  let issuer: DevIssuer;
  let jwksUri: string;
  const token = (claims: JWTPayload) => issuer.issueToken('Alice@Example.com', { extraClaims: claims });

  beforeEach(async () => {
    ({ issuer, jwksUri } = await issuerWithKeySet());
  });

  it.each([
    ['true', true],
    ['the string "true"', 'true'],
    ['absent', undefined],
  ])('names the caller when the claim is %s', async (_what, claim) => {
    const auth = authenticator(jwksUri);
    await expect(auth.emailOf(bearer(await token({ email_verified: claim })))).resolves.toBe('alice@example.com');
  });

  it.each([
    ['false', false],
    ['the string "false"', 'false'],
  ])('refuses a token whose claim is %s: the e-mail is not verified', async (_what, claim) => {
    const auth = authenticator(jwksUri);
    await expect(auth.emailOf(bearer(await token({ email_verified: claim })))).rejects.toEqual(
      refused("the e-mail address alice@example.com is not verified by the token's issuer (email_verified: false)"),
    );
    // requireVerifiedEmail changes nothing for a token that says false.
    const strict = authenticator(jwksUri, { requireVerifiedEmail: true });
    await expect(strict.emailOf(bearer(await token({ email_verified: claim })))).rejects.toEqual(
      refused(/is not verified .*email_verified: false/),
    );
  });

  it('refuses a token without the claim when the policy requires verified e-mails, and accepts a verified one', async () => {
    const auth = authenticator(jwksUri, { requireVerifiedEmail: true });
    await expect(auth.emailOf(bearer(await token({ email_verified: undefined })))).rejects.toEqual(
      refused(
        'the e-mail address is not verified: the token has no email_verified claim, and this poolgate accepts verified addresses only (policy auth.requireVerifiedEmail)',
      ),
    );
    await expect(auth.emailOf(bearer(await token({ email_verified: true })))).resolves.toBe('alice@example.com');
    await expect(auth.emailOf(bearer(await token({ email_verified: 'true' })))).resolves.toBe('alice@example.com');
  });

  it.each([[1], ['yes'], ['FALSE'], [null], [{}]])(
    'refuses a claim that is neither true nor false: %j',
    async (claim) => {
      const auth = authenticator(jwksUri);
      await expect(auth.emailOf(bearer(await token({ email_verified: claim })))).rejects.toEqual(
        refused(
          `the e-mail address is not verified: email_verified must be true or false, got ${JSON.stringify(claim)}`,
        ),
      );
    },
  );

  it('still refuses a token without an email claim first', async () => {
    const auth = authenticator(jwksUri);
    await expect(auth.emailOf(bearer(await token({ email: undefined, email_verified: false })))).rejects.toEqual(
      refused('token has no email claim'),
    );
  });
});

describe('signing algorithms', () => {
  it('refuses a genuine token of the key set when its algorithm is not configured, and accepts it when it is', async () => {
    const { issuer, jwksUri } = await issuerWithKeySet();
    const genuine = await issuer.issueToken('alice@example.com');
    await expect(authenticator(jwksUri, { algorithms: ['RS256'] }).emailOf(bearer(genuine))).rejects.toEqual(
      refused('invalid token: signed with ES256, but poolgate accepts RS256 only (policy auth.algorithms)'),
    );
    await expect(authenticator(jwksUri).emailOf(bearer(genuine))).resolves.toBe('alice@example.com');
  });

  it('refuses another algorithm that a key published without "alg" would verify (PS256 with an RSA key)', async () => {
    // Some issuers publish their RSA keys without `alg`: jose then verifies any RS or PS signature.
    const { issuer, jwksUri } = await issuerWithKeySet(['RS256'], (own) => ({
      keys: own.keys.map(({ alg: _alg, ...key }) => key),
    }));
    const pss = await issuer.issueToken('alice@example.com', { algorithm: 'PS256' });
    // The key set alone would accept it...
    await expect(
      jwtVerify(pss, createRemoteJWKSet(new URL(jwksUri)), { issuer: DEV_ISSUER, audience: DEV_AUDIENCE }),
    ).resolves.toMatchObject({ protectedHeader: { alg: 'PS256' } });
    // ...the configured algorithms do not.
    await expect(authenticator(jwksUri).emailOf(bearer(pss))).rejects.toEqual(
      refused('invalid token: signed with PS256, but poolgate accepts ES256, RS256 only (policy auth.algorithms)'),
    );
    await expect(authenticator(jwksUri, { algorithms: ['PS256'] }).emailOf(bearer(pss))).resolves.toBe(
      'alice@example.com',
    );
    await expect(authenticator(jwksUri).emailOf(bearer(await issuer.issueToken('alice@example.com')))).resolves.toBe(
      'alice@example.com',
    );
  });

  it.each(['ES384', 'HS256'])('refuses a token signed with %s under the issuer key id', async (algorithm) => {
    const { issuer, jwksUri } = await issuerWithKeySet();
    const token = await issuer.issueToken('alice@example.com', { algorithm });
    await expect(authenticator(jwksUri).emailOf(bearer(token))).rejects.toEqual(
      refused(
        `invalid token: signed with ${algorithm}, but poolgate accepts ES256, RS256 only (policy auth.algorithms)`,
      ),
    );
  });

  it('needs at least one algorithm', () => {
    expect(() => authenticator('http://127.0.0.1:9/jwks.json', { algorithms: [] })).toThrow(
      'Authenticator needs at least one accepted algorithm',
    );
  });
});
