/**
 * Fuzz: at least 5,000 bodies derived from the API page's example (wrong types, missing and extra
 * fields, huge and unicode strings, deep nesting, non-JSON) go through the real submit route. Every
 * answer is 202 or 400 in the error shape, never a 5xx; and each answer agrees with an independent
 * reading of the rules (./support/nodepool-oracle.ts): nothing invalid is accepted, nothing valid
 * refused.
 *
 * Each body goes to its own pool (`fuzz-<n>`), so a valid one is never a duplicate (409). Bodies stay
 * within 64 KiB (larger ones get 413, tested in test/e2e/bad-input.test.ts). The requester is their
 * team's only approver, so an accepted request ends at once REJECTED / NO_ELIGIBLE_APPROVER: nothing
 * waits, nothing reaches ModelArts.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type RunningStack } from '../../local/harness/stack';
import { PROJECT_ID } from '../../local/harness/requests';
import { brokenRule } from './support/nodepool-oracle';

jest.setTimeout(300_000);

const RUNS = 500;
const BODIES_PER_RUN = 10;
const MAX_BODY_BYTES = 65536;

const policy = {
  nodeTracking: { enabled: false },
  teams: [
    {
      name: 'fuzz',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'self', approvers: [{ email: 'alice@example.com' }] }],
      quotas: { 'modelarts.vm.2u4g.dcc': 1000000 },
    },
  ],
};

let stack: RunningStack;
let token: string;
let pool = 0;

beforeAll(async () => {
  stack = await startStack({ policy });
  token = await stack.token('alice@example.com');
});
afterAll(() => stack?.stop());

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const example = JSON.parse(readFileSync(join(__dirname, '../fixtures/example-nodepool.json'), 'utf8')) as {
  [key: string]: Json;
};

/** A string value `<DEEP><depth>:<kind>` stands for that deep nesting, spliced into the JSON text (JSON.stringify would overflow the stack). */
const DEEP = 'deep-nesting:';

// --- values --------------------------------------------------------------------------------------

const hugeString = fc
  .tuple(fc.constantFrom('a', 'é', '名', '🚀', '-', ' '), fc.integer({ min: 1000, max: 15000 }))
  .map(([c, n]) => c.repeat(n));
const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    'nodepool-1 ',
    'NodePool-1',
    'a',
    'a-',
    '-a',
    'a'.repeat(51),
    'nodepool-1-default',
    '\ud800',
    'x\udfff',
    'null',
    '0',
    'true',
    '__proto__',
    'constructor',
  ),
  hugeString,
);
const deep = fc.oneof(
  fc.integer({ min: 50, max: 20000 }).map((depth) => `${DEEP}${depth}:array`),
  fc.integer({ min: 50, max: 9000 }).map((depth) => `${DEEP}${depth}:object`),
);
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: oddString },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer({ min: -3, max: 10003 }),
      fc.double(),
      fc.constantFrom(0, -0, 1, 2, 1.5, 1e21, -1, 10000, 10001, 2 ** 53),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Json>(true, false, null, [], {}, [1], { a: 1 }, ['x'], {
      key: 'k',
      effect: 'NoSchedule',
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: deep },
);

// --- valid bodies (so that 202 happens often enough to matter) ------------------------------------

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
/** Kubernetes label keys and values, with now and then one that breaks the syntax (a space, unicode). */
const labelName = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,14}[A-Za-z0-9])?$/);
const labelKey = fc.oneof(
  { weight: 6, arbitrary: labelName },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('app.kubernetes.io', 'example.com', 'team'), labelName)
      .map(([p, n]) => `${p}/${n}`),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
);
const labelValue = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(labelName, fc.constant('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
);
const validBody = fc
  .record({
    name,
    count: fc.integer({ min: 1, max: 6 }),
    extra: fc.integer({ min: 0, max: 3 }),
    withNodePool: fc.boolean(),
    labels: fc.option(fc.dictionary(labelKey, labelValue, { maxKeys: 3 }), { nil: undefined }),
    taints: fc.option(
      fc.array(
        fc.record({
          key: labelKey,
          value: fc.option(labelValue, { nil: undefined }),
          effect: fc.constantFrom('NoSchedule', 'PreferNoSchedule', 'NoExecute'),
        }),
        { maxLength: 2 },
      ),
      { nil: undefined },
    ),
    azs: fc.constantFrom('none', 'empty', 'split'),
    /** A creatingStep; with `steps` the counts are made multiples of it. */
    step: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    moreExtendParams: fc.boolean(),
    yearly: fc.boolean(),
    os: fc.option(
      fc.record({
        autoMatch: fc.constantFrom('EulerOS 2.5', 'Ubuntu 22.04'),
        imageType: fc.constantFrom('private', ''),
      }),
      { nil: undefined },
    ),
    runtime: fc.option(fc.constantFrom('docker', 'containerd'), { nil: undefined }),
    volumes: fc.boolean(),
  })
  .map((v) => {
    const body = structuredClone(example) as {
      metadata: { [k: string]: Json };
      spec: { resources: { [k: string]: Json } };
    };
    body.metadata.name = v.name;
    body.metadata.annotations = v.yearly
      ? { 'os.modelarts/billing.mode': '1', 'os.modelarts/period.num': '1', 'os.modelarts/period.type': '2' }
      : {};
    const r = body.spec.resources;
    r.count = v.count;
    r.maxCount = v.count + v.extra;
    if (v.withNodePool) r.nodePool = v.name;
    else delete r.nodePool;
    if (v.labels) r.labels = v.labels;
    if (v.taints) r.taints = v.taints.map(({ value, ...t }) => (value === undefined ? t : { ...t, value }));
    if (v.step !== undefined) {
      r.count = v.count * v.step;
      r.maxCount = (v.count + v.extra) * v.step;
      r.creatingStep = { step: v.step, type: 'hyperinstance' };
    }
    if (v.azs === 'empty') r.azs = [];
    if (v.azs === 'split')
      r.azs =
        r.count > 1
          ? [
              { az: 'cn-north-4a', count: 1 },
              { az: 'cn-north-4b', count: r.count - 1 },
            ]
          : [{ az: 'cn-north-4a', count: 1 }];
    if (v.os) r.os = v.os;
    if (v.runtime) r.extendParams = { runtime: v.runtime, dockerBaseSize: '50', postInstall: 'ZWNobyBoaQ==' };
    if (v.moreExtendParams)
      r.extendParams = {
        ...(r.extendParams as object),
        kubernetesLVSize: '100',
        driverPolicyOnExistingNodes: 'refresh',
      };
    if (v.volumes) {
      r.rootVolume = { volumeType: 'SSD', size: '100' };
      r.dataVolumes = [{ volumeType: 'SSD', size: '200', count: 1, extendParams: { volumeGroup: 'vgpaas' } }];
      r.volumeGroupConfigs = [
        { volumeGroup: 'vgpaas', dockerThinPool: 90, lvmConfig: { lvType: 'linear' }, types: ['volume'] },
      ];
    }
    return body;
  });

// --- mutations ------------------------------------------------------------------------------------

type Path = Array<string | number>;

function paths(value: Json, at: Path = []): Path[] {
  const here = [at];
  if (Array.isArray(value)) return here.concat(value.flatMap((v, i) => paths(v, [...at, i])));
  if (value && typeof value === 'object')
    return here.concat(Object.entries(value).flatMap(([k, v]) => paths(v, [...at, k])));
  return here;
}

function containerAt(body: Json, path: Path): { parent: Json; key: string | number } | undefined {
  if (path.length === 0) return undefined;
  let parent = body;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[step];
  return { parent, key: path[path.length - 1] };
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: anyValue }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    pick: fc.nat(),
    key: fc.oneof(fc.constantFrom('colour', 'nodepool', 'Flavor', '__proto__', 'constructor', 'spec', ''), fc.string()),
    value: anyValue,
  }),
);

interface Mutation {
  readonly kind: 'set' | 'delete' | 'add';
  readonly pick: number;
  readonly key?: string;
  readonly value?: Json;
}

function mutate(body: Json, m0: Mutation): Json {
  // fc.constantFrom hands out the same object every time: a copy, or a later mutation could put an
  // object inside itself (a circular body JSON cannot express) and change the constant for later runs.
  const m = m0.value === undefined ? m0 : { ...m0, value: structuredClone(m0.value) };
  const all = paths(body);
  const path = all[m.pick % all.length];
  if (m.kind === 'set') {
    const at = containerAt(body, path);
    if (!at) return m.value as Json;
    (at.parent as Record<string | number, Json>)[at.key] = m.value as Json;
  } else if (m.kind === 'delete') {
    const at = containerAt(body, path);
    if (!at) return {};
    if (Array.isArray(at.parent)) at.parent.splice(at.key as number, 1);
    else delete (at.parent as Record<string, Json>)[at.key];
  } else {
    const target = path.reduce<Json>((v, step) => (v as Record<string | number, Json>)[step], body);
    if (target && typeof target === 'object' && !Array.isArray(target))
      Object.defineProperty(target, m.key as string, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else if (Array.isArray(target)) target.push(m.value as Json);
  }
  return body;
}

/** JSON text of a body, with the deep nestings spliced in. */
function text(body: Json): string {
  return JSON.stringify(body).replace(
    new RegExp(`"${DEEP}(\\d+):(array|object)"`, 'g'),
    (_, depth: string, kind: string) => {
      const n = Number(depth);
      return kind === 'array' ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    },
  );
}

const mutatedBody = fc
  .tuple(validBody, fc.array(mutation, { minLength: 2, maxLength: 4 }))
  .map(([body, ms]) => text(ms.reduce<Json>((b, m) => mutate(b, m), body)));

const notJson = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '[]',
    'null',
    '"NodePool"',
    '42',
    'true',
    '{"kind":',
    "{'kind':'NodePool'}",
    '{"kind":"NodePool",}',
    '\ufeff{}',
    'NaN',
    '{"a":1}{"b":2}',
  ),
  validBody.chain((b) => fc.nat({ max: text(b).length - 1 }).map((cut) => text(b).slice(0, cut))),
  validBody.map((b) => `${text(b)} trailing`),
  validBody.map((b) => text(b).replace('"kind":"NodePool"', '"kind":"NodePool","kind":"Pool"')),
  fc.constantFrom('[', '{"a":').chain((open) => fc.integer({ min: 1000, max: 30000 }).map((d) => open.repeat(d))),
);

const anyBody = fc
  // About one body in ten is valid: enough to check acceptance, few enough to keep the run short
  // (each accepted body starts a workflow on the stack).
  .oneof(
    { weight: 1, arbitrary: validBody.map(text) },
    { weight: 12, arbitrary: mutatedBody },
    { weight: 3, arbitrary: notJson },
  )
  .filter((b) => Buffer.byteLength(b, 'utf8') <= MAX_BODY_BYTES);

// --- the property ---------------------------------------------------------------------------------

interface Answer {
  readonly body: string;
  readonly status: number;
  readonly json: unknown;
}

async function send(body: string): Promise<Answer> {
  pool += 1;
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/fuzz-${pool}/nodepools`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  const raw = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = raw;
  }
  return { body, status: response.status, json };
}

/** What is wrong with the answer, or undefined. */
function problem(a: Answer): string | undefined {
  const rule = brokenRule(Buffer.from(a.body, 'utf8').toString('utf8'));
  if (a.status === 202) {
    const j = a.json as { requestId?: unknown; status?: unknown; links?: { self?: unknown } };
    if (typeof j.requestId !== 'string' || j.status !== 'SUBMITTED' || j.links?.self !== `/requests/${j.requestId}`)
      return `202 without the documented body: ${JSON.stringify(a.json)}`;
    if (rule) return `accepted although ${rule}`;
    return undefined;
  }
  if (a.status === 400) {
    const j = a.json as { error_code?: unknown; error_msg?: unknown };
    if (
      j.error_code !== 'ModelArts.50004000' ||
      typeof j.error_msg !== 'string' ||
      j.error_msg.length === 0 ||
      Object.keys(j).length !== 2
    ) {
      return `400 without the documented error body: ${JSON.stringify(a.json)}`;
    }
    if (!rule) return `refused although valid: ${j.error_msg}`;
    return undefined;
  }
  return `answered ${a.status}: ${typeof a.json === 'string' ? a.json.slice(0, 300) : JSON.stringify(a.json).slice(0, 300)}`;
}

it(`answers ${RUNS * BODIES_PER_RUN} fuzzed bodies with 202 or 400 in the documented shape, agreeing with an independent reading of the rules`, async () => {
  const tally = { sent: 0, accepted: 0, refused: 0 };
  const property = fc.asyncProperty(
    fc.array(anyBody, { minLength: BODIES_PER_RUN, maxLength: BODIES_PER_RUN }),
    async (bodies) => {
      const answers = await Promise.all(bodies.map(send));
      for (const a of answers) {
        tally.sent += 1;
        if (a.status === 202) tally.accepted += 1;
        if (a.status === 400) tally.refused += 1;
        const wrong = problem(a);
        if (wrong)
          throw new Error(
            `${wrong}\n  body (${Buffer.byteLength(a.body)} bytes): ${a.body.slice(0, 400)}${a.body.length > 400 ? '...' : ''}`,
          );
      }
    },
  );
  // fc.check, not fc.assert: a counterexample of ten bodies of up to 64 KiB is no message to read.
  const details = await fc.check(property, { numRuns: RUNS, endOnFailure: true });
  if (details.failed) {
    throw new Error(
      `seed ${details.seed}, path ${details.counterexamplePath}: ${(details.errorInstance as Error | undefined)?.message ?? 'failed'}`,
    );
  }
  expect(tally.sent).toBeGreaterThanOrEqual(5000);
  // The generator must exercise both answers, or the cross-check proves little.
  expect(tally.accepted).toBeGreaterThan(150);
  expect(tally.refused).toBeGreaterThan(2000);
  expect(stack.output()).not.toMatch(/PoolGate\.0500|unexpected error/);
});
