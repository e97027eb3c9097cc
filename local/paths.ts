/** Where the local stack keeps its state: everything lives under $POOLGATE_HOME. */
import { join, resolve } from 'node:path';

/** `$POOLGATE_HOME`, else `.poolgate/` under the working directory; always absolute. */
export function poolgateHome(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, env.POOLGATE_HOME || '.poolgate');
}

/** The SESv2 stand-in's outbox: one RFC 822 `.eml` file per message sent. */
export function outboxDir(home: string): string {
  return join(home, 'outbox');
}

/** The dev JWT issuer's private key (a JWK, mode 0600). */
export function devIssuerKeyFile(home: string): string {
  return join(home, 'dev-issuer', 'key.json');
}
