/**
 * The request body of ModelArts "Create a node pool" (shared/reference/modelarts-create-node-pool.txt),
 * as a zod schema, with the departures poolgate makes (DESIGN.md, README "Departures").
 *
 * Two variants share every building block:
 * - `NodePoolRequestSchema`: what poolgate accepts (spec.resources required, azs add up, nodePool = name);
 * - `ModelArtsNodePoolSchema`: what ModelArts itself accepts (the local simulator validates with it).
 */
import * as z from 'zod';

/** poolgate answers 413 above this many bytes of body. */
export const MAX_BODY_BYTES = 65536;
/** A generous ceiling on node counts, so absurd integers are refused with a clear message. */
export const MAX_NODE_COUNT = 10000;

const nonEmpty = (what = 'a non-empty string') => z.string({ error: `must be ${what}` }).min(1, `must be ${what}`);
const str = () => z.string({ error: 'must be a string' });
const int = (min: number) =>
  z
    .number({ error: `must be an integer >= ${min}` })
    .int(`must be an integer >= ${min}`)
    .min(min, `must be an integer >= ${min}`)
    .max(MAX_NODE_COUNT, `must be at most ${MAX_NODE_COUNT}`);
const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(', ')}` });
const stringMap = () => z.record(z.string(), str(), { error: 'must be an object of string values' });

/**
 * Node pool names: 2-50 characters, lowercase letters, digits and `-`, starting with a letter and not
 * ending with `-` (the SDK's rule for extendParams.nodePoolName; the API page's failure example is
 * "Bad request. invalid nodepool name").
 */
const NODE_POOL_NAME = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
const nodePoolName = () =>
  nonEmpty().regex(NODE_POOL_NAME, 'must be 2-50 lowercase letters, digits or "-", start with a letter and not end with "-"');

/** Annotations: only the seven documented keys, every value a string. */
export const AnnotationsSchema = z
  .strictObject(
    {
      'os.modelarts/billing.mode': oneOf(['0', '1']).optional(),
      'os.modelarts/period.num': str().regex(/^[1-9]\d{0,3}$/, 'must be a positive integer string such as "2"').optional(),
      'os.modelarts/period.type': oneOf(['2', '3', '4']).optional(),
      'os.modelarts/auto.renew': oneOf(['0', '1']).optional(),
      'os.modelarts/promotion.info': str().optional(),
      'os.modelarts/service.console.url': str().optional(),
      'os.modelarts/order.id': str().optional(),
    },
    { error: 'must be an object' },
  )
  .superRefine((a, ctx) => {
    if (a['os.modelarts/billing.mode'] !== '1') return;
    for (const key of ['os.modelarts/period.num', 'os.modelarts/period.type'] as const) {
      if (a[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'is required when os.modelarts/billing.mode is "1" (yearly/monthly)' });
    }
  });

const MetadataSchema = z.strictObject({ name: nodePoolName(), annotations: AnnotationsSchema.optional() }, { error: 'must be an object' });

const AzSchema = z.strictObject({ az: nonEmpty(), count: int(1) }, { error: 'must be an object' });
const TaintSchema = z.strictObject(
  { key: nonEmpty(), value: str().optional(), effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) },
  { error: 'must be an object' },
);
const TagSchema = z.strictObject(
  {
    key: nonEmpty().refine((k) => !k.startsWith('CCE-') && !k.startsWith('__type_baremetal'), 'must not start with "CCE-" or "__type_baremetal"'),
    value: str(),
  },
  { error: 'must be an object' },
);
const NetworkSchema = z.strictObject(
  { vpc: str().optional(), subnet: str().optional(), securityGroups: z.array(str(), { error: 'must be an array of strings' }).optional() },
  { error: 'must be an object' },
);
/** extendParams: the documented keys only (API page + SDK model), all string values. */
const ExtendParamsSchema = z.strictObject(
  {
    dockerBaseSize: str().optional(),
    postInstall: str().optional(),
    runtime: oneOf(['docker', 'containerd']).optional(),
    labelPolicyOnExistingNodes: oneOf(['refresh', 'ignore']).optional(),
    taintPolicyOnExistingNodes: oneOf(['refresh', 'ignore']).optional(),
    tagPolicyOnExistingNodes: oneOf(['refresh', 'ignore']).optional(),
    XParameterPlaneSubnet: str().optional(),
    nodePoolName: nodePoolName()
      .refine((n) => !n.endsWith('-default'), 'must not end with "-default"')
      .optional(),
  },
  { error: 'must be an object' },
);
const CreatingStepSchema = z.strictObject({ step: int(1).optional(), type: oneOf(['hyperinstance']).optional() }, { error: 'must be an object' });
const OsSchema = z.strictObject(
  {
    name: str().optional(),
    imageId: str().optional(),
    // The notes list "" besides "private" (the SDK model allows an empty type).
    imageType: z.enum(['private', ''], { error: 'must be "private"' }).optional(),
    autoMatch: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'must be an object' },
);
/**
 * Volumes are not on the API page but the real API has them (SDK model): accepted and passed through,
 * as strict objects of the SDK's fields so that typos are still refused.
 */
const VolumeSchema = z.strictObject(
  { volumeType: str().optional(), size: z.union([str(), z.number()], { error: 'must be a string or a number' }).optional(), count: int(1).optional(), extendParams: stringMap().optional() },
  { error: 'must be an object' },
);
const VolumeGroupConfigSchema = z.strictObject(
  {
    volumeGroup: nonEmpty(),
    dockerThinPool: z.number({ error: 'must be a number' }).optional(),
    lvmConfig: z.strictObject({ lvType: str(), path: str().optional() }, { error: 'must be an object' }).optional(),
    types: z.array(str(), { error: 'must be an array of strings' }).optional(),
  },
  { error: 'must be an object' },
);

const resourceFields = {
  flavor: nonEmpty(),
  count: int(1),
  maxCount: int(1),
  azs: z.array(AzSchema, { error: 'must be an array' }).optional(),
  nodePool: str().optional(),
  taints: z.array(TaintSchema, { error: 'must be an array' }).optional(),
  labels: stringMap().optional(),
  tags: z.array(TagSchema, { error: 'must be an array' }).optional(),
  network: NetworkSchema.optional(),
  extendParams: ExtendParamsSchema.optional(),
  creatingStep: CreatingStepSchema.optional(),
  os: OsSchema.optional(),
  rootVolume: VolumeSchema.optional(),
  dataVolumes: z.array(VolumeSchema, { error: 'must be an array' }).optional(),
  volumeGroupConfigs: z.array(VolumeGroupConfigSchema, { error: 'must be an array' }).optional(),
};

type Resources = z.infer<z.ZodObject<typeof resourceFields>>;

/** Rules ModelArts itself states: maxCount >= count, no AZ twice. */
function modelArtsResourceRules(r: Resources, ctx: z.RefinementCtx): void {
  if (r.maxCount < r.count) ctx.addIssue({ code: 'custom', path: ['maxCount'], message: `must be >= count (${r.count})` });
  const seen = new Set<string>();
  r.azs?.forEach((az, i) => {
    if (seen.has(az.az)) ctx.addIssue({ code: 'custom', path: ['azs', i, 'az'], message: `lists AZ "${az.az}" twice` });
    seen.add(az.az);
  });
}

/** poolgate's stricter rule: the AZ counts add up to count. */
function poolgateResourceRules(r: Resources, ctx: z.RefinementCtx): void {
  modelArtsResourceRules(r, ctx);
  const total = r.azs?.reduce((sum, az) => sum + az.count, 0);
  if (r.azs && total !== r.count) ctx.addIssue({ code: 'custom', path: ['azs'], message: `counts add up to ${total}, must add up to count (${r.count})` });
}

const ModelArtsResourcesSchema = z.strictObject(resourceFields, { error: 'must be an object' }).superRefine(modelArtsResourceRules);
const PoolgateResourcesSchema = z.strictObject(resourceFields, { error: 'must be an object' }).superRefine(poolgateResourceRules);

const envelope = {
  apiVersion: oneOf(['v2']),
  kind: oneOf(['NodePool']),
  metadata: MetadataSchema,
};

/** What poolgate accepts. */
export const NodePoolRequestSchema = z
  .strictObject({ ...envelope, spec: z.strictObject({ resources: PoolgateResourcesSchema }, { error: 'must be an object' }) }, { error: 'must be an object' })
  .superRefine((body, ctx) => {
    const nodePool = body.spec.resources.nodePool;
    if (nodePool !== undefined && nodePool !== body.metadata.name) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'resources', 'nodePool'], message: `must equal metadata.name ("${truncate(body.metadata.name)}")` });
    }
  });
export type NodePoolRequest = z.infer<typeof NodePoolRequestSchema>;

/** What ModelArts accepts (the API page as written): spec and resources optional. */
export const ModelArtsNodePoolSchema = z.strictObject(
  { ...envelope, spec: z.strictObject({ resources: ModelArtsResourcesSchema.optional() }, { error: 'must be an object' }).optional() },
  { error: 'must be an object' },
);
export type ModelArtsNodePool = z.infer<typeof ModelArtsNodePoolSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/** Parses a raw body; the message names each offending field path and its rule (at most five). */
export function parseNodePoolRequest<S extends z.ZodType = typeof NodePoolRequestSchema>(rawBody: string, schema?: S): ParseResult<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, message: 'request body is not valid JSON' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, message: 'request body must be a JSON object' };
  const result = (schema ?? NodePoolRequestSchema).safeParse(json);
  if (result.success) return { ok: true, value: result.data as z.infer<S> };
  return { ok: false, message: result.error.issues.slice(0, 5).map(describeIssue).join('; ') };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`).join('; ');
  }
  return `${formatPath(issue.path) || '(body)'}: ${issue.message}`;
}

/** `spec.resources.azs[0].count`; keys with dots (annotations) stay readable as they are. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${truncate(String(part))}` : truncate(String(part))), '');
}

function truncate(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}...` : value;
}
