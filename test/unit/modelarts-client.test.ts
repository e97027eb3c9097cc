/**
 * The ModelArts client against a real HTTP server on 127.0.0.1 (no fetch mocks): what goes on the
 * wire, that its signature verifies, and how each kind of answer maps to a result or an error.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { endpointForRegion, MAX_LIST_PAGES, ModelArtsClient } from '../../lambdas/adapters/modelarts/client';
import { ModelArtsError, ModelArtsRetryableError } from '../../lambdas/adapters/modelarts/errors';
import { verifySignature, type SigningCredentials } from '../../lambdas/adapters/modelarts/signer';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface Reply {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** Send the headers but never finish the body. */
  readonly stallBody?: boolean;
}

/** `hang`: never answer at all. */
type Responder = (request: Received) => Reply | 'hang';

const PROJECT_ID = '0123456789abcdef0123456789abcdef';
const POOL = 'pool-7d3e1c2b-4f5a-4b6c-8d9e-0a1b2c3d4e5f';
const CREDENTIALS = { accessKey: 'AKCLIENTTEST', secretKey: 'client-test-secret' };
const NODE_POOL = {
  kind: 'NodePool',
  apiVersion: 'v2',
  metadata: { name: 'nodepool-1', annotations: { 'os.modelarts/billing.mode': '0' } },
  spec: { resources: { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1, labels: { team: 'ml' } } },
} as const;

let server: Server;
let endpoint: string;
let responder: Responder;
let received: Received[];

beforeAll(async () => {
  server = createServer((request, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      };
      received.push(entry);
      const reply = responder(entry);
      if (reply === 'hang') return;
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      if (reply.stallBody) response.write('{"items":');
      else response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

beforeEach(() => {
  received = [];
  responder = () => ({ status: 200, body: JSON.stringify(NODE_POOL) });
});

function client(
  options: {
    timeoutMs?: number;
    credentials?: () => Promise<SigningCredentials>;
    endpoint?: string;
    pageSize?: number;
  } = {},
): ModelArtsClient {
  return new ModelArtsClient({
    endpoint: options.endpoint ?? endpoint,
    credentials: options.credentials ?? (async () => CREDENTIALS),
    timeoutMs: options.timeoutMs ?? 2000,
    pageSize: options.pageSize,
  });
}

function verify(request: Received) {
  const queryAt = request.url.indexOf('?');
  return verifySignature(
    {
      method: request.method,
      path: queryAt === -1 ? request.url : request.url.slice(0, queryAt),
      query: queryAt === -1 ? '' : request.url.slice(queryAt),
      headers: request.headers,
      body: request.body,
    },
    (ak) => (ak === CREDENTIALS.accessKey ? CREDENTIALS.secretKey : undefined),
  );
}

async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('requests', () => {
  it('createNodePool POSTs the body serialised once, as JSON, signed', async () => {
    const created = await client().createNodePool(PROJECT_ID, POOL, NODE_POOL);

    expect(created).toEqual(NODE_POOL);
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools`);
    expect(request.headers['content-type']).toBe('application/json;charset=UTF-8');
    expect(request.body.toString('utf8')).toBe(JSON.stringify(NODE_POOL));
    expect(request.headers['x-project-id']).toBe(PROJECT_ID);
    expect(request.headers.authorization).toMatch(
      /^SDK-HMAC-SHA256 Access=AKCLIENTTEST, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=[0-9a-f]{64}$/,
    );
    expect(verify(request)).toEqual({ ok: true, accessKey: CREDENTIALS.accessKey });
  });

  it('showNodePool GETs the node pool without a body or content type, signed', async () => {
    const shown = await client().showNodePool(PROJECT_ID, POOL, 'nodepool-1');

    expect(shown).toEqual(NODE_POOL);
    const [request] = received;
    expect(request.method).toBe('GET');
    expect(request.url).toBe(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools/nodepool-1`);
    expect(request.headers['content-type']).toBeUndefined();
    expect(request.body).toHaveLength(0);
    expect(verify(request).ok).toBe(true);
  });

  it('showNodePool gives undefined for a 404', async () => {
    responder = () => ({
      status: 404,
      body: JSON.stringify({ error_code: 'ModelArts.50015002', error_msg: 'Node pool nodepool-1 not found.' }),
    });
    await expect(client().showNodePool(PROJECT_ID, POOL, 'nodepool-1')).resolves.toBeUndefined();
  });

  it('deleteNodePool DELETEs the node pool without a body, signed, and returns the NodePool ModelArts answers', async () => {
    const deleting = {
      ...NODE_POOL,
      metadata: { name: 'nodepool-1' },
      status: { resources: { deleting: { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1 } } },
    };
    responder = () => ({ status: 200, body: JSON.stringify(deleting) });
    await expect(client().deleteNodePool(PROJECT_ID, POOL, 'nodepool-1')).resolves.toEqual(deleting);
    const [request] = received;
    expect(request.method).toBe('DELETE');
    expect(request.url).toBe(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools/nodepool-1`);
    expect(request.headers['content-type']).toBeUndefined();
    expect(request.body).toHaveLength(0);
    expect(verify(request)).toEqual({ ok: true, accessKey: CREDENTIALS.accessKey });
  });

  it('deleteNodePool gives undefined for a 404 (gone already) and a ModelArtsError for a refusal', async () => {
    responder = () => ({ status: 404, body: JSON.stringify({ error_code: 'ModelArts.50015002', error_msg: 'x' }) });
    await expect(client().deleteNodePool(PROJECT_ID, POOL, 'nodepool-1')).resolves.toBeUndefined();
    responder = () => ({
      status: 400,
      body: JSON.stringify({ error_code: 'ModelArts.50004000', error_msg: 'Bad request. yearly/monthly' }),
    });
    const error = await failure(client().deleteNodePool(PROJECT_ID, POOL, 'nodepool-1'));
    expect(error).toBeInstanceOf(ModelArtsError);
    expect(error).not.toBeInstanceOf(ModelArtsRetryableError);
    expect(error.message).toContain('delete node pool');
  });

  it('patchNodePool PATCHes the merge patch as application/merge-patch+json, signed over the bytes sent, and returns the answer', async () => {
    const body = {
      metadata: { annotations: { 'os.modelarts/billing.mode': '0' } },
      spec: {
        resources: {
          flavor: 'modelarts.vm.2u4g.dcc',
          count: 6,
          maxCount: 6,
          labels: { team: null, 'poolgate/request-id': 'req-1' },
        },
      },
    };
    const answer = {
      metadata: { annotations: body.metadata.annotations },
      spec: { resources: NODE_POOL.spec.resources },
    };
    responder = () => ({ status: 200, body: JSON.stringify(answer) });
    await expect(client().patchNodePool(PROJECT_ID, POOL, 'nodepool-1', body)).resolves.toEqual(answer);
    const [request] = received;
    expect(request.method).toBe('PATCH');
    expect(request.url).toBe(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools/nodepool-1`);
    expect(request.headers['content-type']).toBe('application/merge-patch+json');
    // `null` (a removed label) goes on the wire as merge-patch means it.
    expect(JSON.parse(request.body.toString('utf8'))).toEqual(body);
    expect(verify(request)).toEqual({ ok: true, accessKey: CREDENTIALS.accessKey });
  });

  it('patchNodePool gives a ModelArtsError for a refusal (a 404 too: the node pool must exist) and a retryable one for a 5xx', async () => {
    responder = () => ({
      status: 400,
      body: JSON.stringify({ error_code: 'ModelArts.50004000', error_msg: 'Bad request. spec.resources.flavor' }),
    });
    const refused = await failure(client().patchNodePool(PROJECT_ID, POOL, 'nodepool-1', { spec: {} }));
    expect(refused).toBeInstanceOf(ModelArtsError);
    expect(refused).not.toBeInstanceOf(ModelArtsRetryableError);
    expect(refused.message).toContain('patch node pool');
    responder = () => ({ status: 404, body: JSON.stringify({ error_code: 'ModelArts.50015002', error_msg: 'x' }) });
    expect(await failure(client().patchNodePool(PROJECT_ID, POOL, 'nodepool-1', { spec: {} }))).not.toBeInstanceOf(
      ModelArtsRetryableError,
    );
    responder = () => ({ status: 503, body: '' });
    expect(await failure(client().patchNodePool(PROJECT_ID, POOL, 'nodepool-1', { spec: {} }))).toBeInstanceOf(
      ModelArtsRetryableError,
    );
  });

  it('listNodePools GETs the list and returns its items', async () => {
    responder = () => ({
      status: 200,
      body: JSON.stringify({
        apiVersion: 'v2',
        kind: 'NodePoolList',
        items: [NODE_POOL, { ...NODE_POOL, metadata: { name: 'nodepool-2' } }],
      }),
    });
    const items = await client().listNodePools(PROJECT_ID, POOL);

    expect(items.map((n) => n.metadata.name)).toEqual(['nodepool-1', 'nodepool-2']);
    // ListNodePools documents no paging: no query is sent.
    expect(received.map((r) => r.url)).toEqual([`/v2/${PROJECT_ID}/pools/${POOL}/nodepools`]);
    expect(verify(received[0]).ok).toBe(true);
  });

  it('listNodePools sends no limit even with a page size configured (that is for resource flavors)', async () => {
    responder = () => ({
      status: 200,
      body: JSON.stringify({ apiVersion: 'v2', kind: 'NodePoolList', items: [NODE_POOL] }),
    });
    await client({ pageSize: 7 }).listNodePools(PROJECT_ID, POOL);

    expect(received.map((r) => r.url)).toEqual([`/v2/${PROJECT_ID}/pools/${POOL}/nodepools`]);
  });

  it('listNodePools tolerates a metadata.continue it never asked for: followed, each call signed', async () => {
    const pages: Record<string, { names: string[]; next?: string }> = {
      '': { names: ['nodepool-1', 'nodepool-2'], next: 'token/1=' },
      'token/1=': { names: ['nodepool-3'], next: 'token-2' },
      'token-2': { names: ['nodepool-4'] },
    };
    responder = ({ url }) => {
      const page = pages[new URL(url, 'http://x').searchParams.get('continue') ?? ''];
      const items = page.names.map((name) => ({ ...NODE_POOL, metadata: { name } }));
      return {
        status: 200,
        body: JSON.stringify({ kind: 'NodePoolList', metadata: page.next ? { continue: page.next } : {}, items }),
      };
    };
    const items = await client().listNodePools(PROJECT_ID, POOL);

    expect(items.map((n) => n.metadata.name)).toEqual(['nodepool-1', 'nodepool-2', 'nodepool-3', 'nodepool-4']);
    const list = `/v2/${PROJECT_ID}/pools/${POOL}/nodepools`;
    expect(received.map((r) => r.url)).toEqual([list, `${list}?continue=token%2F1%3D`, `${list}?continue=token-2`]);
    for (const request of received) expect(verify(request).ok).toBe(true);
  });

  it(`stops after ${MAX_LIST_PAGES} pages with a ModelArtsError rather than answer a short list`, async () => {
    let page = 0;
    responder = () => ({
      status: 200,
      body: JSON.stringify({
        metadata: { continue: `page-${++page}` },
        items: [{ ...NODE_POOL, metadata: { name: `nodepool-${page}` } }],
      }),
    });
    const error = await failure(client({ pageSize: 1 }).listNodePools(PROJECT_ID, POOL));

    expect(error).toBeInstanceOf(ModelArtsError);
    expect(error).toMatchObject({
      operation: 'list node pools',
      errorMsg: `more than ${MAX_LIST_PAGES} pages; the list was not read to its end`,
    });
    expect(received).toHaveLength(MAX_LIST_PAGES);
    expect(received.at(-1)?.url).toBe(`/v2/${PROJECT_ID}/pools/${POOL}/nodepools?continue=page-${MAX_LIST_PAGES - 1}`);
  });

  it('listResourceFlavors pages the same way, on v1', async () => {
    responder = ({ url }) => {
      const next = new URL(url, 'http://x').searchParams.get('continue');
      const name = next ? 'modelarts.vm.gpu.t4u8' : 'modelarts.vm.2u4g.dcc';
      return {
        status: 200,
        body: JSON.stringify({
          kind: 'List',
          metadata: next ? {} : { continue: 'more' },
          items: [{ metadata: { name } }],
        }),
      };
    };
    const flavors = await client().listResourceFlavors(PROJECT_ID);

    expect(flavors.map((f) => f.metadata?.name)).toEqual(['modelarts.vm.2u4g.dcc', 'modelarts.vm.gpu.t4u8']);
    expect(received.map((r) => r.url)).toEqual([
      `/v1/${PROJECT_ID}/resourceflavors?limit=500`,
      `/v1/${PROJECT_ID}/resourceflavors?limit=500&continue=more`,
    ]);
  });

  it('encodes each path segment, and the signature still verifies', async () => {
    await client().showNodePool(PROJECT_ID, 'pool a/b', 'nodé');
    expect(received[0].url).toBe(`/v2/${PROJECT_ID}/pools/pool%20a%2Fb/nodepools/nod%C3%A9`);
    expect(verify(received[0]).ok).toBe(true);
  });

  it('keeps a base path of the endpoint', async () => {
    await client({ endpoint: `${endpoint}/modelarts/` }).showNodePool(PROJECT_ID, POOL, 'nodepool-1');
    expect(received[0].url).toBe(`/modelarts/v2/${PROJECT_ID}/pools/${POOL}/nodepools/nodepool-1`);
    expect(verify(received[0]).ok).toBe(true);
  });

  it('asks for credentials on every call and signs temporary ones with their security token', async () => {
    const given = [CREDENTIALS, { ...CREDENTIALS, securityToken: 'temporary-token' }];
    let calls = 0;
    const c = client({ credentials: async () => given[calls++] });
    await c.showNodePool(PROJECT_ID, POOL, 'nodepool-1');
    await c.showNodePool(PROJECT_ID, POOL, 'nodepool-1');

    expect(calls).toBe(2);
    expect(received[0].headers['x-security-token']).toBeUndefined();
    expect(received[1].headers['x-security-token']).toBe('temporary-token');
    expect(received[1].headers.authorization).toContain('SignedHeaders=host;x-project-id;x-sdk-date;x-security-token,');
    expect(verify(received[1]).ok).toBe(true);
  });
});

describe('errors', () => {
  const json = (status: number, error_code: string, error_msg: string): Reply => ({
    status,
    body: JSON.stringify({ error_code, error_msg }),
    headers: { 'x-request-id': `req-${status}` },
  });

  it.each([
    ['400 validation', 'ModelArtsError', json(400, 'ModelArts.50004000', 'Bad request. invalid nodepool name')],
    [
      '401 signature',
      'ModelArtsError',
      json(401, 'APIG.0301', 'Incorrect IAM authentication information: verify aksk signature fail'),
    ],
    ['403 permission', 'ModelArtsError', json(403, 'ModelArts.0108', 'not authorized')],
    ['404 pool not found', 'ModelArtsError', json(404, 'ModelArts.50015001', 'Pool x not found.')],
    [
      '429 throttling',
      'ModelArtsRetryableError',
      json(
        429,
        'APIG.0308',
        'The throttling threshold has been reached: policy user over ratelimit, limit:5, time:1 second',
      ),
    ],
    [
      'APIG.0308 under another status',
      'ModelArtsRetryableError',
      json(400, 'APIG.0308', 'The throttling threshold has been reached'),
    ],
    ['500 internal error', 'ModelArtsRetryableError', json(500, 'ModelArts.50005000', 'Internal error.')],
    ['504 backend timeout', 'ModelArtsRetryableError', json(504, 'APIG.0203', 'Backend timeout')],
  ])('%s -> %s', async (_what, name, reply) => {
    responder = () => reply;
    const error = await failure(client().createNodePool(PROJECT_ID, POOL, NODE_POOL));

    const { error_code, error_msg } = JSON.parse(reply.body ?? '{}') as { error_code: string; error_msg: string };
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(name === 'ModelArtsError' ? ModelArtsError : ModelArtsRetryableError);
    expect(error).toMatchObject({
      operation: 'create node pool',
      httpStatus: reply.status,
      errorCode: error_code,
      errorMsg: error_msg,
      requestId: `req-${reply.status}`,
    });
    expect(error.message).toBe(
      `ModelArts create node pool failed: HTTP ${reply.status}, ${error_code}, ${error_msg}, X-Request-Id req-${reply.status}`,
    );
  });

  it('does not follow a redirect: the endpoint is wrong, and retrying will not fix it', async () => {
    responder = (request) =>
      request.url.startsWith('/elsewhere')
        ? { status: 200, body: JSON.stringify(NODE_POOL) }
        : { status: 302, headers: { location: '/elsewhere' } };
    const error = await failure(client().showNodePool(PROJECT_ID, POOL, 'nodepool-1'));
    expect(error).toBeInstanceOf(ModelArtsError);
    expect(error).toMatchObject({ httpStatus: 302 });
    expect(received).toHaveLength(1);
  });

  it('keeps the start of a body that is not ModelArts JSON (a gateway page)', async () => {
    responder = () => ({ status: 502, body: `<html><body>Bad Gateway</body></html>${' '.repeat(500)}x` });
    const error = await failure(client().listNodePools(PROJECT_ID, POOL));
    expect(error).toBeInstanceOf(ModelArtsRetryableError);
    expect(error).toMatchObject({ httpStatus: 502, errorCode: undefined });
    expect((error as ModelArtsRetryableError).errorMsg).toMatch(/^<html><body>Bad Gateway<\/body><\/html>\s*$/);
  });

  it('treats a success that is not a node pool as retryable', async () => {
    responder = () => ({ status: 200, body: 'OK' });
    const notJson = await failure(client().createNodePool(PROJECT_ID, POOL, NODE_POOL));
    expect(notJson).toBeInstanceOf(ModelArtsRetryableError);
    expect(notJson).toMatchObject({ httpStatus: 200, errorMsg: 'unexpected response: the body is not JSON' });

    responder = () => ({ status: 200, body: '{"kind":"NodePoolList"}' });
    expect(await failure(client().listNodePools(PROJECT_ID, POOL))).toMatchObject({
      name: 'ModelArtsRetryableError',
      errorMsg: 'unexpected response: no items list',
    });
  });

  it('maps a refused connection to a retryable error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await failure(
      client({ endpoint: `http://127.0.0.1:${port}` }).showNodePool(PROJECT_ID, POOL, 'nodepool-1'),
    );
    expect(error).toBeInstanceOf(ModelArtsRetryableError);
    expect(error).toMatchObject({ httpStatus: undefined });
    expect(error.message).toMatch(/^ModelArts show node pool failed: network error: .*ECONNREFUSED/);
  });

  it('gives up after timeoutMs when no answer comes', async () => {
    responder = () => 'hang';
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 200 }).createNodePool(PROJECT_ID, POOL, NODE_POOL));

    expect(Date.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(ModelArtsRetryableError);
    expect(error.message).toBe('ModelArts create node pool failed: no response within 200 ms');
  });

  it('gives up after timeoutMs when the body stops halfway', async () => {
    responder = () => ({ status: 200, stallBody: true });
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 200 }).listNodePools(PROJECT_ID, POOL));

    expect(Date.now() - started).toBeLessThan(1500);
    expect(error).toMatchObject({ name: 'ModelArtsRetryableError', errorMsg: 'no response within 200 ms' });
  });
});

describe('endpointForRegion', () => {
  it('is modelarts.{region}.myhuaweicloud.com, except Hong Kong on .cn', () => {
    expect(endpointForRegion('cn-north-4')).toBe('https://modelarts.cn-north-4.myhuaweicloud.com');
    expect(endpointForRegion('ap-southeast-3')).toBe('https://modelarts.ap-southeast-3.myhuaweicloud.com');
    expect(endpointForRegion('ap-southeast-1')).toBe('https://modelarts.ap-southeast-1.myhuaweicloud.cn');
  });
});
