/**
 * An independent reading of the rules a submitted body must follow (the API page plus poolgate's
 * departures, README "Departures from the ModelArts API page"), written by hand without zod and
 * without lambdas/domain, so the fuzz suite can cross-check every answer of the real service against
 * something that does not share its code. Returns the first rule broken, or undefined when valid.
 */
const NAME = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
const MAX_COUNT = 10000;

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= MAX_COUNT;

class Broken extends Error {}

function need(ok: boolean, rule: string): void {
  if (!ok) throw new Broken(rule);
}

/** An object whose keys are all in `allowed` (missing ones are checked by the caller). */
function strict(value: unknown, where: string, allowed: readonly string[]): Obj {
  need(isObject(value), `${where} is not an object`);
  const o = value as Obj;
  for (const key of Object.keys(o)) need(allowed.includes(key), `${where}.${key} is not a known field`);
  return o;
}

function optional(o: Obj, key: string, check: (v: unknown) => boolean, where: string): void {
  if (Object.hasOwn(o, key)) need(check(o[key]), `${where}.${key} is invalid`);
}

const stringArray = (v: unknown) => Array.isArray(v) && v.every(isString);

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Kubernetes: a label name is 1-63 characters of alphanumerics, "-", "_", ".", alphanumeric at both ends. */
function isLabelName(v: string): boolean {
  if (v.length < 1 || v.length > 63) return false;
  if (!ALNUM.includes(v[0]) || !ALNUM.includes(v[v.length - 1])) return false;
  return [...v].every((c) => ALNUM.includes(c) || c === '-' || c === '_' || c === '.');
}
/** A DNS subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and "-", alphanumeric at both ends. */
function isDnsSubdomain(v: string): boolean {
  if (v.length < 1 || v.length > 253) return false;
  const lower = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return v
    .split('.')
    .every(
      (part) =>
        part.length > 0 &&
        lower.includes(part[0]) &&
        lower.includes(part[part.length - 1]) &&
        [...part].every((c) => lower.includes(c) || c === '-'),
    );
}
/** `[prefix/]name`, one slash at most. */
function isLabelKey(v: unknown): boolean {
  if (!isString(v)) return false;
  const parts = v.split('/');
  if (parts.length === 1) return isLabelName(v);
  return parts.length === 2 && isDnsSubdomain(parts[0]) && isLabelName(parts[1]);
}
const isLabelValue = (v: unknown) => isString(v) && (v === '' || isLabelName(v));
const labelMap = (v: unknown) =>
  isObject(v) && Object.entries(v).every(([k, value]) => isLabelKey(k) && isLabelValue(value));
/** A size in GiB as a string: "100" or "100Gi", 1 to 999999. */
function isSize(v: unknown): boolean {
  if (!isString(v)) return false;
  const digits = v.endsWith('Gi') ? v.slice(0, -2) : v;
  return (
    digits.length >= 1 && digits.length <= 6 && digits[0] !== '0' && [...digits].every((c) => c >= '0' && c <= '9')
  );
}
/** Maps of strings (extendParams, a volume's extendParams): string values; keys non-empty and never `__proto__`. */
const stringMap = (v: unknown) =>
  isObject(v) && Object.entries(v).every(([k, value]) => k !== '' && k !== '__proto__' && isString(value));
const oneOf =
  (...values: string[]) =>
  (v: unknown) =>
    isString(v) && values.includes(v);

const ANNOTATIONS: Record<string, (v: unknown) => boolean> = {
  'os.modelarts/billing.mode': oneOf('0', '1'),
  'os.modelarts/period.num': (v) => isString(v) && /^[1-9][0-9]{0,3}$/.test(v),
  'os.modelarts/period.type': oneOf('2', '3', '4'),
  'os.modelarts/auto.renew': oneOf('0', '1'),
  'os.modelarts/promotion.info': isString,
  'os.modelarts/service.console.url': isString,
  'os.modelarts/order.id': isString,
};

/**
 * A root volume (no `count`) or a data volume (an optional `count`, a required `extendParams` naming
 * its `volumeGroup`): `volumeType` and `size` required, `size` a string of GiB.
 */
function volume(v: unknown, where: string, data: boolean): void {
  const o = strict(
    v,
    where,
    data ? ['volumeType', 'size', 'count', 'extendParams'] : ['volumeType', 'size', 'extendParams'],
  );
  need(isString(o.volumeType) && o.volumeType.length > 0, `${where}.volumeType is required`);
  need(isSize(o.size), `${where}.size must be a size string`);
  optional(o, 'count', (c) => isCount(c, 1), where);
  if (data) {
    need(stringMap(o.extendParams), `${where}.extendParams must be a map of strings`);
    const group = (o.extendParams as Obj).volumeGroup;
    need(isString(group) && group.length > 0, `${where}.extendParams.volumeGroup is required`);
  } else optional(o, 'extendParams', stringMap, where);
}

function resources(v: unknown, metadataName: string): void {
  const where = 'spec.resources';
  const r = strict(v, where, [
    'flavor',
    'count',
    'maxCount',
    'azs',
    'nodePool',
    'taints',
    'labels',
    'tags',
    'network',
    'extendParams',
    'creatingStep',
    'os',
    'rootVolume',
    'dataVolumes',
    'volumeGroupConfigs',
  ]);
  need(isString(r.flavor) && r.flavor.length > 0, 'flavor must be a non-empty string');
  need(isCount(r.count, 1), 'count must be an integer 1..10000');
  need(isCount(r.maxCount, 1), 'maxCount must be an integer 1..10000');
  need((r.maxCount as number) >= (r.count as number), 'maxCount must be >= count');
  if (Object.hasOwn(r, 'azs') && !(Array.isArray(r.azs) && r.azs.length === 0)) {
    need(Array.isArray(r.azs), 'azs must be an array');
    const seen = new Set<string>();
    let total = 0;
    for (const az of r.azs as unknown[]) {
      const a = strict(az, 'azs[]', ['az', 'count']);
      need(isString(a.az) && a.az.length > 0, 'azs[].az must be a non-empty string');
      need(isCount(a.count, 1), 'azs[].count must be an integer 1..10000');
      need(!seen.has(a.az as string), 'an AZ is listed twice');
      seen.add(a.az as string);
      total += a.count as number;
    }
    need(total === r.count, 'azs counts must add up to count');
  }
  optional(r, 'nodePool', (n) => isString(n) && n === metadataName, where);
  if (Object.hasOwn(r, 'taints')) {
    need(Array.isArray(r.taints), 'taints must be an array');
    for (const t of r.taints as unknown[]) {
      const o = strict(t, 'taints[]', ['key', 'value', 'effect']);
      need(isLabelKey(o.key), 'taint key must be a Kubernetes label key');
      optional(o, 'value', isLabelValue, 'taints[]');
      need(oneOf('NoSchedule', 'PreferNoSchedule', 'NoExecute')(o.effect), 'taint effect');
    }
  }
  optional(r, 'labels', labelMap, where);
  if (Object.hasOwn(r, 'tags')) {
    need(Array.isArray(r.tags), 'tags must be an array');
    for (const t of r.tags as unknown[]) {
      const o = strict(t, 'tags[]', ['key', 'value']);
      need(
        isString(o.key) && o.key.length > 0 && !o.key.startsWith('CCE-') && !o.key.startsWith('__type_baremetal'),
        'tag key',
      );
      need(isString(o.value), 'tag value must be a string');
    }
  }
  if (Object.hasOwn(r, 'network')) {
    const n = strict(r.network, 'network', ['vpc', 'subnet', 'securityGroups']);
    optional(n, 'vpc', isString, 'network');
    optional(n, 'subnet', isString, 'network');
    optional(n, 'securityGroups', stringArray, 'network');
  }
  if (Object.hasOwn(r, 'extendParams')) {
    need(stringMap(r.extendParams), 'extendParams must be a map of string values');
    const e = r.extendParams as Obj;
    optional(e, 'dockerBaseSize', (d) => isString(d) && /^[0-9]{1,6}$/.test(d), 'extendParams');
    optional(e, 'postInstall', (d) => isString(d) && /^[A-Za-z0-9+/]*={0,2}$/.test(d), 'extendParams');
    optional(e, 'XParameterPlaneSubnet', isString, 'extendParams');
    optional(e, 'runtime', oneOf('docker', 'containerd'), 'extendParams');
    for (const key of ['labelPolicyOnExistingNodes', 'taintPolicyOnExistingNodes', 'tagPolicyOnExistingNodes'])
      optional(e, key, oneOf('refresh', 'ignore'), 'extendParams');
    optional(e, 'nodePoolName', (n) => isString(n) && NAME.test(n) && !n.endsWith('-default'), 'extendParams');
  }
  if (Object.hasOwn(r, 'creatingStep')) {
    const c = strict(r.creatingStep, 'creatingStep', ['step', 'type']);
    optional(c, 'step', (s) => isCount(s, 1), 'creatingStep');
    optional(c, 'type', oneOf('hyperinstance'), 'creatingStep');
    if (Object.hasOwn(c, 'step')) {
      const step = c.step as number;
      need((r.count as number) % step === 0, 'count must be a multiple of creatingStep.step');
      need((r.maxCount as number) % step === 0, 'maxCount must be a multiple of creatingStep.step');
    }
  }
  if (Object.hasOwn(r, 'os')) {
    const o = strict(r.os, 'os', ['name', 'imageId', 'imageType', 'autoMatch']);
    optional(o, 'name', isString, 'os');
    optional(o, 'imageId', isString, 'os');
    optional(o, 'imageType', oneOf('private', ''), 'os');
    optional(o, 'autoMatch', isString, 'os');
  }
  if (Object.hasOwn(r, 'rootVolume')) volume(r.rootVolume, 'rootVolume', false);
  if (Object.hasOwn(r, 'dataVolumes')) {
    need(Array.isArray(r.dataVolumes), 'dataVolumes must be an array');
    (r.dataVolumes as unknown[]).forEach((d) => volume(d, 'dataVolumes[]', true));
    if ((r.dataVolumes as unknown[]).length > 0)
      need(
        Array.isArray(r.volumeGroupConfigs) && r.volumeGroupConfigs.length > 0,
        'volumeGroupConfigs is required with data volumes',
      );
  }
  if (Object.hasOwn(r, 'volumeGroupConfigs')) {
    need(Array.isArray(r.volumeGroupConfigs), 'volumeGroupConfigs must be an array');
    for (const g of r.volumeGroupConfigs as unknown[]) {
      const o = strict(g, 'volumeGroupConfigs[]', ['volumeGroup', 'dockerThinPool', 'lvmConfig', 'types']);
      need(isString(o.volumeGroup) && o.volumeGroup.length > 0, 'volumeGroup must be non-empty');
      optional(
        o,
        'dockerThinPool',
        (n) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 100,
        'volumeGroupConfigs[]',
      );
      if (Object.hasOwn(o, 'lvmConfig')) {
        const l = strict(o.lvmConfig, 'lvmConfig', ['lvType', 'path']);
        need(oneOf('linear', 'striped')(l.lvType), 'lvType must be "linear" or "striped"');
        optional(l, 'path', isString, 'lvmConfig');
      }
      optional(o, 'types', (t) => Array.isArray(t) && t.every(oneOf('volume', 'local')), 'volumeGroupConfigs[]');
    }
  }
}

/** The first rule `rawBody` breaks, or undefined when poolgate must accept it. */
export function brokenRule(rawBody: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return 'not JSON';
  }
  try {
    const b = strict(body, '(body)', ['apiVersion', 'kind', 'metadata', 'spec']);
    need(b.apiVersion === 'v2', 'apiVersion must be "v2"');
    need(b.kind === 'NodePool', 'kind must be "NodePool"');
    const m = strict(b.metadata, 'metadata', ['name', 'annotations']);
    need(isString(m.name) && NAME.test(m.name), 'metadata.name');
    need(!(m.name as string).endsWith('-default'), 'metadata.name must not end with -default');
    if (Object.hasOwn(m, 'annotations')) {
      const a = strict(m.annotations, 'annotations', Object.keys(ANNOTATIONS));
      for (const [key, check] of Object.entries(ANNOTATIONS)) optional(a, key, check, 'annotations');
      if (a['os.modelarts/billing.mode'] === '1') {
        need(
          Object.hasOwn(a, 'os.modelarts/period.num') && Object.hasOwn(a, 'os.modelarts/period.type'),
          'yearly/monthly needs period.num and period.type',
        );
      }
    }
    const s = strict(b.spec, 'spec', ['resources']);
    need(Object.hasOwn(s, 'resources'), 'spec.resources is required');
    resources(s.resources, m.name as string);
    return undefined;
  } catch (error) {
    if (error instanceof Broken) return error.message;
    throw error;
  }
}
