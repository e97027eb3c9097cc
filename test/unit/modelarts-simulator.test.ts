/**
 * The local ModelArts simulator, driven by poolgate's own client (and by hand-signed requests where
 * the client cannot go): signed requests only, the node-pool lifecycle, state across a restart.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelArtsClient } from '../../lambdas/adapters/modelarts/client';
import { ModelArtsError, ModelArtsRetryableError } from '../../lambdas/adapters/modelarts/errors';
import { signRequest } from '../../lambdas/adapters/modelarts/signer';
import { countOf } from '../../lambdas/domain/modelarts';
import type { ModelArtsNodePool } from '../../lambdas/domain/nodepool-request';
import {
  startModelArtsSimulator,
  type ModelArtsSimulator,
  type SimulatorCatalog,
} from '../../local/modelarts-simulator';
import { ACCEPTED_FORMS, SDK_REQUIRED_FIELDS, sdkFullBody, without } from '../support/sdk-bodies';
import { eventually } from '../../local/harness/poll';

const CREDENTIALS = { accessKey: 'AKSIMULATORTEST', secretKey: 'simulator-test-secret' };
const PROJECT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const POOL = 'pool-sim-test';
const NODE_READY_DELAY_MS = 1000;

function nodePool(
  name: string,
  resources: Partial<NonNullable<ModelArtsNodePool['spec']>['resources']> = {},
): ModelArtsNodePool {
  return {
    kind: 'NodePool',
    apiVersion: 'v2',
    metadata: { name, annotations: {} },
    spec: {
      resources: {
        nodePool: name,
        flavor: 'modelarts.vm.2u4g.dcc',
        count: 1,
        maxCount: 1,
        network: {
          vpc: '277e9abc-0e6b-431a-9232-cfd25d5fc566',
          subnet: '03796378-c356-4c14-826b-e4913aa9c8b9',
          securityGroups: ['0a15b48d-06f1-41e4-b782-ade90087bf59'],
        },
        ...resources,
      },
    },
  };
}

let dataDir: string;
let simulator: ModelArtsSimulator;

const start = () =>
  startModelArtsSimulator({ port: 0, dataDir, credentials: CREDENTIALS, nodeReadyDelayMs: NODE_READY_DELAY_MS });

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'poolgate-modelarts-sim-'));
  simulator = await start();
});

afterEach(async () => {
  await simulator.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function client(secretKey = CREDENTIALS.secretKey, pageSize?: number): ModelArtsClient {
  return new ModelArtsClient({
    endpoint: simulator.url,
    credentials: async () => ({ ...CREDENTIALS, secretKey }),
    timeoutMs: 2000,
    pageSize,
  });
}

/** A request signed by hand, for what the client does not call or cannot get wrong. */
async function signedFetch(
  method: string,
  path: string,
  options: { date?: Date; body?: string; contentType?: string } = {},
) {
  const url = `${simulator.url}${path}`;
  const { host: _host, ...headers } = signRequest({
    ...CREDENTIALS,
    method,
    url,
    body: options.body,
    date: options.date,
    headers: options.body ? { 'content-type': options.contentType ?? 'application/json' } : {},
  });
  const response = await fetch(url, { method, headers, body: options.body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('node pools', () => {
  it('creates, shows (creating, then available) and lists a node pool', async () => {
    const body = nodePool('nodepool-1');
    await expect(client().createNodePool(PROJECT_ID, POOL, body)).resolves.toEqual(body);

    // The SDK models' NodePool: metadata with the name only, one object per status bucket.
    const bucket = { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1, azs: [], nodePool: 'nodepool-1' };
    const creating = await client().showNodePool(PROJECT_ID, POOL, 'nodepool-1');
    expect(creating).toEqual({
      apiVersion: 'v2',
      kind: 'NodePool',
      metadata: { name: 'nodepool-1' },
      spec: body.spec,
      status: { resources: { creating: bucket } },
    });

    const available = await eventually(
      async () => {
        const shown = await client().showNodePool(PROJECT_ID, POOL, 'nodepool-1');
        return shown?.status?.resources?.available ? shown : undefined;
      },
      'the nodes to be available',
      5000,
    );
    expect(available.status).toEqual({ resources: { available: bucket } });

    await client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-2'));
    const listed = await client().listNodePools(PROJECT_ID, POOL);
    expect(listed.map((n) => [n.metadata.name, Object.keys(n.status?.resources ?? {})])).toEqual([
      ['nodepool-1', ['available']],
      ['nodepool-2', ['creating']],
    ]);
    expect(await client().listNodePools(PROJECT_ID, 'another-pool')).toEqual([]);
  });

  it('answers 404 ModelArts.50015002 for a node pool that does not exist', async () => {
    await expect(client().showNodePool(PROJECT_ID, POOL, 'nodepool-missing')).resolves.toBeUndefined();
    expect(await signedFetch('GET', `/v2/${PROJECT_ID}/pools/${POOL}/nodepools/nodepool-missing`)).toEqual({
      status: 404,
      json: { error_code: 'ModelArts.50015002', error_msg: 'Node pool nodepool-missing not found.' },
    });
  });

  it('refuses a second node pool of the same name in the same pool', async () => {
    await client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1'));
    const error = await failure(
      client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1', { count: 2, maxCount: 2 })),
    );
    expect(error).toBeInstanceOf(ModelArtsError);
    expect(error).toMatchObject({
      httpStatus: 400,
      errorCode: 'ModelArts.50004000',
      errorMsg: 'Bad request. node pool nodepool-1 already exists',
    });
    // The same name in another pool is another node pool.
    await expect(client().createNodePool(PROJECT_ID, 'another-pool', nodePool('nodepool-1'))).resolves.toBeDefined();
  });

  it.each([
    ['not JSON', '{"kind":', 'Bad request. request body is not valid JSON'],
    ['an unknown field', JSON.stringify({ ...nodePool('nodepool-1'), extra: 1 }), 'Bad request. extra: unknown field'],
    [
      'an invalid node pool name',
      JSON.stringify(nodePool('NodePool_1')),
      'Bad request. metadata.name: must be 2-50 lowercase letters',
    ],
    [
      'maxCount above count in a physical pool',
      JSON.stringify(nodePool('nodepool-1', { count: 1, maxCount: 2 })),
      'Bad request. pool does not support maxCount more than count now',
    ],
  ])('answers 400 ModelArts.50004000 for %s', async (_what, body, message) => {
    const { status, json } = await signedFetch('POST', `/v2/${PROJECT_ID}/pools/${POOL}/nodepools`, { body });
    expect(status).toBe(400);
    expect(json.error_code).toBe('ModelArts.50004000');
    expect(json.error_msg).toContain(message);
    expect(simulator.nodePools()).toEqual([]);
  });

  it('accepts any 32-hex project id and refuses anything else', async () => {
    await expect(
      client().createNodePool('F'.repeat(32), 'any-pool-name', nodePool('nodepool-1')),
    ).resolves.toBeDefined();
    expect(await signedFetch('GET', `/v2/not-a-project/pools/${POOL}/nodepools`)).toMatchObject({
      status: 400,
      json: { error_code: 'ModelArts.50004000' },
    });
  });

  it('deletes a node pool as the console does: gone at once, 404 the second time', async () => {
    await client().createNodePool(PROJECT_ID, POOL, nodePool('np-to-delete'));
    expect(await signedFetch('DELETE', `/v2/${PROJECT_ID}/pools/${POOL}/nodepools/np-to-delete`)).toEqual({
      status: 200,
      json: {
        apiVersion: 'v2',
        kind: 'NodePool',
        metadata: { name: 'np-to-delete' },
        spec: nodePool('np-to-delete').spec,
        status: {
          resources: {
            deleting: { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1, azs: [], nodePool: 'np-to-delete' },
          },
        },
      },
    });
    expect(await client().showNodePool(PROJECT_ID, POOL, 'np-to-delete')).toBeUndefined();
    expect(await signedFetch('DELETE', `/v2/${PROJECT_ID}/pools/${POOL}/nodepools/np-to-delete`)).toMatchObject({
      status: 404,
      json: { error_code: 'ModelArts.50015002' },
    });
  });

  it('lists every node pool in one answer, {apiVersion, kind, items}, with no paging, ignoring a query', async () => {
    const names = ['np-a', 'np-b', 'np-c'];
    for (const name of names) await client().createNodePool(PROJECT_ID, POOL, nodePool(name));
    const list = `/v2/${PROJECT_ID}/pools/${POOL}/nodepools`;
    for (const query of ['', '?limit=1', '?continue=anything']) {
      const { status, json } = await signedFetch('GET', `${list}${query}`);
      expect(status).toBe(200);
      expect(Object.keys(json).sort()).toEqual(['apiVersion', 'items', 'kind']);
      expect(json).toMatchObject({ apiVersion: 'v2', kind: 'NodePoolList' });
      expect((json.items as { metadata: unknown }[]).map((n) => n.metadata)).toEqual(names.map((name) => ({ name })));
    }
  });

  it("is read by the client's listNodePools in one signed call", async () => {
    const names = ['np-a', 'np-b', 'np-c', 'np-d', 'np-e'];
    for (const name of names) await client().createNodePool(PROJECT_ID, POOL, nodePool(name));
    // A rule that injects nothing and only counts the list calls.
    simulator.faults.setPlan({ rules: [{ rate: 1, operations: ['list'] }] });

    expect((await client(undefined, 2).listNodePools(PROJECT_ID, POOL)).map((n) => n.metadata.name)).toEqual(names);
    expect(simulator.faults.counts()).toEqual({ calls: 1, injected: [1] });
  });

  it.each(SDK_REQUIRED_FIELDS.map(({ path, named }) => [named, path] as const))(
    'answers 400 ModelArts.50004000 naming %s when a create leaves it out',
    async (named, path) => {
      const body = JSON.stringify(without(sdkFullBody('np-sdk'), path));
      const { status, json } = await signedFetch('POST', `/v2/${PROJECT_ID}/pools/${POOL}/nodepools`, { body });
      expect(status).toBe(400);
      expect(json.error_code).toBe('ModelArts.50004000');
      expect(json.error_msg).toMatch(
        new RegExp(`^Bad request\\. (.*; )?${named.replace(/[.[\]]/g, '\\$&')}: is required`),
      );
      expect(simulator.nodePools()).toEqual([]);
    },
  );

  it.each(ACCEPTED_FORMS)('creates a node pool from the SDK body with %s', async (_form, edit) => {
    const body = sdkFullBody('np-sdk');
    edit(body);
    await expect(client().createNodePool(PROJECT_ID, POOL, body)).resolves.toEqual(body);
  });

  it('answers 404 APIG.0101 for an API it does not serve', async () => {
    expect(await signedFetch('PUT', `/v2/${PROJECT_ID}/pools/${POOL}/nodepools/nodepool-1`)).toMatchObject({
      status: 404,
      json: { error_code: 'APIG.0101' },
    });
    expect(await signedFetch('GET', `/v3/${PROJECT_ID}/things`)).toMatchObject({
      status: 404,
      json: { error_code: 'APIG.0101' },
    });
  });
});

describe('pools in a catalog', () => {
  const restartWith = async (catalog: SimulatorCatalog) => {
    await simulator.close();
    simulator = await startModelArtsSimulator({
      port: 0,
      dataDir,
      credentials: CREDENTIALS,
      nodeReadyDelayMs: NODE_READY_DELAY_MS,
      catalog,
    });
  };

  it.each([
    ['taints', { taints: [{ key: 'dedicated', effect: 'NoSchedule' as const }] }, 'taints, network'],
    ['tags', { tags: [{ key: 'team', value: 'ml' }] }, 'tags, network'],
    ['network', {}, 'network'],
  ])('refuses %s in a pool that is not privileged, as ModelArts does', async (_field, resources, named) => {
    await restartWith({ pools: { [POOL]: { privileged: false } } });
    const error = await failure(client().createNodePool(PROJECT_ID, POOL, nodePool('np-plain', resources)));
    expect(error).toMatchObject({
      httpStatus: 400,
      errorCode: 'ModelArts.50004000',
      errorMsg: `Bad request. ${named} cannot be specified for a non-privileged pool`,
    });
    const { network: _network, ...plain } = nodePool('np-plain').spec!.resources;
    await expect(
      client().createNodePool(PROJECT_ID, POOL, { ...nodePool('np-plain'), spec: { resources: plain } }),
    ).resolves.toBeDefined();
  });

  it('fills in the zone of a create that names none, when the pool is set to, and shows it so', async () => {
    await restartWith({ pools: { [POOL]: { fillsZones: true } } });
    await client().createNodePool(PROJECT_ID, POOL, nodePool('np-zoneless', { count: 2, maxCount: 2, azs: [] }));
    await client().createNodePool(PROJECT_ID, POOL, nodePool('np-chosen', { azs: [{ az: 'cn-north-4b', count: 1 }] }));

    const zoneless = await client().showNodePool(PROJECT_ID, POOL, 'np-zoneless');
    expect(zoneless?.spec.resources.azs).toEqual([{ az: 'cn-north-4a', count: 2 }]);
    expect(zoneless?.status?.resources?.creating).toMatchObject({ azs: [{ az: 'cn-north-4a', count: 2 }] });
    const chosen = await client().showNodePool(PROJECT_ID, POOL, 'np-chosen');
    expect(chosen?.spec.resources.azs).toEqual([{ az: 'cn-north-4b', count: 1 }]);
  });

  it("shows a pool's billing mode in its annotations: pay-per-use by default, yearly/monthly when set", async () => {
    await restartWith({ pools: { 'pool-yearly': { billingMode: '1' } } });
    expect(await client().showPool(PROJECT_ID, POOL)).toMatchObject({
      metadata: { annotations: { 'os.modelarts/billing.mode': '0' } },
    });
    expect(await client().showPool(PROJECT_ID, 'pool-yearly')).toMatchObject({
      metadata: { annotations: { 'os.modelarts/billing.mode': '1' } },
    });
  });
});

describe('pools and flavors', () => {
  it('shows any pool as a running physical, privileged pool', async () => {
    const { status, json } = await signedFetch('GET', `/v2/${PROJECT_ID}/pools/${POOL}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      kind: 'Pool',
      metadata: { name: POOL },
      spec: { type: 'Dedicate' },
      status: { phase: 'Running' },
    });
    expect((json.status as { clusters: unknown[] }).clusters).toHaveLength(1);
  });

  it('lists the flavors for sale, both billing modes, normal in every AZ', async () => {
    const { status, json } = await signedFetch('GET', `/v1/${PROJECT_ID}/resourceflavors`);
    expect(status).toBe(200);
    const items = json.items as {
      metadata: { name: string };
      spec: { billingModes: number[] };
      status: { phase: Record<string, string> };
    }[];
    expect(items.map((f) => f.metadata.name)).toEqual(['modelarts.vm.2u4g.dcc', 'modelarts.vm.gpu.t4u8']);
    for (const flavor of items) {
      expect(flavor.spec.billingModes).toEqual([0, 1]);
      expect(Object.values(flavor.status.phase)).toEqual(['normal', 'normal']);
    }
  });
});

describe('signatures', () => {
  const AUTH_FAILURE = {
    error_code: 'APIG.0301',
    error_msg: 'Incorrect IAM authentication information: verify aksk signature fail',
  };

  it('answers 401 APIG.0301 to a wrong signature, and creates nothing', async () => {
    const error = await failure(client('not-the-secret').createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1')));
    expect(error).toBeInstanceOf(ModelArtsError);
    expect(error).toMatchObject({
      httpStatus: 401,
      errorCode: AUTH_FAILURE.error_code,
      errorMsg: AUTH_FAILURE.error_msg,
    });
    expect(simulator.nodePools()).toEqual([]);
    expect(simulator.calls().map((c) => c.status)).toEqual([401]);
  });

  it('answers 401 to an unsigned request', async () => {
    const response = await fetch(`${simulator.url}/v2/${PROJECT_ID}/pools/${POOL}/nodepools`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(AUTH_FAILURE);
    expect(response.headers.get('x-simulator-reason')).toBe('missing or malformed Authorization header');
  });

  it('answers 401 to a date more than 15 minutes off, and accepts one within', async () => {
    const path = `/v2/${PROJECT_ID}/pools/${POOL}/nodepools`;
    expect(await signedFetch('GET', path, { date: new Date(Date.now() - 16 * 60_000) })).toEqual({
      status: 401,
      json: AUTH_FAILURE,
    });
    expect(await signedFetch('GET', path, { date: new Date(Date.now() + 16 * 60_000) })).toEqual({
      status: 401,
      json: AUTH_FAILURE,
    });
    expect((await signedFetch('GET', path, { date: new Date(Date.now() - 14 * 60_000) })).status).toBe(200);
  });
});

describe('test view', () => {
  it('records every create call, readable through calls() and GET /_sim/calls (unsigned)', async () => {
    const body = nodePool('nodepool-1');
    await client().createNodePool(PROJECT_ID, POOL, body);
    await client().showNodePool(PROJECT_ID, POOL, 'nodepool-1');

    expect(simulator.calls()).toEqual([
      {
        method: 'POST',
        path: `/v2/${PROJECT_ID}/pools/${POOL}/nodepools`,
        headers: expect.objectContaining({
          'content-type': 'application/json;charset=UTF-8',
          'x-project-id': PROJECT_ID,
          authorization: expect.stringMatching(/^SDK-HMAC-SHA256 Access=AKSIMULATORTEST, /),
        }),
        body: JSON.stringify(body),
        receivedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        status: 200,
      },
    ]);
    const response = await fetch(`${simulator.url}/_sim/calls`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ calls: simulator.calls() });
  });

  it('answers with an injected failure first, then serves again', async () => {
    simulator.faults.failNext(
      { status: 429, errorCode: 'APIG.0308', errorMsg: 'The throttling threshold has been reached' },
      2,
    );
    for (let i = 0; i < 2; i++) {
      const error = await failure(client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1')));
      expect(error).toBeInstanceOf(ModelArtsRetryableError);
      expect(error).toMatchObject({ httpStatus: 429, errorCode: 'APIG.0308' });
    }
    await expect(client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1'))).resolves.toBeDefined();
    expect(simulator.calls().map((c) => c.status)).toEqual([429, 429, 200]);
  });
});

describe('DeleteNodePool', () => {
  const DELETE_DELAY_MS = 600;
  const startDeleting = () =>
    startModelArtsSimulator({
      port: 0,
      dataDir,
      credentials: CREDENTIALS,
      nodeReadyDelayMs: 0,
      nodeDeleteDelayMs: DELETE_DELAY_MS,
    });

  it('answers the NodePool in the SDK shape, its nodes deleting, then gone after the delay; counts every call', async () => {
    await simulator.close();
    simulator = await startDeleting();
    await client().createNodePool(PROJECT_ID, POOL, nodePool('np-del', { count: 2, maxCount: 2 }));
    const accepted = Date.now();
    const answer = await client().deleteNodePool(PROJECT_ID, POOL, 'np-del');
    expect(answer).toEqual({
      apiVersion: 'v2',
      kind: 'NodePool',
      metadata: { name: 'np-del' },
      spec: expect.objectContaining({ resources: expect.objectContaining({ flavor: 'modelarts.vm.2u4g.dcc' }) }),
      // One PoolResourceFlavorCount per bucket, as the SDK models give it.
      status: {
        resources: {
          deleting: { flavor: 'modelarts.vm.2u4g.dcc', count: 2, maxCount: 2, azs: [], nodePool: 'np-del' },
        },
      },
    });
    const shown = await client().showNodePool(PROJECT_ID, POOL, 'np-del');
    if (Date.now() - accepted < DELETE_DELAY_MS) expect(shown?.status?.resources).toHaveProperty('deleting');
    await eventually(
      async () => ((await client().showNodePool(PROJECT_ID, POOL, 'np-del')) ? undefined : true),
      'the node pool to be gone',
      5000,
    );
    expect(Date.now() - accepted).toBeGreaterThanOrEqual(DELETE_DELAY_MS);
    await expect(client().deleteNodePool(PROJECT_ID, POOL, 'np-del')).resolves.toBeUndefined();
    expect(simulator.deleteCalls()).toEqual({ [`${PROJECT_ID}/${POOL}/np-del`]: 2 });
  });

  it('resumes a deletion across a restart from the stored time, and keeps the call count', async () => {
    await simulator.close();
    simulator = await startDeleting();
    await client().createNodePool(PROJECT_ID, POOL, nodePool('np-restart'));
    await client().deleteNodePool(PROJECT_ID, POOL, 'np-restart');
    await simulator.close();
    simulator = await startDeleting();
    expect(simulator.deleteCalls()).toEqual({ [`${PROJECT_ID}/${POOL}/np-restart`]: 1 });
    await eventually(
      async () => ((await client().showNodePool(PROJECT_ID, POOL, 'np-restart')) ? undefined : true),
      'the node pool to be gone after the restart',
      5000,
    );
  });

  it('refuses a yearly/monthly node pool and changes nothing', async () => {
    await client().createNodePool(PROJECT_ID, POOL, {
      ...nodePool('np-yearly'),
      metadata: {
        name: 'np-yearly',
        annotations: {
          'os.modelarts/billing.mode': '1',
          'os.modelarts/period.type': '2',
          'os.modelarts/period.num': '1',
          'os.modelarts/order.id': 'CS2600000000000',
        },
      },
    });
    const error = await client()
      .deleteNodePool(PROJECT_ID, POOL, 'np-yearly')
      .then(
        () => undefined,
        (e: unknown) => e as { errorCode?: string; errorMsg?: string },
      );
    expect(error).toMatchObject({
      errorCode: 'ModelArts.50004000',
      errorMsg: expect.stringContaining('yearly/monthly'),
    });
    expect((await client().showNodePool(PROJECT_ID, POOL, 'np-yearly'))?.status?.resources).not.toHaveProperty(
      'deleting',
    );
  });
});

describe('PatchNodePool', () => {
  const DELAY_MS = 600;
  const NODE_POOL_PATH = `/v2/${PROJECT_ID}/pools/${POOL}/nodepools`;
  const startPatching = () =>
    startModelArtsSimulator({
      port: 0,
      dataDir,
      credentials: CREDENTIALS,
      nodeReadyDelayMs: DELAY_MS,
      nodeDeleteDelayMs: DELAY_MS,
    });
  const patch = (name: string, body: unknown, contentType = 'application/merge-patch+json') =>
    signedFetch('PATCH', `${NODE_POOL_PATH}/${name}`, { body: JSON.stringify(body), contentType });
  const resources = (count: number, more: Record<string, unknown> = {}) => ({
    spec: { resources: { flavor: 'modelarts.vm.2u4g.dcc', count, maxCount: count, ...more } },
  });
  const buckets = async (name: string) => (await client().showNodePool(PROJECT_ID, POOL, name))?.status?.resources;
  const counts = async (name: string) =>
    Object.fromEntries(Object.entries((await buckets(name)) ?? {}).map(([state, b]) => [state, countOf(b)]));
  const settled = async (name: string, expected: Record<string, number>) =>
    eventually(
      async () => {
        const now = await counts(name);
        return JSON.stringify(now) === JSON.stringify(expected) ? now : undefined;
      },
      `${name} to settle at ${JSON.stringify(expected)}`,
      5000,
    );

  beforeEach(async () => {
    await simulator.close();
    simulator = await startPatching();
    await client().createNodePool(
      PROJECT_ID,
      POOL,
      nodePool('np-patch', { count: 2, maxCount: 2, labels: { a: '1' } }),
    );
    await settled('np-patch', { available: 2 });
  });

  it('grows a node pool: the added nodes creating beside the available ones, then all available', async () => {
    const answer = await patch('np-patch', {
      metadata: { annotations: { 'os.modelarts/billing.mode': '0' } },
      ...resources(6),
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      metadata: { annotations: { 'os.modelarts/billing.mode': '0' } },
      spec: { resources: expect.objectContaining({ count: 6, maxCount: 6, labels: { a: '1' } }) },
    });
    const during = await counts('np-patch');
    expect(during).toEqual({ available: 2, creating: 4 });
    await settled('np-patch', { available: 6 });
    expect(simulator.patchCalls()).toEqual({ [`${PROJECT_ID}/${POOL}/np-patch`]: 1 });
    const recorded = simulator.calls().filter((c) => c.method === 'PATCH');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.headers['content-type']).toBe('application/merge-patch+json');
  });

  it('shrinks a node pool: the removed nodes deleting, then gone; accepts application/json as the SDKs send it', async () => {
    const answer = await patch('np-patch', resources(1), 'application/json;charset=UTF-8');
    expect(answer.status).toBe(200);
    expect(await counts('np-patch')).toEqual({ available: 1, deleting: 1 });
    await settled('np-patch', { available: 1 });
  });

  it('merges labels: null removes one, others stay; a change of labels only moves no node', async () => {
    expect((await patch('np-patch', resources(2, { labels: { a: null, b: '2' } }))).status).toBe(200);
    const shown = await client().showNodePool(PROJECT_ID, POOL, 'np-patch');
    expect(shown?.spec?.resources.labels).toEqual({ b: '2' });
    expect(await counts('np-patch')).toEqual({ available: 2 });
  });

  it.each([
    ['another content type', resources(3), 'text/plain', 'ModelArts.50004100'],
    ['no maxCount', { spec: { resources: { flavor: 'modelarts.vm.2u4g.dcc', count: 3 } } }, undefined, 'maxCount'],
    [
      'another flavor',
      { spec: { resources: { flavor: 'modelarts.vm.8u32g.dcc', count: 2, maxCount: 2 } } },
      undefined,
      'flavor',
    ],
    ['a merged node pool the create rules refuse', resources(3, { maxCount: 2 }), undefined, 'maxCount'],
  ])('refuses %s with 400 and changes nothing', async (_case, body, contentType, mentions) => {
    const answer = await patch('np-patch', body, contentType);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.json)).toContain(mentions);
    expect((await client().showNodePool(PROJECT_ID, POOL, 'np-patch'))?.spec?.resources.count).toBe(2);
  });

  it('answers 404 for a node pool that does not exist, and refuses one being deleted', async () => {
    expect((await patch('np-none', resources(2))).json).toMatchObject({ error_code: 'ModelArts.50015002' });
    await client().deleteNodePool(PROJECT_ID, POOL, 'np-patch');
    expect((await patch('np-patch', resources(3))).json).toMatchObject({
      error_code: 'ModelArts.50004000',
      error_msg: expect.stringContaining('being deleted'),
    });
  });

  it('refuses to shrink a yearly/monthly node pool, and lets it grow', async () => {
    await client().createNodePool(PROJECT_ID, POOL, {
      ...nodePool('np-yearly', { count: 2, maxCount: 2 }),
      metadata: {
        name: 'np-yearly',
        annotations: {
          'os.modelarts/billing.mode': '1',
          'os.modelarts/period.type': '2',
          'os.modelarts/period.num': '1',
          'os.modelarts/order.id': 'CS2600000000001',
        },
      },
    });
    expect((await patch('np-yearly', resources(1))).json).toMatchObject({
      error_msg: expect.stringContaining('billing center'),
    });
    expect((await patch('np-yearly', resources(3))).status).toBe(200);
  });

  it('takes a change "in the console" unsigned and uncounted, and keeps the patch count across a restart', async () => {
    await patch('np-patch', resources(3));
    const console = await fetch(`${simulator.url}/_sim/nodepools/${PROJECT_ID}/${POOL}/np-patch`, {
      method: 'PATCH',
      body: JSON.stringify({ spec: { resources: { count: 5, maxCount: 5, labels: { a: null } } } }),
    });
    expect(console.status).toBe(200);
    const shown = await client().showNodePool(PROJECT_ID, POOL, 'np-patch');
    expect(shown?.spec?.resources).toMatchObject({ count: 5, labels: {} });
    await settled('np-patch', { available: 5 });
    await simulator.close();
    simulator = await startPatching();
    const state = (await (await fetch(`${simulator.url}/_sim/state`)).json()) as { patchCalls: unknown };
    expect(state.patchCalls).toEqual({ [`${PROJECT_ID}/${POOL}/np-patch`]: 1 });
  });
});

describe('persistence', () => {
  it('keeps node pools across a close and a restart on the same data directory', async () => {
    await client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1'));
    await simulator.close();

    simulator = await start();
    const shown = await client().showNodePool(PROJECT_ID, POOL, 'nodepool-1');
    expect(shown?.metadata.name).toBe('nodepool-1');
    await expect(client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1'))).rejects.toMatchObject({
      errorMsg: 'Bad request. node pool nodepool-1 already exists',
    });
    expect(simulator.nodePools()).toHaveLength(1);
  });

  it('writes one JSON file and leaves no temporary file behind', async () => {
    await client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1'));
    await client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-2'));
    expect(readdirSync(dataDir)).toEqual(['modelarts-state.json']);
    const saved = JSON.parse(readFileSync(join(dataDir, 'modelarts-state.json'), 'utf8')) as {
      nodePools: { nodePool: { metadata: { name: string } } }[];
    };
    expect(saved.nodePools.map((n) => n.nodePool.metadata.name)).toEqual(['nodepool-1', 'nodepool-2']);
  });

  it('creates a missing data directory', async () => {
    await simulator.close();
    const nested = join(dataDir, 'a', 'b');
    simulator = await startModelArtsSimulator({ port: 0, dataDir: nested, credentials: CREDENTIALS });
    await client().createNodePool(PROJECT_ID, POOL, nodePool('nodepool-1'));
    expect(existsSync(join(nested, 'modelarts-state.json'))).toBe(true);
  });
});
