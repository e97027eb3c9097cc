import { DEFAULT_JWT_ALGORITHMS } from '../contracts/auth';
import { loadPolicyFile } from '../lambdas/config/policy';
import { loadOrCreateDevIssuer } from './dev-issuer';
import { localSettings } from './settings';

/**
 * A bearer token for `email` from the local dev issuer (the key in $POOLGATE_HOME). The key, if this
 * makes it, is of the policy's first accepted algorithm, as `npm start` would make it.
 */
export async function devToken(email: string): Promise<string> {
  const settings = localSettings();
  const algorithms = loadPolicyFile(settings.policyFile).auth?.algorithms ?? DEFAULT_JWT_ALGORITHMS;
  const issuer = await loadOrCreateDevIssuer(settings.home, { algorithms });
  return issuer.issueToken(email);
}
