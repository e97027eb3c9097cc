/**
 * Bearer-token authentication, in the handler (not an API Gateway authorizer) so every 401 keeps
 * poolgate's error body. The JWKS is fetched from the issuer and cached by jose.
 *
 * A token names its caller by its `email` claim only when the issuer has not said that address is
 * unverified (`email_verified: false`), and only when it is signed with one of the configured
 * algorithms: the key set alone does not decide (a key published without `alg` verifies several).
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { UnauthenticatedError } from '../domain/errors';

export interface AuthenticatorOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  /** The JWS algorithms a token may be signed with (policy `auth.algorithms`). */
  readonly algorithms: readonly string[];
  /** Refuse a token without an `email_verified` claim (policy `auth.requireVerifiedEmail`). */
  readonly requireVerifiedEmail: boolean;
}

export class Authenticator {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: AuthenticatorOptions) {
    if (options.algorithms.length === 0) throw new Error('Authenticator needs at least one accepted algorithm');
    this.keys = createRemoteJWKSet(new URL(options.jwksUri), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }

  /** The caller's e-mail (lowercased) from a valid `Authorization: Bearer <jwt>` header. */
  async emailOf(authorizationHeader: string | undefined): Promise<string> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorizationHeader ?? '');
    if (!match) throw new UnauthenticatedError('missing bearer token: send Authorization: Bearer <token>');
    const payload = await this.verify(match[1]);
    const email = payload.email;
    if (typeof email !== 'string' || !email.includes('@')) throw new UnauthenticatedError('token has no email claim');
    this.checkVerified(email, payload.email_verified);
    return email.toLowerCase();
  }

  private async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...this.options.algorithms],
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JOSEAlgNotAllowed) {
        // The header decoded, or jose would not have read its algorithm.
        const { alg } = decodeProtectedHeader(token);
        throw new UnauthenticatedError(
          `invalid token: signed with ${String(alg)}, but poolgate accepts ${this.options.algorithms.join(', ')} only (policy auth.algorithms)`,
        );
      }
      throw new UnauthenticatedError(`invalid token: ${(error as Error).message}`);
    }
  }

  /**
   * `email_verified` as OpenID Connect Core 1.0 section 5.1 defines it, a boolean; some issuers
   * send it as the string "true"/"false". Any other value proves nothing, so it is refused.
   */
  private checkVerified(email: string, claim: unknown): void {
    if (claim === true || claim === 'true') return;
    if (claim === false || claim === 'false')
      throw new UnauthenticatedError(
        `the e-mail address ${email.toLowerCase()} is not verified by the token's issuer (email_verified: false)`,
      );
    if (claim === undefined) {
      if (!this.options.requireVerifiedEmail) return;
      throw new UnauthenticatedError(
        'the e-mail address is not verified: the token has no email_verified claim, and this poolgate accepts verified addresses only (policy auth.requireVerifiedEmail)',
      );
    }
    throw new UnauthenticatedError(
      `the e-mail address is not verified: email_verified must be true or false, got ${JSON.stringify(claim)}`,
    );
  }
}
