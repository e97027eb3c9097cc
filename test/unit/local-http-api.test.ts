/**
 * The local HTTP API against a real server on 127.0.0.1 (port 0): the API Gateway payload 2.0 event
 * it builds, the way it maps results back, and its own 404/405/413/500 answers.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { request as httpRequest } from 'node:http';
import type { HttpFunctionId } from '../../contracts/functions';
import { ROUTES, type RouteDefinition } from '../../contracts/routes';
import { MAX_PAYLOAD_BYTES, startHttpApi, type Mount } from '../../local/http-api';

interface Invocation {
  readonly functionId: HttpFunctionId;
  readonly event: APIGatewayProxyEventV2;
}

/** A server whose handler each test sets; every invocation is recorded. */
async function startRecordingApi(routes: readonly RouteDefinition[] = ROUTES, mounts: Mount[] = []) {
  const invocations: Invocation[] = [];
  let handler = async (_event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => ({
    statusCode: 200,
    body: '{}',
  });
  const api = await startHttpApi({
    port: 0,
    routes,
    mounts,
    invoke: async (functionId, event) => {
      invocations.push({ functionId, event });
      return handler(event);
    },
  });
  return {
    api,
    invocations,
    setHandler: (next: typeof handler) => {
      handler = next;
    },
  };
}

/**
 * node:http, for what fetch cannot send: repeated headers, two Cookie headers. Given headers as a
 * list, node adds neither Host nor Content-Length, so this does.
 */
function rawRequest(
  url: string,
  method: string,
  rawHeaders: string[],
  body = Buffer.alloc(0),
): Promise<{ status: number; body: string }> {
  const headers = ['Host', new URL(url).host, 'Content-Length', String(body.length), ...rawHeaders];
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local HTTP API: the API Gateway v2 event', () => {
  let server: Awaited<ReturnType<typeof startRecordingApi>>;
  beforeAll(async () => {
    server = await startRecordingApi();
  });
  afterAll(() => server.api.close());
  beforeEach(() => server.invocations.splice(0));

  it('builds the payload 2.0 event of a route with path parameters and a query string', async () => {
    const before = Date.now();
    const body = JSON.stringify({ kind: 'NodePool', note: 'zoë' });
    const response = await rawRequest(
      `${server.api.url}/v2/0123abcd/pools/my%20pool/nodepools?a=1&a=2&b=x+y%26z&flag`,
      'POST',
      [
        'Content-Type',
        'application/json',
        'X-Custom',
        'one',
        'x-custom',
        'two',
        'Cookie',
        'session=abc; theme=dark',
        'Cookie',
        'lang=en',
        'User-Agent',
        'poolgate-test/1.0',
        'Authorization',
        'Bearer t0ken',
      ],
      Buffer.from(body),
    );
    expect(response.status).toBe(200);
    expect(server.invocations).toHaveLength(1);
    const { functionId, event } = server.invocations[0];
    expect(functionId).toBe('submit');
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /v2/{project_id}/pools/{pool_name}/nodepools',
      rawPath: '/v2/0123abcd/pools/my%20pool/nodepools',
      rawQueryString: 'a=1&a=2&b=x+y%26z&flag',
      cookies: ['session=abc', 'theme=dark', 'lang=en'],
      queryStringParameters: { a: '1,2', b: 'x y&z', flag: '' },
      pathParameters: { project_id: '0123abcd', pool_name: 'my pool' },
      body,
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      'x-custom': 'one,two',
      'user-agent': 'poolgate-test/1.0',
      authorization: 'Bearer t0ken',
      'content-length': String(Buffer.byteLength(body)),
      host: `127.0.0.1:${server.api.port}`,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-port': String(server.api.port),
      'x-forwarded-proto': 'http',
    });
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    // Format 2.0 moves cookies out of the headers; header names are all lower case.
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);

    const context = event.requestContext;
    expect(context).toMatchObject({
      accountId: '000000000000',
      apiId: 'local',
      domainName: `127.0.0.1:${server.api.port}`,
      http: {
        method: 'POST',
        path: '/v2/0123abcd/pools/my%20pool/nodepools',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'poolgate-test/1.0',
      },
      routeKey: 'POST /v2/{project_id}/pools/{pool_name}/nodepools',
      stage: '$default',
    });
    expect(context.requestId).toEqual(expect.any(String));
    expect(context.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(context.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(context.timeEpoch).toBeLessThanOrEqual(Date.now());
  });

  it('leaves out body, query, cookies and path parameters a request does not have', async () => {
    await fetch(`${server.api.url}/health`);
    const { event } = server.invocations[0];
    expect(event.routeKey).toBe('GET /health');
    expect(event.rawQueryString).toBe('');
    expect(event.isBase64Encoded).toBe(false);
    for (const field of ['body', 'queryStringParameters', 'cookies', 'pathParameters'] as const)
      expect(event[field]).toBeUndefined();
  });

  it('gives each request its own id, also in the apigw-requestid response header', async () => {
    const first = await fetch(`${server.api.url}/requests/r-1`);
    const second = await fetch(`${server.api.url}/requests/r-2`);
    const ids = server.invocations.map((i) => i.event.requestContext.requestId);
    expect(new Set(ids).size).toBe(2);
    expect([first.headers.get('apigw-requestid'), second.headers.get('apigw-requestid')]).toEqual(ids);
    expect(server.invocations.map((i) => i.event.pathParameters)).toEqual([
      { request_id: 'r-1' },
      { request_id: 'r-2' },
    ]);
  });

  it.each([
    ['application/octet-stream', Buffer.from([0, 1, 2, 0xff, 0xfe])],
    ['application/x-www-form-urlencoded', Buffer.from('payload=%7B%22a%22%3A1%7D&x=y')],
  ])('passes a %s body base64-encoded, as HTTP APIs do', async (contentType, bytes) => {
    await fetch(`${server.api.url}/approvals/a-1`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: bytes,
    });
    const { event } = server.invocations[0];
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
  });

  it('passes text/* bodies as text', async () => {
    await fetch(`${server.api.url}/approvals/a-1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'décision',
    });
    expect(server.invocations[0].event).toMatchObject({ body: 'décision', isBase64Encoded: false });
  });
});

describe('local HTTP API: results mapped back like API Gateway', () => {
  let server: Awaited<ReturnType<typeof startRecordingApi>>;
  beforeAll(async () => {
    server = await startRecordingApi();
  });
  afterAll(() => server.api.close());

  it('answers a structured result with its status, headers, cookies and body', async () => {
    server.setHandler(async () => ({
      statusCode: 202,
      headers: { 'Content-Type': 'application/json', Location: '/requests/r-9', 'x-count': 3 },
      cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
      body: JSON.stringify({ requestId: 'r-9' }),
    }));
    const response = await fetch(`${server.api.url}/health`);
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/requests/r-9');
    expect(response.headers.get('x-count')).toBe('3');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(await response.json()).toEqual({ requestId: 'r-9' });
  });

  it('decodes a base64-encoded result body', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff]);
    server.setHandler(async () => ({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    }));
    const response = await fetch(`${server.api.url}/health`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
  });

  it('answers a result without statusCode as a 200 JSON body', async () => {
    server.setHandler(
      async () => ({ status: 'ok', body: 'not a structured result without statusCode' }) as APIGatewayProxyResultV2,
    );
    const response = await fetch(`${server.api.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ status: 'ok', body: 'not a structured result without statusCode' });

    server.setHandler(async () => 'hello');
    const text = await fetch(`${server.api.url}/health`);
    expect(await text.json()).toBe('hello');
  });
});

describe('local HTTP API: its own answers', () => {
  let server: Awaited<ReturnType<typeof startRecordingApi>>;
  let stderr: jest.SpiedFunction<typeof process.stderr.write>;
  beforeAll(async () => {
    server = await startRecordingApi();
  });
  afterAll(() => server.api.close());
  beforeEach(() => {
    server.invocations.splice(0);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  it('answers 404 in poolgate error shape for an unknown route', async () => {
    const response = await fetch(`${server.api.url}/x`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error_code: 'PoolGate.0404', error_msg: 'no route for GET /x' });
    const nested = await fetch(`${server.api.url}/requests/a/b`);
    expect(nested.status).toBe(404);
    // A parameter matches one non-empty segment only.
    expect((await fetch(`${server.api.url}/requests/`)).status).toBe(404);
    expect(server.invocations).toHaveLength(0);
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const response = await fetch(`${server.api.url}/health`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(await response.json()).toEqual({
      error_code: 'PoolGate.0405',
      error_msg: expect.stringContaining('DELETE'),
    });

    const approvals = await fetch(`${server.api.url}/approvals/a-1`, { method: 'PUT', body: '{}' });
    expect(approvals.status).toBe(405);
    expect(approvals.headers.get('allow')).toBe('GET, POST');
  });

  it('answers 413 for a body over API Gateway 10 MiB limit, without invoking the handler', async () => {
    const response = await fetch(`${server.api.url}/v2/p/pools/q/nodepools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error_code: 'PoolGate.0413', error_msg: expect.any(String) });
    expect(server.invocations).toHaveLength(0);
  });

  it('answers 500 in poolgate error shape when the handler throws, and logs the error', async () => {
    server.setHandler(async () => {
      throw new Error('handler exploded');
    });
    const response = await fetch(`${server.api.url}/health`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error_code: 'PoolGate.0500', error_msg: 'internal error' });
    const logged = stderr.mock.calls.map((call) => String(call[0])).join('');
    expect(logged).toContain('handler exploded');
  });

  it('answers 500 for a structured result API Gateway could not use', async () => {
    server.setHandler(async () => ({ statusCode: 99, body: 'x' }));
    const response = await fetch(`${server.api.url}/health`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error_code: 'PoolGate.0500', error_msg: 'internal error' });
    expect(stderr.mock.calls.map((call) => String(call[0])).join('')).toContain('statusCode');
  });
});

describe('local HTTP API: routing and mounts', () => {
  it('prefers the more specific route, as API Gateway does', async () => {
    const routes: RouteDefinition[] = [
      { method: 'GET', path: '/things/{id}', functionId: 'getRequest' },
      { method: 'GET', path: '/things/health', functionId: 'health' },
    ];
    const server = await startRecordingApi(routes);
    try {
      await fetch(`${server.api.url}/things/health`);
      await fetch(`${server.api.url}/things/other`);
      expect(server.invocations.map((i) => [i.functionId, i.event.routeKey])).toEqual([
        ['health', 'GET /things/health'],
        ['getRequest', 'GET /things/{id}'],
      ]);
    } finally {
      await server.api.close();
    }
  });

  it('serves mounts before routes, by path prefix, with the raw body', async () => {
    const seen: Array<{ url: string | undefined; body: Buffer }> = [];
    const mount: Mount = {
      prefix: '/requests/mounted',
      handle: async (req, res, body) => {
        seen.push({ url: req.url, body });
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end('from the mount');
      },
    };
    const server = await startRecordingApi(ROUTES, [mount]);
    try {
      const bytes = Buffer.from([1, 2, 3, 0xff]);
      const response = await fetch(`${server.api.url}/requests/mounted/deeper?x=1`, { method: 'PUT', body: bytes });
      expect(response.status).toBe(201);
      expect(await response.text()).toBe('from the mount');
      expect(seen).toEqual([{ url: '/requests/mounted/deeper?x=1', body: bytes }]);
      // `/requests/mounted` would match the route's `{request_id}`, but the mount comes first;
      // `/requests/mountedX` is not below the prefix.
      expect((await fetch(`${server.api.url}/requests/mounted`)).status).toBe(201);
      expect((await fetch(`${server.api.url}/requests/mountedX`)).status).toBe(200);
      expect(server.invocations.map((i) => i.event.pathParameters)).toEqual([{ request_id: 'mountedX' }]);
    } finally {
      await server.api.close();
    }
  });

  it('picks a free port for port 0 and stops on close()', async () => {
    const one = await startRecordingApi();
    const two = await startRecordingApi();
    expect(one.api.port).not.toBe(two.api.port);
    expect(one.api.url).toBe(`http://127.0.0.1:${one.api.port}`);
    await one.api.close();
    await two.api.close();
    await expect(fetch(`${one.api.url}/health`)).rejects.toThrow();
  });
});
