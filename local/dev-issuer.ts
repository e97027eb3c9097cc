/**
 * The local stack's JWT issuer. Its private key lives in $POOLGATE_HOME/dev-issuer/key.json and its
 * public key is served as a JWKS, so the handlers verify dev tokens exactly as they verify a real
 * issuer's tokens on AWS: by issuer, audience and a key fetched from a JWKS URL.
 */
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type KeyLike,
} from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { sendError, sendJson, type Mount } from './http-api';
import { devIssuerKeyFile } from './paths';

export const DEV_ISSUER = 'urn:poolgate:local-dev-issuer';
export const DEV_AUDIENCE = 'poolgate';
/** Where the HTTP API serves the public keys (JWKS_URI = `<api url>` + this). */
export const JWKS_PATH = '/.well-known/jwks.json';
/** The algorithm of a new key when the accepted algorithms are not given (in poolgate's default list). */
const ALGORITHM = 'ES256';
const DEFAULT_TTL_SECONDS = 12 * 3600;
/** JWK members that belong to the private key only (EC `d`, RSA's CRT values, symmetric `k`). */
const PRIVATE_MEMBERS: readonly (keyof JWK)[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** A stored key the accepted algorithms leave out, or a key file that is not one: the operator's to fix. */
export class DevIssuerKeyError extends Error {
  override name = 'DevIssuerKeyError';
}

export interface IssueTokenOptions {
  /** Lifetime; default 12 h. Zero or negative gives an already-expired token (for tests). */
  readonly ttlSeconds?: number;
  /**
   * Claims merged last, so they may override the standard ones: a test can make a token with the
   * genuine key but a wrong `aud` or `iss`.
   */
  readonly extraClaims?: JWTPayload;
  /**
   * Sign with this JWS algorithm instead of the key's own (tests of the algorithm check). The issuer's
   * key signs when it can (an RSA key any RS or PS algorithm, an EC key that of its curve); otherwise a
   * throwaway key of that algorithm does (HS256: a random secret), with the issuer's `kid` in the
   * header, as a forger would send it.
   */
  readonly algorithm?: string;
}

export interface DevIssuerOptions {
  /**
   * The algorithms the handlers accept (policy `auth.algorithms`). A new key is made for the first
   * of them; a stored key whose algorithm is not among them is refused, naming its file.
   * @default - any stored key; a new one is ES256
   */
  readonly algorithms?: readonly string[];
}

export interface DevIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** The public keys, as served at JWKS_PATH. */
  readonly jwks: JSONWebKeySet;
  /**
   * A signed JWT with `iss`, `aud`, `sub` and `email` (both the lower-cased e-mail), `email_verified:
   * true` (the dev issuer stands for an issuer that verifies addresses, so its tokens pass
   * `auth.requireVerifiedEmail`; `extraClaims` may drop it with `undefined`), `iat`, `exp`, `jti`.
   */
  issueToken(email: string, options?: IssueTokenOptions): Promise<string>;
}

async function newPrivateJwk(alg: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg, use: 'sig' };
}

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Whether `jwk` can make a signature of algorithm `alg` (what jose's JWKS lookup matches, but `alg`). */
function canSignWith(jwk: JWK, alg: string): boolean {
  if (jwk.kty === 'RSA') return /^(RS|PS)(256|384|512)$/.test(alg);
  if (jwk.kty === 'EC') return EC_CURVES[alg] === jwk.crv;
  if (jwk.kty === 'OKP') return alg === 'EdDSA';
  return false;
}

/** A key of `alg` that is not the issuer's. */
async function throwawayKey(alg: string): Promise<KeyLike | Uint8Array> {
  if (/^HS(256|384|512)$/.test(alg)) return new Uint8Array(randomBytes(64));
  return (await generateKeyPair(alg)).privateKey;
}

function readKey(file: string): JWK {
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  if (
    typeof jwk.kty !== 'string' ||
    typeof jwk.kid !== 'string' ||
    typeof jwk.alg !== 'string' ||
    typeof jwk.d !== 'string'
  ) {
    throw new DevIssuerKeyError(`${file} is not a dev issuer private key (delete it to have a new one made)`);
  }
  return jwk;
}

/**
 * Reads the key, or makes it once. The key is written to a private temp file and published with
 * link(2), which fails with EEXIST if the key exists: like an exclusive (`wx`) create of the key
 * file itself, the first process wins and the others re-read its key, but a reader never sees a
 * half-written file.
 */
async function loadOrCreateKey(file: string, newKeyAlgorithm: string): Promise<JWK> {
  try {
    return readKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, `${JSON.stringify(await newPrivateJwk(newKeyAlgorithm), null, 2)}\n`, {
    flag: 'wx',
    mode: 0o600,
  });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
  return readKey(file);
}

function publicJwk(privateJwk: JWK): JWK {
  const jwk: JWK = { ...privateJwk };
  for (const member of PRIVATE_MEMBERS) delete jwk[member];
  return jwk;
}

/** The dev issuer of the local stack whose state is in `homeDir` ($POOLGATE_HOME). */
export async function loadOrCreateDevIssuer(homeDir: string, options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const file = devIssuerKeyFile(homeDir);
  const accepted = options.algorithms;
  if (accepted?.length === 0) throw new Error('the dev issuer needs at least one accepted algorithm');
  const privateJwk = await loadOrCreateKey(file, accepted?.[0] ?? ALGORITHM);
  const alg = privateJwk.alg ?? ALGORITHM;
  if (accepted && !accepted.includes(alg)) {
    throw new DevIssuerKeyError(
      `${file} holds a ${alg} key, but auth.algorithms (${accepted.join(', ')}) does not accept ${alg}: ` +
        `delete the file to have a ${accepted[0]} key made (tokens it signed stop working), or add ${alg} to the list`,
    );
  }
  const key = await importJWK(privateJwk, alg);
  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    jwks: { keys: [publicJwk(privateJwk)] },
    issueToken: async (email, options = {}) => {
      const subject = email.trim().toLowerCase();
      if (!subject) throw new Error('issueToken needs an e-mail address');
      const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
      if (!Number.isFinite(ttlSeconds)) throw new Error(`ttlSeconds must be a finite number, got ${ttlSeconds}`);
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        iss: DEV_ISSUER,
        aud: DEV_AUDIENCE,
        sub: subject,
        email: subject,
        email_verified: true,
        iat: now,
        exp: now + Math.trunc(ttlSeconds),
        jti: randomUUID(),
        ...options.extraClaims,
      };
      const signWith = options.algorithm ?? alg;
      const signingKey =
        signWith === alg
          ? key
          : canSignWith(privateJwk, signWith)
            ? await importJWK(privateJwk, signWith)
            : await throwawayKey(signWith);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: signWith, kid: privateJwk.kid, typ: 'JWT' })
        .sign(signingKey);
    },
  };
}

/** Serves the issuer's public keys at JWKS_PATH (GET or HEAD). */
export function jwksMount(issuer: Pick<DevIssuer, 'jwks'>): Mount {
  return {
    prefix: JWKS_PATH,
    handle: async (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendError(res, 405, `${req.method} is not allowed on ${JWKS_PATH}`, { allow: 'GET, HEAD' });
      sendJson(res, 200, issuer.jwks, { 'cache-control': 'max-age=300' });
    },
  };
}
