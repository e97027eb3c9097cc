/**
 * The local stack's JWT issuer. Its private key lives in $POOLGATE_HOME/dev-issuer/key.json; the
 * public key is served as a JWKS, so the handlers verify dev tokens exactly as they verify a real
 * issuer's on AWS.
 */
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

export const DEV_ISSUER = 'urn:poolgate:local-dev-issuer';
export const DEV_AUDIENCE = 'poolgate';
const ALGORITHM = 'ES256';
const DEFAULT_TTL_SECONDS = 12 * 3600;

export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: { keys: JWK[] };
  issueToken(email: string, options?: { ttlSeconds?: number }): Promise<string>;
}

async function loadOrCreateKey(homeDir: string): Promise<JWK> {
  const dir = join(homeDir, 'dev-issuer');
  const file = join(dir, 'key.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: ALGORITHM };
  try {
    // Exclusive create: when two processes start at once, the first key written wins for both.
    writeFileSync(file, JSON.stringify(jwk), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return JSON.parse(readFileSync(file, 'utf8')) as JWK;
}

export async function loadOrCreateDevIssuer(homeDir: string): Promise<DevIssuer> {
  const privateJwk = await loadOrCreateKey(homeDir);
  const { d: _private, ...publicJwk } = privateJwk;
  const key = await importJWK(privateJwk, ALGORITHM);
  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    jwks: { keys: [{ ...publicJwk, use: 'sig' }] },
    issueToken: (email, options = {}) =>
      new SignJWT({ email: email.toLowerCase() })
        .setProtectedHeader({ alg: ALGORITHM, kid: privateJwk.kid, typ: 'JWT' })
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setSubject(email.toLowerCase())
        .setIssuedAt()
        .setExpirationTime(`${options.ttlSeconds ?? DEFAULT_TTL_SECONDS}s`)
        .sign(key),
  };
}

/** Serves the issuer's public keys at `/.well-known/jwks.json`. */
export function jwksMount(issuer: DevIssuer) {
  return {
    prefix: '/.well-known/jwks.json',
    handle: async (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify(issuer.jwks));
    },
  };
}
