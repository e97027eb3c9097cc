/**
 * The local HTTP API: the routes of contracts/routes.ts, each request turned into an API Gateway
 * HTTP API payload v2.0 event and the handler's result mapped back as API Gateway does. Mounts
 * (the AWS stand-ins, the JWKS) are served before the routes.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpFunctionId } from '../contracts/functions';
import type { RouteDefinition } from '../contracts/routes';

/** API Gateway's own payload limit; the handlers enforce poolgate's smaller one. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|.*\+json)/i;

export interface Mount {
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>;
}

export interface HttpApiOptions {
  readonly host?: string;
  readonly port: number;
  readonly routes: readonly RouteDefinition[];
  readonly invoke: (functionId: HttpFunctionId, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;
  readonly mounts?: readonly Mount[];
}

export interface HttpApi {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface CompiledRoute extends RouteDefinition {
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

function compile(route: RouteDefinition): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param[1]);
      return '([^/]+)';
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}$`), params };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_PAYLOAD_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toEvent(req: IncomingMessage, route: CompiledRoute, match: RegExpExecArray, url: URL, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const pathParameters = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  const now = new Date();
  const routeKey = `${route.method} ${route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    ...(route.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string' || result === null || typeof result !== 'object' || !('statusCode' in result)) {
    sendJson(res, 200, result);
    return;
  }
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const routes = options.routes.map(compile);
  const mounts = options.mounts ?? [];
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = await readBody(req);
      if (body === undefined) return sendJson(res, 413, { error_code: 'PoolGate.0413', error_msg: 'request body too large' });
      const mount = mounts.find((m) => url.pathname.startsWith(m.prefix));
      if (mount) return await mount.handle(req, res, body);
      const matching = routes.flatMap((route) => {
        const match = route.pattern.exec(url.pathname);
        return match ? [{ route, match }] : [];
      });
      const hit = matching.find(({ route }) => route.method === req.method);
      if (!hit) {
        if (matching.length) {
          const allow = matching.map(({ route }) => route.method).join(', ');
          return sendJson(res, 405, { error_code: 'PoolGate.0405', error_msg: `${req.method} is not allowed on ${url.pathname}` }, { allow });
        }
        return sendJson(res, 404, { error_code: 'PoolGate.0404', error_msg: `no route for ${req.method} ${url.pathname}` });
      }
      writeResult(res, await options.invoke(hit.route.functionId, toEvent(req, hit.route, hit.match, url, body)));
    } catch (error) {
      // API Gateway answers 500 when the function itself crashes; the error stays in the logs.
      process.stderr.write(`handler error: ${(error as Error).stack ?? String(error)}\n`);
      if (!res.headersSent) sendJson(res, 500, { error_code: 'PoolGate.0500', error_msg: 'internal error' });
      else res.end();
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
