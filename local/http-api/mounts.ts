import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A non-Lambda handler on the HTTP API's server (the AWS stand-ins, the dev issuer's JWKS). Mounts
 * are checked before the routes; a mount owns every path at or below its prefix and gets the raw
 * request body (already read, within API Gateway's 10 MiB limit).
 */
export interface Mount {
  /** A path such as `/_aws/sesv2`; it matches `/_aws/sesv2` and `/_aws/sesv2/...`, not `/_aws/sesv2x`. */
  readonly prefix: string;
  /** Only the prefix itself, not the paths below it (the index page at `/`). */
  readonly exact?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>;
}

function trimSlash(prefix: string): string {
  return prefix.replace(/\/+$/, '');
}

export function findMount(mounts: readonly Mount[], rawPath: string): Mount | undefined {
  return mounts.find((mount) => {
    if (mount.exact) return rawPath === mount.prefix;
    const prefix = trimSlash(mount.prefix);
    return rawPath === prefix || rawPath.startsWith(`${prefix}/`);
  });
}

/**
 * The path of `url` below `prefix`, always starting with a single `/` (`/` for the prefix itself).
 * SDK clients join the endpoint's path and the operation's path naively, so an endpoint ending in
 * `/` yields `//v2/...`: repeated leading slashes are collapsed.
 */
export function pathBelow(prefix: string, url: string | undefined): string {
  const path = (url ?? '/').split('?')[0];
  const rest = path.slice(trimSlash(prefix).length);
  return `/${rest.replace(/^\/+/, '')}`;
}
