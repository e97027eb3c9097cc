/**
 * The local HTTP API: the routes of contracts/routes.ts served on plain node:http, each request
 * turned into an API Gateway HTTP API payload format 2.0 event for the same handler modules that run
 * on Lambda, and each result mapped back as API Gateway maps it. Mounts (the AWS stand-ins, the dev
 * issuer's JWKS) are served on the same server, before the routes.
 *
 * The gateway's own errors use poolgate's error body: 400 (undecodable percent-encoding in a path
 * parameter), 404 (no route), 405 (path known, method not; with `Allow`), 413 (over API Gateway's
 * 10 MiB payload limit) and 500 (the handler threw or returned a result API Gateway could not use;
 * the error goes to stderr, as it would to the function's logs).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { HttpFunctionId } from '../../contracts/functions';
import type { RouteDefinition } from '../../contracts/routes';
import { MAX_PAYLOAD_BYTES, readBody } from './body';
import { buildEvent } from './event';
import { findMount, type Mount } from './mounts';
import { sendError } from './reply';
import { toHttpResponse } from './result';
import { compileRoutes, matchRoute } from './router';
import { closeServer, listen } from '../listen';

export { MAX_PAYLOAD_BYTES } from './body';
export { isTextContentType, LOCAL_ACCOUNT_ID, LOCAL_API_ID } from './event';
export { pathBelow, type Mount } from './mounts';
export { sendError, sendJson } from './reply';

export type InvokeHttpFunction = (
  functionId: HttpFunctionId,
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyResultV2>;

export interface HttpApiOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  readonly routes: readonly RouteDefinition[];
  readonly invoke: InvokeHttpFunction;
  readonly mounts?: readonly Mount[];
}

export interface HttpApi {
  /** e.g. `http://127.0.0.1:3000`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Splits the request target into the raw path and raw query string, both still percent-encoded. */
function splitTarget(target: string): { rawPath: string; rawQueryString: string } {
  let relative = target;
  if (!target.startsWith('/')) {
    // The absolute form (`http://host/path?q`) a proxy sends; anything else is treated as `/`.
    const url = URL.canParse(target) ? new URL(target) : undefined;
    relative = url ? `${url.pathname}${url.search}` : '/';
  }
  const q = relative.indexOf('?');
  return q < 0
    ? { rawPath: relative, rawQueryString: '' }
    : { rawPath: relative.slice(0, q), rawQueryString: relative.slice(q + 1) };
}

/** API Gateway request ids look like `JKJaXmPLvHcESHA=`; any unique string would do. */
function newRequestId(): string {
  return randomBytes(11).toString('base64');
}

function logError(req: IncomingMessage, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`[http-api] ${req.method} ${req.url}: ${detail}\n`);
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const host = options.host ?? '127.0.0.1';
  const routes = compileRoutes(options.routes);
  const mounts = options.mounts ?? [];
  let localPort = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = new Date();
    const requestId = newRequestId();
    const method = req.method ?? 'GET';
    const { rawPath, rawQueryString } = splitTarget(req.url ?? '/');
    const read = await readBody(req);
    if (read.tooLarge) {
      return sendError(res, 413, `request body is larger than ${MAX_PAYLOAD_BYTES} bytes`, {
        connection: 'close',
        'apigw-requestid': requestId,
      });
    }
    const mount = findMount(mounts, rawPath);
    if (mount) return mount.handle(req, res, read.body);

    res.setHeader('apigw-requestid', requestId);
    const match = matchRoute(routes, method, rawPath);
    switch (match.kind) {
      case 'not-found':
        return sendError(res, 404, `no route for ${method} ${rawPath}`);
      case 'method-not-allowed':
        return sendError(res, 405, `${method} is not allowed on ${rawPath}; allowed: ${match.allow.join(', ')}`, {
          allow: match.allow.join(', '),
        });
      case 'bad-path':
        return sendError(res, 400, `malformed percent-encoding in ${rawPath}`);
      case 'route': {
        const event = buildEvent(
          {
            method,
            rawPath,
            rawQueryString,
            rawHeaders: req.rawHeaders,
            httpVersion: req.httpVersion,
            sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
            localPort,
            body: read.body,
            requestId,
            receivedAt,
          },
          match.route.routeKey,
          match.pathParameters,
        );
        const response = toHttpResponse(await options.invoke(match.route.definition.functionId, event));
        res.writeHead(response.statusCode, { ...response.headers, 'content-length': response.body.length });
        res.end(response.body);
        return;
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logError(req, error);
      if (!res.headersSent) sendError(res, 500, 'internal error');
      else res.destroy();
    });
  });
  // Longer than any client keeps an idle connection (fetch/undici: 4 s), so the server never closes a
  // connection a client is about to reuse: under load that race failed requests with 'other side closed'.
  server.keepAliveTimeout = 65_000;
  const listening = await listen(server, options.port, host);
  localPort = listening.port;
  return { ...listening, close: () => closeServer(server) };
}
