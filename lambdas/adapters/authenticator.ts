/**
 * Bearer-token authentication, in the handler (not an API Gateway authorizer) so every 401 keeps
 * poolgate's error body. The JWKS is fetched from the issuer and cached by jose.
 */
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { UnauthenticatedError } from '../domain/errors';

export interface AuthenticatorOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
}

export class Authenticator {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: AuthenticatorOptions) {
    this.keys = createRemoteJWKSet(new URL(options.jwksUri), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }

  /** The caller's e-mail (lowercased) from a valid `Authorization: Bearer <jwt>` header. */
  async emailOf(authorizationHeader: string | undefined): Promise<string> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorizationHeader ?? '');
    if (!match) throw new UnauthenticatedError('missing bearer token: send Authorization: Bearer <token>');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
      }));
    } catch (error) {
      throw new UnauthenticatedError(`invalid token: ${(error as Error).message}`);
    }
    const email = payload.email;
    if (typeof email !== 'string' || !email.includes('@')) throw new UnauthenticatedError('token has no email claim');
    return email.toLowerCase();
  }
}
