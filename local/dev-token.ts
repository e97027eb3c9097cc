import { loadOrCreateDevIssuer } from './dev-issuer';
import { localSettings } from './settings';

/** A bearer token for `email` from the local dev issuer (the key in $POOLGATE_HOME). */
export async function devToken(email: string): Promise<string> {
  const issuer = await loadOrCreateDevIssuer(localSettings().home);
  return issuer.issueToken(email);
}
