import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  MAX_BODY_BYTES,
  ModelArtsNodePoolSchema,
  NodePoolRequestSchema,
  parseNodePoolRequest,
} from '../../lambdas/domain/nodepool-request';
import { ACCEPTED_FORMS, SDK_REQUIRED_FIELDS, sdkFullBody, without } from '../support/sdk-bodies';

/** The request example of the API page (https://support.huaweicloud.com/intl/en-us/api-modelarts/CreateNodePool.html), verbatim. */
const API_PAGE_EXAMPLE = `{
  "kind" : "NodePool",
  "apiVersion" : "v2",
  "metadata" : {
    "name" : "nodepool-1",
    "annotations" : { }
  },
  "spec" : {
    "resources" : {
      "nodePool" : "nodepool-1",
      "flavor" : "modelarts.vm.2u4g.dcc",
      "count" : 1,
      "maxCount" : 1,
      "network" : {
        "vpc" : "277e9abc-0e6b-431a-9232-cfd25d5fc566",
        "subnet" : "03796378-c356-4c14-826b-e4913aa9c8b9",
        "securityGroups" : [ "0a15b48d-06f1-41e4-b782-ade90087bf59" ]
      }
    }
  }
}`;

// Loose on purpose: the tests put wrong types anywhere in the body.
type Json = any;

/** A fresh copy of the API page example, changed by `edit`. */
function body(edit: (b: Json) => void = () => {}): Json {
  const b = JSON.parse(API_PAGE_EXAMPLE);
  edit(b);
  return b;
}

/** The example with these `spec.resources` fields set (undefined deletes one). */
function withResources(fields: Record<string, unknown>): Json {
  return body((b) => {
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) delete b.spec.resources[key];
      else b.spec.resources[key] = value;
    }
  });
}

/** The example with these annotations. */
function withAnnotations(annotations: unknown): Json {
  return body((b) => {
    b.metadata.annotations = annotations;
  });
}

const poolgate = (value: Json) => parseNodePoolRequest(JSON.stringify(value));
const modelArts = (value: Json) => parseNodePoolRequest(JSON.stringify(value), ModelArtsNodePoolSchema);

/** The refusal message, failing the test if the body was accepted. */
function refusal(result: ReturnType<typeof parseNodePoolRequest>): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  return result.message;
}

/** The node pool name rule, as the messages state it. */
const NAME_RULE = 'must be 2-50 lowercase letters, digits or "-", start with a letter and not end with "-"';
const DEFAULT_RULE = 'must not end with "-default" (the name of a pool\'s own default node pool)';
const LABEL_KEY_RULE =
  'must be a Kubernetes label key: [DNS subdomain prefix/]name, the name 1-63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';
const LABEL_VALUE_RULE =
  'must be a Kubernetes label value: empty, or 1-63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';

const YEARLY = {
  'os.modelarts/billing.mode': '1',
  'os.modelarts/period.num': '2',
  'os.modelarts/period.type': '2',
  'os.modelarts/auto.renew': '1',
  'os.modelarts/promotion.info': 'summer-discount',
  'os.modelarts/service.console.url': 'https://console.example.com/paid',
  'os.modelarts/order.id': 'CS2311191234ABCDE',
};

describe('the fields the SDK models require (table)', () => {
  it('accepts the full SDK body in both variants', () => {
    expect(poolgate(sdkFullBody())).toEqual({ ok: true, value: sdkFullBody() });
    expect(modelArts(sdkFullBody()).ok).toBe(true);
  });

  it.each(SDK_REQUIRED_FIELDS.map(({ path, named }) => [named, path] as const))(
    'refuses a body without %s, naming its path',
    (named, path) => {
      const expected = new RegExp(`(^|; )${escapeRegExp(named)}: is required`);
      expect(refusal(poolgate(without(sdkFullBody(), path)))).toMatch(expected);
      expect(refusal(modelArts(without(sdkFullBody(), path)))).toMatch(expected);
    },
  );

  it.each(ACCEPTED_FORMS)('accepts %s', (_form, edit) => {
    const b = sdkFullBody();
    edit(b);
    expect(poolgate(b)).toEqual({ ok: true, value: b });
    expect(modelArts(b).ok).toBe(true);
  });
});

describe('MAX_BODY_BYTES', () => {
  it('is 64 KiB', () => {
    expect(MAX_BODY_BYTES).toBe(65536);
  });
});

describe('the API page example', () => {
  it('is accepted by poolgate, unchanged', () => {
    expect(parseNodePoolRequest(API_PAGE_EXAMPLE)).toEqual({ ok: true, value: JSON.parse(API_PAGE_EXAMPLE) });
  });

  it('is accepted by the ModelArts variant', () => {
    expect(parseNodePoolRequest(API_PAGE_EXAMPLE, ModelArtsNodePoolSchema)).toEqual({
      ok: true,
      value: JSON.parse(API_PAGE_EXAMPLE),
    });
  });

  it('is the body of the README fixture', () => {
    const fixture = readFileSync(join(__dirname, '..', 'fixtures', 'example-nodepool.json'), 'utf8');
    expect(JSON.parse(fixture)).toEqual(JSON.parse(API_PAGE_EXAMPLE));
  });

  it('is accepted by NodePoolRequestSchema used directly', () => {
    expect(NodePoolRequestSchema.safeParse(JSON.parse(API_PAGE_EXAMPLE)).success).toBe(true);
  });
});

describe('body', () => {
  it.each(['', '{', '{"kind": "NodePool",}', 'NodePool', "{'kind': 'NodePool'}"])('refuses %j as not JSON', (raw) => {
    expect(parseNodePoolRequest(raw)).toEqual({ ok: false, message: 'request body is not valid JSON' });
  });

  it.each([
    ['an empty array', '[]'],
    ['an array holding the example', `[${API_PAGE_EXAMPLE}]`],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"NodePool"'],
    ['a boolean', 'true'],
  ])('refuses %s as not an object', (_, raw) => {
    expect(parseNodePoolRequest(raw)).toEqual({ ok: false, message: 'request body must be a JSON object' });
  });

  it('refuses an unknown top-level field', () => {
    expect(refusal(poolgate(body((b) => (b.status = {}))))).toBe('status: unknown field');
  });

  it('refuses a missing apiVersion', () => {
    expect(refusal(poolgate(body((b) => delete b.apiVersion)))).toBe('apiVersion: is required and must be "v2"');
  });

  it('refuses another apiVersion', () => {
    expect(refusal(poolgate(body((b) => (b.apiVersion = 'v1'))))).toBe('apiVersion: must be "v2" (got "v1")');
  });

  it('refuses a missing kind', () => {
    expect(refusal(poolgate(body((b) => delete b.kind)))).toBe('kind: is required and must be "NodePool"');
  });

  it('refuses another kind', () => {
    expect(refusal(poolgate(body((b) => (b.kind = 'Pool'))))).toBe('kind: must be "NodePool" (got "Pool")');
  });

  it('refuses a missing metadata', () => {
    expect(refusal(poolgate(body((b) => delete b.metadata)))).toBe('metadata: is required and must be an object');
  });

  it('refuses a metadata that is not an object', () => {
    expect(refusal(poolgate(body((b) => (b.metadata = 'nodepool-1'))))).toBe(
      'metadata: must be an object (got "nodepool-1")',
    );
  });

  it('refuses a missing spec (poolgate departure)', () => {
    expect(refusal(poolgate(body((b) => delete b.spec)))).toBe('spec: is required and must be an object');
  });

  it('refuses a spec without resources (poolgate departure)', () => {
    expect(refusal(poolgate(body((b) => (b.spec = {}))))).toBe('spec.resources: is required and must be an object');
  });

  it('refuses an unknown field in spec', () => {
    expect(refusal(poolgate(body((b) => (b.spec.type = 'Dedicate'))))).toBe('spec.type: unknown field');
  });

  it('refuses an array as spec.resources', () => {
    expect(refusal(poolgate(body((b) => (b.spec.resources = []))))).toBe(
      'spec.resources: must be an object (got an array)',
    );
  });
});

describe('metadata.name (node pool name rule)', () => {
  it('refuses a missing name', () => {
    expect(refusal(poolgate(body((b) => delete b.metadata.name)))).toBe(
      'metadata.name: is required and must be a non-empty string',
    );
  });

  it('refuses an empty name', () => {
    expect(refusal(poolgate(body((b) => (b.metadata.name = ''))))).toBe(
      'metadata.name: must be a non-empty string (got "")',
    );
  });

  it('refuses a name that is not a string', () => {
    expect(refusal(poolgate(body((b) => (b.metadata.name = 7))))).toBe(
      'metadata.name: must be a non-empty string (got 7)',
    );
  });

  it('accepts 2 and 50 characters', () => {
    const fifty = `a${'b'.repeat(48)}c`;
    expect(poolgate(body((b) => ((b.metadata.name = 'ab'), delete b.spec.resources.nodePool))).ok).toBe(true);
    expect(poolgate(body((b) => ((b.metadata.name = fifty), (b.spec.resources.nodePool = fifty)))).ok).toBe(true);
  });

  it('refuses one character', () => {
    expect(refusal(poolgate(body((b) => ((b.metadata.name = 'a'), delete b.spec.resources.nodePool))))).toBe(
      `metadata.name: ${NAME_RULE} (got "a")`,
    );
  });

  it('refuses 51 characters', () => {
    const name = `a${'b'.repeat(50)}`;
    expect(refusal(poolgate(body((b) => ((b.metadata.name = name), delete b.spec.resources.nodePool))))).toBe(
      `metadata.name: ${NAME_RULE} (got "${name}")`,
    );
  });

  it.each(['NodePool-1', 'node_pool', 'node.pool', 'node pool', 'nødepool', 'pool-😀'])(
    'refuses the characters of %j',
    (name) => {
      expect(refusal(poolgate(body((b) => ((b.metadata.name = name), delete b.spec.resources.nodePool))))).toBe(
        `metadata.name: ${NAME_RULE} (got ${JSON.stringify(name)})`,
      );
    },
  );

  it.each(['1pool', '-pool'])('refuses %j, which does not start with a letter', (name) => {
    expect(refusal(poolgate(body((b) => ((b.metadata.name = name), delete b.spec.resources.nodePool))))).toBe(
      `metadata.name: ${NAME_RULE} (got "${name}")`,
    );
  });

  it('refuses a name ending with "-"', () => {
    expect(refusal(poolgate(body((b) => ((b.metadata.name = 'pool-'), delete b.spec.resources.nodePool))))).toBe(
      `metadata.name: ${NAME_RULE} (got "pool-")`,
    );
  });

  it('refuses a name ending with "-default", the name of a pool\'s own default node pool', () => {
    const defaultName = body((b) => ((b.metadata.name = 'pool-default'), (b.spec.resources.nodePool = 'pool-default')));
    const message = `metadata.name: ${DEFAULT_RULE} (got "pool-default")`;
    expect(refusal(poolgate(defaultName))).toBe(message);
    expect(refusal(modelArts(defaultName))).toBe(message);
  });

  it('accepts "default" inside a name', () => {
    expect(poolgate(body((b) => ((b.metadata.name = 'default-gpu'), delete b.spec.resources.nodePool))).ok).toBe(true);
  });

  it('refuses an unknown field in metadata', () => {
    expect(refusal(poolgate(body((b) => (b.metadata.labels = {}))))).toBe('metadata.labels: unknown field');
  });
});

describe('metadata.annotations', () => {
  it('accepts the seven documented keys', () => {
    expect(poolgate(withAnnotations(YEARLY))).toEqual({ ok: true, value: withAnnotations(YEARLY) });
  });

  it('accepts no annotations at all', () => {
    expect(poolgate(body((b) => delete b.metadata.annotations)).ok).toBe(true);
  });

  it('refuses an annotations array', () => {
    expect(refusal(poolgate(withAnnotations([])))).toBe('metadata.annotations: must be an object (got an array)');
  });

  it('refuses an undocumented annotation', () => {
    expect(refusal(poolgate(withAnnotations({ 'os.modelarts/auto.pay': 'true' })))).toBe(
      'metadata.annotations.os.modelarts/auto.pay: unknown field',
    );
  });

  it('refuses an unknown billing mode', () => {
    expect(refusal(poolgate(withAnnotations({ 'os.modelarts/billing.mode': '2' })))).toBe(
      'metadata.annotations.os.modelarts/billing.mode: must be one of "0", "1" (got "2")',
    );
  });

  it('refuses a billing mode given as a number, saying it must be a string', () => {
    expect(refusal(poolgate(withAnnotations({ 'os.modelarts/billing.mode': 1 })))).toBe(
      'metadata.annotations.os.modelarts/billing.mode: must be a string, one of "0", "1" (got 1)',
    );
  });

  it('accepts pay-per-use without a period', () => {
    expect(poolgate(withAnnotations({ 'os.modelarts/billing.mode': '0' })).ok).toBe(true);
  });

  it('requires period.num for yearly/monthly', () => {
    expect(refusal(poolgate(withAnnotations({ ...YEARLY, 'os.modelarts/period.num': undefined })))).toBe(
      'metadata.annotations.os.modelarts/period.num: is required when os.modelarts/billing.mode is "1" (yearly/monthly)',
    );
  });

  it('requires period.type for yearly/monthly', () => {
    expect(refusal(poolgate(withAnnotations({ ...YEARLY, 'os.modelarts/period.type': undefined })))).toBe(
      'metadata.annotations.os.modelarts/period.type: is required when os.modelarts/billing.mode is "1" (yearly/monthly)',
    );
  });

  it('requires both periods for yearly/monthly in the ModelArts variant too', () => {
    expect(refusal(modelArts(withAnnotations({ 'os.modelarts/billing.mode': '1' })))).toBe(
      'metadata.annotations.os.modelarts/period.num: is required when os.modelarts/billing.mode is "1" (yearly/monthly); ' +
        'metadata.annotations.os.modelarts/period.type: is required when os.modelarts/billing.mode is "1" (yearly/monthly)',
    );
  });

  it('accepts yearly/monthly without an order id (the finance approver may enter it)', () => {
    expect(poolgate(withAnnotations({ ...YEARLY, 'os.modelarts/order.id': undefined })).ok).toBe(true);
  });

  it.each([['0'], ['02'], ['2.5'], ['-1'], ['two'], ['']])('refuses period.num %j', (num) => {
    expect(refusal(poolgate(withAnnotations({ ...YEARLY, 'os.modelarts/period.num': num })))).toBe(
      `metadata.annotations.os.modelarts/period.num: must be a positive integer string such as "2" (got ${JSON.stringify(num)})`,
    );
  });

  it('refuses period.num given as a number', () => {
    expect(refusal(poolgate(withAnnotations({ ...YEARLY, 'os.modelarts/period.num': 2 })))).toBe(
      'metadata.annotations.os.modelarts/period.num: must be a positive integer string such as "2" (got 2)',
    );
  });

  it('refuses an unknown period type', () => {
    expect(refusal(poolgate(withAnnotations({ ...YEARLY, 'os.modelarts/period.type': '5' })))).toBe(
      'metadata.annotations.os.modelarts/period.type: must be one of "2", "3", "4" (got "5")',
    );
  });

  it('refuses an unknown auto.renew', () => {
    expect(refusal(poolgate(withAnnotations({ 'os.modelarts/auto.renew': 'yes' })))).toBe(
      'metadata.annotations.os.modelarts/auto.renew: must be one of "0", "1" (got "yes")',
    );
  });

  it.each(['os.modelarts/promotion.info', 'os.modelarts/service.console.url', 'os.modelarts/order.id'])(
    'refuses a non-string %s',
    (key) => {
      expect(refusal(poolgate(withAnnotations({ [key]: 12345 })))).toBe(
        `metadata.annotations.${key}: must be a string (got 12345)`,
      );
    },
  );

  it('accepts an empty order id (as the Terraform provider sends on scale-up)', () => {
    expect(poolgate(withAnnotations({ 'os.modelarts/order.id': '' })).ok).toBe(true);
  });
});

describe('spec.resources: flavor, count, maxCount', () => {
  it('refuses a missing flavor', () => {
    expect(refusal(poolgate(withResources({ flavor: undefined })))).toBe(
      'spec.resources.flavor: is required and must be a non-empty string',
    );
  });

  it('refuses an empty flavor', () => {
    expect(refusal(poolgate(withResources({ flavor: '' })))).toBe(
      'spec.resources.flavor: must be a non-empty string (got "")',
    );
  });

  it('refuses a missing count', () => {
    expect(refusal(poolgate(withResources({ count: undefined })))).toBe(
      'spec.resources.count: is required and must be an integer >= 1',
    );
  });

  it.each([
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    ['1', '"1"'],
    [null, 'null'],
    [true, 'true'],
    [[1], 'an array'],
  ])('refuses count %j', (value, shown) => {
    expect(refusal(poolgate(withResources({ count: value })))).toBe(
      `spec.resources.count: must be an integer >= 1 (got ${shown})`,
    );
  });

  it('accepts the ceiling of 10000 nodes', () => {
    expect(poolgate(withResources({ count: 10000, maxCount: 10000 })).ok).toBe(true);
  });

  it('refuses a count above 10000, naming the ceiling', () => {
    expect(refusal(poolgate(withResources({ count: 10001, maxCount: 10000 })))).toBe(
      'spec.resources.count: must be <= 10000 (got 10001)',
    );
  });

  it('refuses a count beyond int32', () => {
    expect(refusal(poolgate(withResources({ count: 2 ** 31, maxCount: 10000 })))).toBe(
      'spec.resources.count: must be <= 10000 (got 2147483648)',
    );
  });

  it('refuses 1e400 (Infinity once parsed)', () => {
    const raw = API_PAGE_EXAMPLE.replace('"count" : 1,', '"count" : 1e400,');
    expect(refusal(parseNodePoolRequest(raw))).toBe('spec.resources.count: must be an integer >= 1 (got Infinity)');
  });

  it('accepts 1.0, which JSON makes the integer 1', () => {
    const raw = API_PAGE_EXAMPLE.replace('"count" : 1,', '"count" : 1.0,');
    expect(parseNodePoolRequest(raw).ok).toBe(true);
  });

  it('refuses maxCount 0, what the Go SDK sends when a caller forgets maxCount', () => {
    expect(refusal(poolgate(withResources({ maxCount: 0 })))).toBe(
      'spec.resources.maxCount: must be an integer >= 1 (got 0)',
    );
    expect(refusal(modelArts(withResources({ maxCount: 0 })))).toBe(
      'spec.resources.maxCount: must be an integer >= 1 (got 0)',
    );
  });

  it('refuses a missing maxCount', () => {
    expect(refusal(poolgate(withResources({ maxCount: undefined })))).toBe(
      'spec.resources.maxCount: is required and must be an integer >= 1',
    );
  });

  it('refuses maxCount 1.5', () => {
    expect(refusal(poolgate(withResources({ maxCount: 1.5 })))).toBe(
      'spec.resources.maxCount: must be an integer >= 1 (got 1.5)',
    );
  });

  it('refuses maxCount below count', () => {
    expect(refusal(poolgate(withResources({ count: 3, maxCount: 2 })))).toBe(
      'spec.resources.maxCount: must be >= count (3)',
    );
  });

  it('refuses maxCount below count in the ModelArts variant too', () => {
    expect(refusal(modelArts(withResources({ count: 3, maxCount: 2 })))).toBe(
      'spec.resources.maxCount: must be >= count (3)',
    );
  });

  it('accepts maxCount above count (a logical pool)', () => {
    expect(poolgate(withResources({ count: 2, maxCount: 4 })).ok).toBe(true);
  });

  it('refuses an unknown resources field', () => {
    expect(refusal(poolgate(withResources({ foo: 'bar' })))).toBe('spec.resources.foo: unknown field');
  });

  it('refuses a misspelt field instead of ignoring it', () => {
    expect(refusal(poolgate(withResources({ maxcount: 1, maxCount: undefined })))).toBe(
      'spec.resources.maxCount: is required and must be an integer >= 1; spec.resources.maxcount: unknown field',
    );
  });
});

describe('spec.resources.azs', () => {
  const twoAzs = [
    { az: 'cn-north-4a', count: 2 },
    { az: 'cn-north-4b', count: 1 },
  ];

  it('accepts AZ counts that add up to count', () => {
    expect(poolgate(withResources({ count: 3, maxCount: 3, azs: twoAzs })).ok).toBe(true);
  });

  it('refuses AZ counts that do not add up to count (poolgate departure)', () => {
    expect(refusal(poolgate(withResources({ count: 4, maxCount: 4, azs: twoAzs })))).toBe(
      'spec.resources.azs: counts must add up to count (4) (got 3)',
    );
  });

  it('accepts an empty azs list, which real clients send when no zone is chosen', () => {
    expect(poolgate(withResources({ azs: [] }))).toEqual({ ok: true, value: withResources({ azs: [] }) });
    expect(modelArts(withResources({ azs: [] })).ok).toBe(true);
  });

  it('lets the ModelArts variant accept AZ counts that do not add up', () => {
    expect(modelArts(withResources({ count: 4, maxCount: 4, azs: twoAzs })).ok).toBe(true);
  });

  it('refuses an AZ listed twice', () => {
    const azs = [
      { az: 'cn-north-4a', count: 1 },
      { az: 'cn-north-4a', count: 1 },
    ];
    expect(refusal(poolgate(withResources({ count: 2, maxCount: 2, azs })))).toBe(
      'spec.resources.azs[1].az: repeats azs[0].az ("cn-north-4a")',
    );
  });

  it('refuses an AZ listed twice in the ModelArts variant too', () => {
    const azs = [
      { az: 'cn-north-4a', count: 1 },
      { az: 'cn-north-4a', count: 1 },
    ];
    expect(refusal(modelArts(withResources({ count: 2, maxCount: 2, azs })))).toBe(
      'spec.resources.azs[1].az: repeats azs[0].az ("cn-north-4a")',
    );
  });

  it('refuses an AZ count of 0, naming its index', () => {
    const azs = [
      { az: 'cn-north-4a', count: 1 },
      { az: 'cn-north-4b', count: 0 },
    ];
    expect(refusal(poolgate(withResources({ azs })))).toBe(
      'spec.resources.azs[1].count: must be an integer >= 1 (got 0)',
    );
  });

  it('refuses an AZ count given as a string', () => {
    expect(refusal(poolgate(withResources({ azs: [{ az: 'cn-north-4a', count: '1' }] })))).toBe(
      'spec.resources.azs[0].count: must be an integer >= 1 (got "1")',
    );
  });

  it('refuses an empty AZ name', () => {
    expect(refusal(poolgate(withResources({ azs: [{ az: '', count: 1 }] })))).toBe(
      'spec.resources.azs[0].az: must be a non-empty string (got "")',
    );
  });

  it('refuses a missing AZ name', () => {
    expect(refusal(poolgate(withResources({ azs: [{ count: 1 }] })))).toBe(
      'spec.resources.azs[0].az: is required and must be a non-empty string',
    );
  });

  it('refuses an unknown field in an AZ', () => {
    expect(refusal(poolgate(withResources({ azs: [{ az: 'cn-north-4a', count: 1, zone: 'x' }] })))).toBe(
      'spec.resources.azs[0].zone: unknown field',
    );
  });

  it('refuses azs that is not an array', () => {
    expect(refusal(poolgate(withResources({ azs: { az: 'cn-north-4a', count: 1 } })))).toBe(
      'spec.resources.azs: must be an array (got an object)',
    );
  });
});

describe('spec.resources.nodePool', () => {
  it('accepts a body without nodePool', () => {
    expect(poolgate(withResources({ nodePool: undefined })).ok).toBe(true);
  });

  it('refuses a nodePool other than metadata.name (poolgate departure)', () => {
    expect(refusal(poolgate(withResources({ nodePool: 'nodepool-2' })))).toBe(
      'spec.resources.nodePool: must equal metadata.name ("nodepool-1") (got "nodepool-2")',
    );
  });

  it('refuses a nodePool that is not a string', () => {
    expect(refusal(poolgate(withResources({ nodePool: 1 })))).toBe('spec.resources.nodePool: must be a string (got 1)');
  });
});

describe('spec.resources.taints', () => {
  it('accepts taints with and without a value', () => {
    const taints = [
      { key: 'dedicated', value: 'ml', effect: 'NoSchedule' },
      { key: 'gpu', effect: 'PreferNoSchedule' },
      { key: 'maintenance', value: '', effect: 'NoExecute' },
    ];
    expect(poolgate(withResources({ taints })).ok).toBe(true);
  });

  it('accepts a prefixed key, as Kubernetes taints take', () => {
    const taints = [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }];
    expect(poolgate(withResources({ taints })).ok).toBe(true);
  });

  it('refuses a key that breaks Kubernetes label syntax, in the ModelArts variant too', () => {
    const taints = [{ key: 'dedicated to', value: 'ml', effect: 'NoSchedule' }];
    const message = `spec.resources.taints[0].key: ${LABEL_KEY_RULE} (got "dedicated to")`;
    expect(refusal(poolgate(withResources({ taints })))).toBe(message);
    expect(refusal(modelArts(withResources({ taints })))).toBe(message);
  });

  it('refuses a value that breaks Kubernetes label syntax', () => {
    const taints = [{ key: 'dedicated', value: 'machine learning', effect: 'NoSchedule' }];
    expect(refusal(poolgate(withResources({ taints })))).toBe(
      `spec.resources.taints[0].value: ${LABEL_VALUE_RULE} (got "machine learning")`,
    );
  });

  it('refuses an unknown effect', () => {
    expect(refusal(poolgate(withResources({ taints: [{ key: 'k', effect: 'NoEntry' }] })))).toBe(
      'spec.resources.taints[0].effect: must be one of "NoSchedule", "PreferNoSchedule", "NoExecute" (got "NoEntry")',
    );
  });

  it('refuses a missing effect', () => {
    expect(refusal(poolgate(withResources({ taints: [{ key: 'k' }] })))).toBe(
      'spec.resources.taints[0].effect: is required and must be one of "NoSchedule", "PreferNoSchedule", "NoExecute"',
    );
  });

  it('refuses an empty key', () => {
    expect(refusal(poolgate(withResources({ taints: [{ key: '', effect: 'NoSchedule' }] })))).toBe(
      'spec.resources.taints[0].key: must be a non-empty string (got "")',
    );
  });

  it('refuses a value that is not a string', () => {
    expect(refusal(poolgate(withResources({ taints: [{ key: 'k', value: true, effect: 'NoSchedule' }] })))).toBe(
      'spec.resources.taints[0].value: must be a string (got true)',
    );
  });

  it('refuses an unknown field in a taint', () => {
    expect(refusal(poolgate(withResources({ taints: [{ key: 'k', effect: 'NoSchedule', operator: 'Exists' }] })))).toBe(
      'spec.resources.taints[0].operator: unknown field',
    );
  });
});

describe('spec.resources.labels', () => {
  it('accepts Kubernetes labels: prefixed and plain keys, empty values, 63-character names', () => {
    const labels = {
      'app.kubernetes.io/team': 'ml',
      'os.modelarts/scope': 'Train_2.x',
      Team_Name: 'A-1',
      empty: '',
      ['k'.repeat(63)]: 'v'.repeat(63),
    };
    expect(poolgate(withResources({ labels }))).toEqual({ ok: true, value: withResources({ labels }) });
  });

  it.each([
    ['a space', 'team name'],
    ['unicode', 'équipe'],
    ['a leading "-"', '-team'],
    ['a trailing "."', 'team.'],
    ['a 64-character name', 'k'.repeat(64)],
    ['an uppercase prefix', 'Example.com/team'],
    ['an empty prefix', '/team'],
    ['an empty name after the prefix', 'example.com/'],
    ['two slashes', 'a/b/c'],
  ])('refuses a key with %s, naming it', (_what, key) => {
    expect(refusal(poolgate(withResources({ labels: { [key]: 'x' } })))).toBe(
      `spec.resources.labels${/^[A-Za-z0-9_][\w./-]*$/.test(key) ? `.${key.length > 64 ? `${key.slice(0, 64)}...` : key}` : `[${JSON.stringify(key)}]`}: ${LABEL_KEY_RULE}`,
    );
  });

  it('refuses {"team name": "x"}, which ModelArts would refuse, in the ModelArts variant too', () => {
    const message = `spec.resources.labels["team name"]: ${LABEL_KEY_RULE}`;
    expect(refusal(poolgate(withResources({ labels: { 'team name': 'x' } })))).toBe(message);
    expect(refusal(modelArts(withResources({ labels: { 'team name': 'x' } })))).toBe(message);
  });

  it.each([
    ['a space', 'machine learning'],
    ['unicode', 'données'],
    ['a trailing "-"', 'ml-'],
    ['64 characters', 'v'.repeat(64)],
  ])('refuses a value with %s', (_what, value) => {
    expect(refusal(poolgate(withResources({ labels: { team: value } })))).toMatch(
      new RegExp(`^spec\\.resources\\.labels\\.team: ${escapeRegExp(LABEL_VALUE_RULE)} \\(got "`),
    );
  });

  it('refuses a value that is not a string', () => {
    expect(refusal(poolgate(withResources({ labels: { team: 1 } })))).toBe(
      'spec.resources.labels.team: must be a string (got 1)',
    );
  });

  it('refuses labels that are not an object', () => {
    expect(refusal(poolgate(withResources({ labels: ['team=ml'] })))).toBe(
      'spec.resources.labels: must be an object of string values (got an array)',
    );
  });

  it('refuses the key "__proto__" rather than dropping it', () => {
    const raw = API_PAGE_EXAMPLE.replace('"count" : 1,', '"count" : 1, "labels": {"__proto__": "x"},');
    expect(refusal(parseNodePoolRequest(raw))).toBe(`spec.resources.labels.__proto__: ${LABEL_KEY_RULE}`);
  });

  it('refuses an empty key', () => {
    expect(refusal(poolgate(withResources({ labels: { '': 'x' } })))).toBe(
      `spec.resources.labels[""]: ${LABEL_KEY_RULE}`,
    );
  });
});

describe('spec.resources.tags', () => {
  it('accepts tags, an empty value included', () => {
    expect(
      poolgate(
        withResources({
          tags: [
            { key: 'cost-center', value: '42' },
            { key: 'owner', value: '' },
          ],
        }),
      ).ok,
    ).toBe(true);
  });

  it.each(['CCE-cluster', '__type_baremetal_x'])('refuses the reserved key prefix of %j', (key) => {
    expect(refusal(poolgate(withResources({ tags: [{ key, value: 'v' }] })))).toBe(
      `spec.resources.tags[0].key: must not start with "CCE-" or "__type_baremetal" (got "${key}")`,
    );
  });

  it('refuses an empty key', () => {
    expect(refusal(poolgate(withResources({ tags: [{ key: '', value: 'v' }] })))).toBe(
      'spec.resources.tags[0].key: must be a non-empty string (got "")',
    );
  });

  it('refuses a missing value', () => {
    expect(refusal(poolgate(withResources({ tags: [{ key: 'k' }] })))).toBe(
      'spec.resources.tags[0].value: is required and must be a string',
    );
  });

  it('refuses an unknown field in a tag', () => {
    expect(refusal(poolgate(withResources({ tags: [{ key: 'k', value: 'v', scope: 'x' }] })))).toBe(
      'spec.resources.tags[0].scope: unknown field',
    );
  });
});

describe('spec.resources.network', () => {
  it('refuses security groups that are not an array', () => {
    expect(refusal(poolgate(withResources({ network: { securityGroups: 'sg-1' } })))).toBe(
      'spec.resources.network.securityGroups: must be an array of strings (got "sg-1")',
    );
  });

  it('refuses a security group that is not a string', () => {
    expect(refusal(poolgate(withResources({ network: { securityGroups: ['sg-1', 2] } })))).toBe(
      'spec.resources.network.securityGroups[1]: must be a string (got 2)',
    );
  });

  it('refuses an unknown field in network', () => {
    expect(refusal(poolgate(withResources({ network: { vpcId: 'v' } })))).toBe(
      'spec.resources.network.vpcId: unknown field',
    );
  });
});

describe('spec.resources.extendParams', () => {
  const all = {
    dockerBaseSize: '50',
    postInstall: 'ZWNobyBoZWxsbwo=',
    runtime: 'containerd',
    labelPolicyOnExistingNodes: 'refresh',
    taintPolicyOnExistingNodes: 'ignore',
    tagPolicyOnExistingNodes: 'refresh',
    XParameterPlaneSubnet: 'c6b3b9f6-2a4e-4c8e-9a0f-1d2e3f4a5b6c',
    nodePoolName: 'gpu-pool',
  };

  it('accepts every documented key', () => {
    expect(poolgate(withResources({ extendParams: all })).ok).toBe(true);
  });

  it('passes keys the SDK models do not document, as real clients send them (a map of strings on the page)', () => {
    const extendParams = { ...all, kubernetesLVSize: '100', driverPolicyOnExistingNodes: 'refresh', post_install: 'x' };
    expect(poolgate(withResources({ extendParams }))).toEqual({ ok: true, value: withResources({ extendParams }) });
    expect(modelArts(withResources({ extendParams })).ok).toBe(true);
  });

  it('refuses an undocumented key whose value is not a string', () => {
    expect(refusal(poolgate(withResources({ extendParams: { maxPods: 110 } })))).toBe(
      'spec.resources.extendParams.maxPods: must be a string (got 110)',
    );
  });

  it('refuses extendParams that is not an object', () => {
    expect(refusal(poolgate(withResources({ extendParams: 'runtime=docker' })))).toBe(
      'spec.resources.extendParams: must be an object of string values (got "runtime=docker")',
    );
  });

  it('refuses the empty key', () => {
    expect(refusal(poolgate(withResources({ extendParams: { '': 'x' } })))).toBe(
      'spec.resources.extendParams: must not have the key ""',
    );
  });

  it('refuses an unknown runtime', () => {
    expect(refusal(poolgate(withResources({ extendParams: { runtime: 'cri-o' } })))).toBe(
      'spec.resources.extendParams.runtime: must be one of "docker", "containerd" (got "cri-o")',
    );
  });

  it.each(['labelPolicyOnExistingNodes', 'taintPolicyOnExistingNodes', 'tagPolicyOnExistingNodes'])(
    'refuses an unknown %s',
    (key) => {
      expect(refusal(poolgate(withResources({ extendParams: { [key]: 'keep' } })))).toBe(
        `spec.resources.extendParams.${key}: must be one of "refresh", "ignore" (got "keep")`,
      );
    },
  );

  it('refuses a value that is not a string', () => {
    expect(refusal(poolgate(withResources({ extendParams: { XParameterPlaneSubnet: 5 } })))).toBe(
      'spec.resources.extendParams.XParameterPlaneSubnet: must be a string (got 5)',
    );
  });

  it('refuses a dockerBaseSize given as a number', () => {
    expect(refusal(poolgate(withResources({ extendParams: { dockerBaseSize: 50 } })))).toBe(
      'spec.resources.extendParams.dockerBaseSize: must be a whole number string such as "50" ("0" = no limit) (got 50)',
    );
  });

  it('refuses a dockerBaseSize that is not a number of GiB', () => {
    expect(refusal(poolgate(withResources({ extendParams: { dockerBaseSize: '50Gi' } })))).toBe(
      'spec.resources.extendParams.dockerBaseSize: must be a whole number string such as "50" ("0" = no limit) (got "50Gi")',
    );
  });

  it('refuses a postInstall script that is not Base64', () => {
    expect(refusal(poolgate(withResources({ extendParams: { postInstall: 'echo hello' } })))).toBe(
      'spec.resources.extendParams.postInstall: must be a Base64-encoded string (got "echo hello")',
    );
  });

  it('refuses a nodePoolName ending with "-default"', () => {
    expect(refusal(poolgate(withResources({ extendParams: { nodePoolName: 'gpu-default' } })))).toBe(
      `spec.resources.extendParams.nodePoolName: ${DEFAULT_RULE} (got "gpu-default")`,
    );
  });

  it('refuses a nodePoolName breaking the node pool name rule', () => {
    expect(refusal(poolgate(withResources({ extendParams: { nodePoolName: 'GPU' } })))).toBe(
      `spec.resources.extendParams.nodePoolName: ${NAME_RULE} (got "GPU")`,
    );
  });

  it('refuses a nodePoolName ending with "-"', () => {
    expect(refusal(poolgate(withResources({ extendParams: { nodePoolName: 'gpu-' } })))).toBe(
      `spec.resources.extendParams.nodePoolName: ${NAME_RULE} (got "gpu-")`,
    );
  });
});

describe('spec.resources.creatingStep', () => {
  it('accepts a supernode step that divides count and maxCount', () => {
    const stepped = withResources({ count: 16, maxCount: 24, creatingStep: { step: 8, type: 'hyperinstance' } });
    expect(poolgate(stepped)).toEqual({ ok: true, value: stepped });
  });

  it('refuses a count that is not a multiple of the step', () => {
    expect(refusal(poolgate(withResources({ count: 4, maxCount: 8, creatingStep: { step: 8 } })))).toBe(
      'spec.resources.count: must be a multiple of creatingStep.step (8) (got 4)',
    );
  });

  it('refuses a maxCount that is not a multiple of the step, in the ModelArts variant too', () => {
    const message = 'spec.resources.maxCount: must be a multiple of creatingStep.step (8) (got 12)';
    expect(refusal(poolgate(withResources({ count: 8, maxCount: 12, creatingStep: { step: 8 } })))).toBe(message);
    expect(refusal(modelArts(withResources({ count: 8, maxCount: 12, creatingStep: { step: 8 } })))).toBe(message);
  });

  it('names both counts when neither is a multiple', () => {
    expect(refusal(poolgate(withResources({ count: 3, maxCount: 5, creatingStep: { step: 2 } })))).toBe(
      'spec.resources.count: must be a multiple of creatingStep.step (2) (got 3); spec.resources.maxCount: must be a multiple of creatingStep.step (2) (got 5)',
    );
  });

  it('puts no multiple rule on a creatingStep without step', () => {
    expect(poolgate(withResources({ count: 3, maxCount: 3, creatingStep: { type: 'hyperinstance' } })).ok).toBe(true);
  });

  it('refuses step 0', () => {
    expect(refusal(poolgate(withResources({ creatingStep: { step: 0 } })))).toBe(
      'spec.resources.creatingStep.step: must be an integer >= 1 (got 0)',
    );
  });

  it('refuses a fractional step', () => {
    expect(refusal(poolgate(withResources({ creatingStep: { step: 1.5 } })))).toBe(
      'spec.resources.creatingStep.step: must be an integer >= 1 (got 1.5)',
    );
  });

  it('refuses an unknown type', () => {
    expect(refusal(poolgate(withResources({ creatingStep: { type: 'batch' } })))).toBe(
      'spec.resources.creatingStep.type: must be "hyperinstance" (got "batch")',
    );
  });

  it('refuses an unknown field', () => {
    expect(refusal(poolgate(withResources({ creatingStep: { steps: 2 } })))).toBe(
      'spec.resources.creatingStep.steps: unknown field',
    );
  });
});

describe('spec.resources.os', () => {
  it('accepts a private image', () => {
    expect(poolgate(withResources({ os: { name: 'EulerOS 2.10', imageId: 'img-1', imageType: 'private' } })).ok).toBe(
      true,
    );
  });

  it('accepts the empty image type (a preset image)', () => {
    expect(poolgate(withResources({ os: { name: 'EulerOS 2.10', imageType: '' } })).ok).toBe(true);
  });

  it('refuses another image type', () => {
    expect(refusal(poolgate(withResources({ os: { imageType: 'public' } })))).toBe(
      'spec.resources.os.imageType: must be one of "private", "" (got "public")',
    );
  });

  it('accepts autoMatch as the SDK types it, an OS name and version', () => {
    expect(poolgate(withResources({ os: { autoMatch: 'EulerOS 2.5' } })).ok).toBe(true);
  });

  it('refuses a boolean autoMatch', () => {
    expect(refusal(poolgate(withResources({ os: { autoMatch: true } })))).toBe(
      'spec.resources.os.autoMatch: must be a string (an OS name and version such as "EulerOS 2.5") (got true)',
    );
  });

  it('refuses an unknown field', () => {
    expect(refusal(poolgate(withResources({ os: { version: '2.5' } })))).toBe(
      'spec.resources.os.version: unknown field',
    );
  });
});

describe('spec.resources volumes (passed through)', () => {
  const volumes = {
    rootVolume: { volumeType: 'SSD', size: '200' },
    dataVolumes: [
      { volumeType: 'GPSSD', size: '500', count: 2, extendParams: { volumeGroup: 'vgpaas' } },
      { volumeType: 'SAS', size: '1000', extendParams: { volumeGroup: 'vguser1', useType: 'local' } },
    ],
    volumeGroupConfigs: [
      { volumeGroup: 'vgpaas', dockerThinPool: 90, types: ['volume'] },
      { volumeGroup: 'vguser1', lvmConfig: { lvType: 'striped', path: '/data' }, types: ['volume', 'local'] },
    ],
  };

  it('accepts the SDK fields and passes them through unchanged', () => {
    expect(poolgate(withResources(volumes))).toEqual({ ok: true, value: withResources(volumes) });
  });

  it('accepts sizes as the SDKs and Terraform write them, "100" and "100Gi"', () => {
    const sized = withResources({
      rootVolume: { volumeType: 'SSD', size: '100Gi' },
      dataVolumes: [{ volumeType: 'GPSSD', size: '100', extendParams: { volumeGroup: 'vgpaas' } }],
      volumeGroupConfigs: [{ volumeGroup: 'vgpaas' }],
    });
    expect(poolgate(sized)).toEqual({ ok: true, value: sized });
  });

  it.each([
    [200, '200'],
    ['', '""'],
    ['100GB', '"100GB"'],
    ['0', '"0"'],
    ['-5', '"-5"'],
  ])('refuses a root volume size of %j', (size, shown) => {
    expect(refusal(poolgate(withResources({ rootVolume: { volumeType: 'SSD', size } })))).toMatch(
      new RegExp(`^spec\\.resources\\.rootVolume\\.size: must be .* \\(got ${escapeRegExp(shown)}\\)$`),
    );
  });

  it('refuses an unknown root volume field', () => {
    expect(refusal(poolgate(withResources({ rootVolume: { volumeType: 'SSD', size: '100', type: 'SSD' } })))).toBe(
      'spec.resources.rootVolume.type: unknown field',
    );
  });

  it('refuses a data volume count of 0', () => {
    const dataVolumes = [{ volumeType: 'SAS', size: '100', count: 0, extendParams: { volumeGroup: 'vgpaas' } }];
    expect(refusal(poolgate(withResources({ dataVolumes, volumeGroupConfigs: [{ volumeGroup: 'vgpaas' }] })))).toBe(
      'spec.resources.dataVolumes[0].count: must be an integer >= 1 (got 0)',
    );
  });

  it('refuses a data volume extendParams value that is not a string', () => {
    const dataVolumes = [{ volumeType: 'SAS', size: '100', extendParams: { volumeGroup: 'vgpaas', useType: 1 } }];
    expect(refusal(poolgate(withResources({ dataVolumes, volumeGroupConfigs: [{ volumeGroup: 'vgpaas' }] })))).toBe(
      'spec.resources.dataVolumes[0].extendParams.useType: must be a string (got 1)',
    );
  });

  it('refuses "extendParams": null, which the Go SDK sends when a caller leaves it unset, naming the field', () => {
    const dataVolumes = [{ volumeType: 'SAS', size: '100', extendParams: null }];
    const message = 'spec.resources.dataVolumes[0].extendParams: must be an object of string values (got null)';
    expect(refusal(poolgate(withResources({ dataVolumes, volumeGroupConfigs: [{ volumeGroup: 'vgpaas' }] })))).toBe(
      message,
    );
    expect(refusal(modelArts(withResources({ dataVolumes, volumeGroupConfigs: [{ volumeGroup: 'vgpaas' }] })))).toBe(
      message,
    );
  });

  it('refuses a data volume without its volume group', () => {
    const dataVolumes = [{ volumeType: 'SAS', size: '100', extendParams: {} }];
    expect(refusal(poolgate(withResources({ dataVolumes, volumeGroupConfigs: [{ volumeGroup: 'vgpaas' }] })))).toBe(
      'spec.resources.dataVolumes[0].extendParams.volumeGroup: is required and must be a non-empty string',
    );
  });

  it('refuses custom data volumes without volumeGroupConfigs, in the ModelArts variant too', () => {
    const dataVolumes = [{ volumeType: 'SAS', size: '100', extendParams: { volumeGroup: 'vguser1' } }];
    const message =
      'spec.resources.volumeGroupConfigs: is required when dataVolumes are given (the volume groups the data volumes join)';
    expect(refusal(poolgate(withResources({ dataVolumes })))).toBe(message);
    expect(refusal(modelArts(withResources({ dataVolumes })))).toBe(message);
    expect(refusal(poolgate(withResources({ dataVolumes, volumeGroupConfigs: [] })))).toBe(message);
  });

  it('needs no volumeGroupConfigs for an empty dataVolumes list', () => {
    expect(poolgate(withResources({ dataVolumes: [] })).ok).toBe(true);
  });

  it('refuses dataVolumes that is not an array', () => {
    expect(refusal(poolgate(withResources({ dataVolumes: { size: '100' } })))).toBe(
      'spec.resources.dataVolumes: must be an array (got an object)',
    );
  });

  it('refuses a volume group config without volumeGroup', () => {
    expect(refusal(poolgate(withResources({ volumeGroupConfigs: [{ dockerThinPool: 90 }] })))).toBe(
      'spec.resources.volumeGroupConfigs[0].volumeGroup: is required and must be a non-empty string',
    );
  });

  it('refuses a dockerThinPool above 100 percent', () => {
    expect(
      refusal(poolgate(withResources({ volumeGroupConfigs: [{ volumeGroup: 'vgpaas', dockerThinPool: 101 }] }))),
    ).toBe('spec.resources.volumeGroupConfigs[0].dockerThinPool: must be <= 100 (got 101)');
  });

  it('refuses an unknown LVM type', () => {
    expect(
      refusal(
        poolgate(withResources({ volumeGroupConfigs: [{ volumeGroup: 'vguser1', lvmConfig: { lvType: 'mirror' } }] })),
      ),
    ).toBe('spec.resources.volumeGroupConfigs[0].lvmConfig.lvType: must be one of "linear", "striped" (got "mirror")');
  });

  it('refuses an unknown storage type', () => {
    expect(refusal(poolgate(withResources({ volumeGroupConfigs: [{ volumeGroup: 'vguser1', types: ['nfs'] }] })))).toBe(
      'spec.resources.volumeGroupConfigs[0].types[0]: must be one of "volume", "local" (got "nfs")',
    );
  });

  it('refuses an unknown volume group config field', () => {
    expect(refusal(poolgate(withResources({ volumeGroupConfigs: [{ volumeGroup: 'vguser1', size: '1' }] })))).toBe(
      'spec.resources.volumeGroupConfigs[0].size: unknown field',
    );
  });
});

describe('ModelArtsNodePoolSchema', () => {
  it('accepts a body without spec', () => {
    expect(modelArts(body((b) => delete b.spec))).toEqual({ ok: true, value: body((b) => delete b.spec) });
  });

  it('accepts a nodePool different from metadata.name', () => {
    expect(modelArts(withResources({ nodePool: 'nodePool-1' })).ok).toBe(true);
  });

  it('requires resources when spec is given (Table 5)', () => {
    expect(refusal(modelArts(body((b) => (b.spec = {}))))).toBe('spec.resources: is required and must be an object');
  });

  it('shares the field rules', () => {
    expect(refusal(modelArts(withResources({ count: 0, foo: 1 })))).toBe(
      'spec.resources.count: must be an integer >= 1 (got 0); spec.resources.foo: unknown field',
    );
  });
});

describe('messages', () => {
  it('reports problems of different fields in one answer, cross-field rules included', () => {
    const b = withResources({ count: 3, maxCount: 2, taints: [{ key: 'k', effect: 'x' }], nodePool: 'other' });
    b.extra = true;
    expect(refusal(poolgate(b))).toBe(
      'spec.resources.taints[0].effect: must be one of "NoSchedule", "PreferNoSchedule", "NoExecute" (got "x"); ' +
        'spec.resources.maxCount: must be >= count (3); extra: unknown field; spec.resources.nodePool: must equal metadata.name ("nodepool-1") (got "other")',
    );
  });

  it('skips a cross-field rule while a field it reads is wrong', () => {
    expect(refusal(poolgate(withResources({ count: '3', maxCount: 2 })))).toBe(
      'spec.resources.count: must be an integer >= 1 (got "3")',
    );
  });

  it('lists at most five problems and counts the rest', () => {
    const fields = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`extra${i}`, i]));
    expect(refusal(poolgate(withResources(fields)))).toBe(
      'spec.resources.extra0: unknown field; spec.resources.extra1: unknown field; spec.resources.extra2: unknown field; ' +
        'spec.resources.extra3: unknown field; spec.resources.extra4: unknown field; and 3 more problems',
    );
  });

  it('says "1 more problem" in the singular', () => {
    const fields = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`extra${i}`, i]));
    expect(refusal(poolgate(withResources(fields)))).toMatch(/; and 1 more problem$/);
  });

  it('cuts a long echoed value to 64 characters', () => {
    const message = refusal(poolgate(body((b) => (b.apiVersion = 'v'.repeat(10000)))));
    expect(message).toBe(`apiVersion: must be "v2" (got "${'v'.repeat(64)}...")`);
  });

  it('quotes a key that is not a plain name', () => {
    expect(refusal(poolgate(withResources({ extendParams: { 'my label': 1, équipe: 2 } })))).toBe(
      'spec.resources.extendParams["my label"]: must be a string (got 1); spec.resources.extendParams["équipe"]: must be a string (got 2)',
    );
  });

  it('quotes an empty unknown key', () => {
    expect(refusal(poolgate(withAnnotations({ '': '1' })))).toBe('metadata.annotations[""]: unknown field');
  });

  it('cuts a long unknown key to 64 characters', () => {
    const message = refusal(poolgate(withResources({ ['k'.repeat(5000)]: 1 })));
    expect(message).toBe(`spec.resources.${'k'.repeat(64)}...: unknown field`);
  });

  it('never cuts a character in half', () => {
    const message = refusal(poolgate(body((b) => (b.kind = '😀'.repeat(100)))));
    expect(message).toBe(`kind: must be "NodePool" (got "${'😀'.repeat(64)}...")`);
    expect(message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('stays short whatever the body', () => {
    const huge = { ['x'.repeat(20000)]: 'y'.repeat(20000) };
    const message = refusal(poolgate(body((b) => ((b.metadata = huge), (b.spec = huge), Object.assign(b, huge)))));
    expect(message.length).toBeLessThan(600);
  });

  it('accepts unicode in free strings', () => {
    const unicode = withResources({
      flavor: 'modelarts.vm.gpu.加速',
      extendParams: { équipe: 'ραδιο-📡' },
      tags: [{ key: '项目', value: 'インフラ' }],
      os: { name: 'EulerOS 2.5 — édition', imageId: '镜像' },
    });
    expect(poolgate(unicode)).toEqual({ ok: true, value: unicode });
  });

  it('names problems in plain words, never as a zod dump or [object Object]', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('body', 'metadata', 'resources', 'annotations'), (value, where) => {
        const b = body();
        if (where === 'body') Object.assign(b, { extra: value });
        if (where === 'metadata') b.metadata.name = value;
        if (where === 'resources') b.spec.resources.count = value;
        if (where === 'annotations') b.metadata.annotations = value;
        const result = poolgate(b);
        if (result.ok) return;
        expect(result.message).not.toMatch(/\[object Object\]|Invalid input|expected \w+, received|"code":/);
        expect(result.message).toMatch(/^[\w.[\]/-]+(\[".*"\])?: /);
      }),
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
