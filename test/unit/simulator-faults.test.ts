/**
 * Rate-based fault injection of the ModelArts simulator (local/modelarts-simulator/faults.ts): a plan
 * set per run (option, `PUT /_sim/faults`), drawn once per call, by operation; a failure before or
 * after serving; a held answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelArtsClient } from '../../lambdas/adapters/modelarts/client';
import { ModelArtsRetryableError } from '../../lambdas/adapters/modelarts/errors';
import type { ModelArtsNodePool } from '../../lambdas/domain/nodepool-request';
import { Faults, parseFaultPlan } from '../../local/modelarts-simulator/faults';
import { startModelArtsSimulator, type FaultPlanInput, type ModelArtsSimulator } from '../../local/modelarts-simulator';
import { eventually } from '../../local/harness/poll';

const CREDENTIALS = { accessKey: 'AKSIMULATORTEST', secretKey: 'simulator-test-secret' };
const PROJECT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const POOL = 'pool-faults';

const nodePool = (name: string): ModelArtsNodePool => ({
  kind: 'NodePool',
  apiVersion: 'v2',
  metadata: { name },
  spec: { resources: { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1 } },
});

let dataDir: string;
let simulator: ModelArtsSimulator;

async function start(faults?: FaultPlanInput | string) {
  simulator = await startModelArtsSimulator({ port: 0, dataDir, credentials: CREDENTIALS, faults });
  return new ModelArtsClient({ endpoint: simulator.url, credentials: async () => CREDENTIALS, timeoutMs: 5000 });
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'poolgate-sim-faults-'));
});
afterEach(async () => {
  await simulator?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the plan', () => {
  it('shares one draw among the rules, so their rates add up', () => {
    const faults = new Faults();
    faults.setPlan({
      rules: [
        { status: 429, rate: 0.1 },
        { status: 500, rate: 0.05 },
      ],
      seed: 7,
    });
    const statuses = Array.from({ length: 20_000 }, () => faults.decide('show')?.failure?.status);
    const share = (status?: number) => statuses.filter((s) => s === status).length / statuses.length;
    expect(share(429)).toBeCloseTo(0.1, 2);
    expect(share(500)).toBeCloseTo(0.05, 2);
    expect(share(undefined)).toBeCloseTo(0.85, 2);
    expect(faults.counts()).toEqual({
      calls: 20_000,
      injected: [statuses.filter((s) => s === 429).length, statuses.filter((s) => s === 500).length],
    });
  });

  it('repeats the same draws for the same seed', () => {
    const draw = () => {
      const faults = new Faults();
      faults.setPlan({ rules: [{ status: 429, rate: 0.5 }], seed: 42 });
      return Array.from({ length: 50 }, () => faults.decide('create')?.failure?.status ?? 200);
    };
    expect(draw()).toEqual(draw());
  });

  it('applies a rule only to the operations it names, and documented error bodies by status', () => {
    const faults = new Faults();
    faults.setPlan({
      rules: [
        { status: 429, rate: 1, operations: ['create'] },
        { status: 503, rate: 1, operations: ['flavors'] },
      ],
    });
    expect(faults.decide('show')).toBeUndefined();
    expect(faults.decide('create')?.failure).toEqual({
      status: 429,
      errorCode: 'APIG.0308',
      errorMsg: expect.stringContaining('throttling threshold'),
    });
    expect(faults.decide('flavors')?.failure).toEqual({
      status: 503,
      errorCode: 'ModelArts.50005000',
      errorMsg: 'Internal error.',
    });
  });

  it('refuses plans that cannot be meant, naming the field', () => {
    expect(() => parseFaultPlan('{')).toThrow('fault plan: not valid JSON');
    expect(() => parseFaultPlan({ rules: [{ rate: 1.5 }] })).toThrow(/rules\.0\.rate/);
    expect(() =>
      parseFaultPlan({
        rules: [
          { rate: 0.6, status: 429 },
          { rate: 0.6, status: 500 },
        ],
      }),
    ).toThrow(/add up to 1.2/);
    expect(() =>
      parseFaultPlan({
        rules: [
          { rate: 0.6, status: 429, operations: ['create'] },
          { rate: 0.6, status: 500, operations: ['show'] },
        ],
      }),
    ).not.toThrow();
    expect(() => parseFaultPlan({ rules: [{ rate: 0.1, colour: 'red' }] })).toThrow(/colour/);
  });
});

describe('on the wire', () => {
  it('fails a call before serving it: a failed create stores nothing', async () => {
    const client = await start({ rules: [{ status: 429, rate: 1, operations: ['create'] }] });
    await expect(client.createNodePool(PROJECT_ID, POOL, nodePool('np-a'))).rejects.toBeInstanceOf(
      ModelArtsRetryableError,
    );
    expect(simulator.nodePools()).toEqual([]);
    expect(await client.showNodePool(PROJECT_ID, POOL, 'np-a')).toBeUndefined();
  });

  it('fails a call after serving it when asked: the create is stored, its answer is a 500', async () => {
    const client = await start(
      JSON.stringify({ rules: [{ status: 500, rate: 1, operations: ['create'], afterServing: true }] }),
    );
    await expect(client.createNodePool(PROJECT_ID, POOL, nodePool('np-b'))).rejects.toMatchObject({
      httpStatus: 500,
      errorCode: 'ModelArts.50005000',
    });
    expect((await client.showNodePool(PROJECT_ID, POOL, 'np-b'))?.metadata.name).toBe('np-b');
    expect(simulator.calls().map((c) => c.status)).toEqual([500]);
  });

  it('holds an answer for delayMs, the call already served', async () => {
    const client = await start({ rules: [{ rate: 1, operations: ['create'], delayMs: 400 }] });
    const started = Date.now();
    let answered = false;
    const created = client.createNodePool(PROJECT_ID, POOL, nodePool('np-c')).finally(() => (answered = true));
    // Stored while its answer is still held back.
    await eventually(() => (simulator.nodePools().length ? true : undefined), 'the create to be stored', 2000, 10);
    expect(answered).toBe(false);
    expect(simulator.nodePools().map((n) => n.nodePool.metadata.name)).toEqual(['np-c']);
    await created;
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
  });

  it('is set, read and cleared through /_sim/faults, unsigned', async () => {
    const client = await start();
    const put = await fetch(`${simulator.url}/_sim/faults`, {
      method: 'PUT',
      body: JSON.stringify({ rules: [{ status: 429, rate: 1 }] }),
    });
    expect(put.status).toBe(200);
    await expect(client.showPool(PROJECT_ID, POOL)).rejects.toMatchObject({ httpStatus: 429 });
    expect(await (await fetch(`${simulator.url}/_sim/faults`)).json()).toEqual({
      plan: { rules: [{ status: 429, rate: 1, afterServing: false, delayMs: 0 }] },
      calls: 1,
      injected: [1],
    });
    const bad = await fetch(`${simulator.url}/_sim/faults`, { method: 'PUT', body: '{"rules":[{"rate":2}]}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error_code: 'ModelArts.50004000',
      error_msg: expect.stringContaining('rules.0.rate'),
    });
    expect((await fetch(`${simulator.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(200);
    await expect(client.showPool(PROJECT_ID, POOL)).resolves.toBeDefined();
  });
});
