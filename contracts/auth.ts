/**
 * How bearer tokens are verified, shared by the policy schema (lambdas/config), the stack (lib/) and
 * the local stack: the JWS algorithms poolgate may accept and how they travel to the handlers.
 */

/**
 * Asymmetric JWS algorithms (RFC 7518 section 3.1, and EdDSA of RFC 8037): an issuer publishes their
 * public keys in a JWKS. HMAC (`HS256`...) needs a secret shared with the issuer and `none` proves
 * nothing, so neither may be configured.
 */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** What the policy's `auth.algorithms` defaults to: what OpenID Connect issuers sign with. */
export const DEFAULT_JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['ES256', 'RS256'];

export function isJwtAlgorithm(value: string): value is JwtAlgorithm {
  return (JWT_ALGORITHMS as readonly string[]).includes(value);
}

/** The value of JWT_ALGORITHMS (environment): the algorithms, comma-separated. */
export function encodeJwtAlgorithms(algorithms: readonly string[]): string {
  return algorithms.join(',');
}

/** Reads JWT_ALGORITHMS back; throws on an empty list or an algorithm poolgate does not accept. */
export function decodeJwtAlgorithms(value: string): JwtAlgorithm[] {
  const algorithms = value.split(',').map((a) => a.trim());
  const wrong = algorithms.filter((a) => !isJwtAlgorithm(a));
  if (algorithms.length === 0 || wrong.length > 0)
    throw new Error(`JWT algorithms must be a comma-separated list of ${JWT_ALGORITHMS.join(', ')}; got "${value}"`);
  return algorithms as JwtAlgorithm[];
}
