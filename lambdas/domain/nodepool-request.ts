/**
 * The request body of ModelArts "Create a node pool"
 * (https://support.huaweicloud.com/intl/en-us/api-modelarts/CreateNodePool.html),
 * as zod schemas, with the departures poolgate makes (DESIGN.md "Departures from the API page",
 * README "Departures").
 *
 * Two variants are assembled from the same building blocks:
 * - `NodePoolRequestSchema`: what poolgate accepts at submit. Stricter than the page: `spec.resources`
 *   required, a non-empty `azs` adds up to `count`, `nodePool` (when given) equals `metadata.name`.
 * - `ModelArtsNodePoolSchema`: what ModelArts itself accepts (the local simulator validates with it):
 *   `spec` optional as on the page, none of poolgate's own cross-field departures.
 *
 * Both share the rules ModelArts applies beyond its page, read from Huawei's SDK models and the
 * Terraform provider (docs/modelarts.md "What ModelArts accepts"): the fields the SDK models require
 * (`rootVolume` and data volume fields, `volumeGroupConfigs` with custom data volumes), Kubernetes
 * label syntax for labels and taints, no user node pool named `...-default`, counts that are
 * multiples of `creatingStep.step`, and `extendParams` as a map of strings.
 *
 * zod/mini (the functional API of zod 4: a bundle carries only the checks used, about 70 KB less
 * than `zod`), the same engine and issues. Every rule carries its own message; `parseNodePoolRequest` turns zod issues into
 * `<field path>: <rule>` sentences (no raw zod output, echoed values cut to 64 characters).
 * Pure: no I/O.
 */
import * as z from 'zod/mini';

/** poolgate answers 413 above this many bytes of body (the handler checks it, before parsing). */
export const MAX_BODY_BYTES = 65536;
/**
 * A generous ceiling on every integer of the body (node counts, AZ counts, steps), so absurd values
 * (2^31 and beyond, which ModelArts' int32 fields could not hold anyway) get a clear refusal.
 */
export const MAX_NODE_COUNT = 10000;
/** At most this many problems are listed in one message. */
const MAX_LISTED_ISSUES = 5;
/** Values and keys echoed in a message are cut to this many characters. */
const MAX_ECHO_CHARS = 64;

// ---------------------------------------------------------------------------------------------
// Primitive building blocks: each one states its rule in the words the message will use.
// ---------------------------------------------------------------------------------------------

/** Any string (optional strings may be empty: ModelArts clients send `""` for "not set"). */
const str = (rule = 'must be a string') => z.string({ error: rule });

/** A required string: present and non-empty (DESIGN departure: required strings are non-empty). */
const nonEmpty = () => {
  const rule = 'must be a non-empty string';
  return z.string({ error: rule }).check(z.minLength(1, { error: rule, abort: true }));
};

/** An integer in [min, max]; 1.5, "1", Infinity and 2^40 are all refused. */
const integer = (min: number, max: number) => {
  const rule = `must be an integer >= ${min}`;
  return z
    .number({ error: rule })
    .check(
      z.int({ error: rule, abort: true }),
      z.gte(min, { error: rule, abort: true }),
      z.lte(max, { error: `must be <= ${max}` }),
    );
};

/** A node or instance count: an integer from 1 to MAX_NODE_COUNT. */
const count = () => integer(1, MAX_NODE_COUNT);

/** `"a"` / `one of "a", "b"`, as the messages list allowed values. */
const listOf = (values: readonly string[]) =>
  values.length === 1 ? `"${values[0]}"` : `one of ${values.map((v) => `"${v}"`).join(', ')}`;

/** A string enum; a value of another type (1 for "1") is told it must be a string. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (issue) =>
      issue.input === undefined || typeof issue.input === 'string'
        ? `must be ${listOf(values)}`
        : `must be a string, ${listOf(values)}`,
  });

/** A JSON object with exactly these fields: any other field is reported as "unknown field". */
const obj = <S extends z.core.$ZodLooseShape>(shape: S) => z.strictObject(shape, { error: 'must be an object' });

/** A JSON array of `item`. */
const list = <T extends z.core.SomeType>(item: T, rule = 'must be an array') => z.array(item, { error: rule });

/** Refuses the empty key and `__proto__` (which zod would silently drop) before a map is parsed. */
const mapKeysCheck = () =>
  z.transform((input: unknown, ctx) => {
    if (isPlainObject(input)) {
      for (const key of Object.keys(input)) {
        if (key === '' || key === '__proto__') {
          ctx.issues.push({ code: 'custom', message: `must not have the key "${key}"`, input, path: [] });
        }
      }
    }
    return input;
  });

/**
 * A free map of string values (a root volume's `extendParams`): any key, every value a string.
 * Keys must be non-empty, and `__proto__` is refused rather than silently dropped (zod drops it).
 */
const stringMap = () =>
  z.pipe(
    mapKeysCheck(),
    z.record(z.string(), str('must be a string'), { error: 'must be an object of string values' }),
  );

/**
 * A map of string values in which some keys have their own rules (`spec.resources.extendParams`, a
 * data volume's `extendParams`): the known keys are checked by `shape`, any other key passes as long
 * as its value is a string.
 */
const stringMapWith = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.pipe(
    mapKeysCheck(),
    z.catchall(z.object(shape, { error: 'must be an object of string values' }), str('must be a string')),
  );

// ---------------------------------------------------------------------------------------------
// Kubernetes labels (the page calls `labels` Kubernetes labels; taints follow the same syntax)
// ---------------------------------------------------------------------------------------------

/** A label name, or a label value when not empty: at most 63 alphanumerics, "-", "_", ".", alphanumeric at both ends. */
const LABEL_NAME = /^(?=.{1,63}$)[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
/** A DNS subdomain (a label key's prefix): dot-separated lowercase labels, at most 253 characters. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const LABEL_KEY_RULE =
  'must be a Kubernetes label key: [DNS subdomain prefix/]name, the name 1-63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';
const LABEL_VALUE_RULE =
  'must be a Kubernetes label value: empty, or 1-63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';

/** Kubernetes label key syntax: `[prefix/]name`. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return LABEL_NAME.test(key);
  return DNS_SUBDOMAIN.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

/** Kubernetes label value syntax: empty, or a label name. */
export function isLabelValue(value: string): boolean {
  return value === '' || LABEL_NAME.test(value);
}

const labelKey = () => nonEmpty().check(z.refine(isLabelKey, { error: LABEL_KEY_RULE }));
const labelValue = () => str().check(z.refine(isLabelValue, { error: LABEL_VALUE_RULE }));

/**
 * `labels`: Kubernetes labels. A key breaking the syntax is reported at its own path
 * (`spec.resources.labels["team name"]: must be a Kubernetes label key ...`).
 */
const labelMap = () =>
  z.pipe(
    z.transform((input: unknown, ctx) => {
      if (isPlainObject(input)) {
        for (const key of Object.keys(input)) {
          if (!isLabelKey(key)) ctx.issues.push({ code: 'custom', message: LABEL_KEY_RULE, input, path: [key] });
        }
      }
      return input;
    }),
    z.record(z.string(), labelValue(), { error: 'must be an object of string values' }),
  );

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/**
 * Node pool names. The API page gives no rule for `metadata.name`, but its naming failure example
 * is 400 "Bad request. invalid nodepool name", and the SDK model documents the rule for
 * `extendParams.nodePoolName` (SDK model ResourceExtendParams, docs/modelarts.md):
 * 2-50 characters, lowercase letters, digits and "-", starting with a lowercase letter, not ending
 * with "-". The message states the whole rule, whichever part is broken.
 */
const NODE_POOL_NAME = /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/;
const NODE_POOL_NAME_RULE = 'must be 2-50 lowercase letters, digits or "-", start with a letter and not end with "-"';
/** ModelArts names each pool's own default node pool `<...>-default`: a user's node pool never ends so. */
export const DEFAULT_NODE_POOL_SUFFIX = '-default';
const NOT_DEFAULT_RULE = `must not end with "${DEFAULT_NODE_POOL_SUFFIX}" (the name of a pool's own default node pool)`;

/** A node pool name (see NODE_POOL_NAME), never that of a pool's default node pool. */
const nodePoolName = () =>
  nonEmpty().check(
    z.regex(NODE_POOL_NAME, { error: NODE_POOL_NAME_RULE, abort: true }),
    z.refine((name) => !name.endsWith(DEFAULT_NODE_POOL_SUFFIX), { error: NOT_DEFAULT_RULE }),
  );

// ---------------------------------------------------------------------------------------------
// Cross-field rules
// ---------------------------------------------------------------------------------------------

type Path = readonly PropertyKey[];

const startsWith = (path: Path, prefix: Path) =>
  prefix.length <= path.length && prefix.every((part, i) => path[i] === part);

/**
 * Options for a cross-field `superRefine`: it runs as soon as the fields it reads are valid, even
 * when other fields are not, so one answer lists every problem; it is skipped while one of those
 * fields (or what contains it) is itself wrong. The rule may read only the fields named here.
 */
function whenValid(...fields: Path[]): z.core.$ZodSuperRefineParams {
  return {
    when: (payload) =>
      isPlainObject(payload.value) &&
      !payload.issues.some(
        (issue) =>
          issue.code !== 'unrecognized_keys' &&
          fields.some((field) => startsWith(issue.path ?? [], field) || startsWith(field, issue.path ?? [])),
      ),
  };
}

// ---------------------------------------------------------------------------------------------
// metadata
// ---------------------------------------------------------------------------------------------

const BILLING_MODE = 'os.modelarts/billing.mode';

/**
 * `metadata.annotations`: only the seven documented keys, every value a string (Table 4).
 * `period.num` is a positive integer string (DESIGN departure); `period.num` and `period.type` are
 * mandatory for yearly/monthly (billing mode "1"), as the page says. `order.id` is not required
 * here: for poolgate the finance approver may supply it later (DESIGN).
 */
export const AnnotationsSchema = obj({
  [BILLING_MODE]: z.optional(oneOf(['0', '1'])),
  'os.modelarts/period.num': z.optional(
    str('must be a positive integer string such as "2"').check(
      z.regex(/^[1-9]\d{0,3}$/, { error: 'must be a positive integer string such as "2"' }),
    ),
  ),
  'os.modelarts/period.type': z.optional(oneOf(['2', '3', '4'])),
  'os.modelarts/auto.renew': z.optional(oneOf(['0', '1'])),
  'os.modelarts/promotion.info': z.optional(str()),
  'os.modelarts/service.console.url': z.optional(str()),
  'os.modelarts/order.id': z.optional(str()),
}).check(
  z.superRefine(
    (annotations, ctx) => {
      if (annotations[BILLING_MODE] !== '1') return;
      for (const key of ['os.modelarts/period.num', 'os.modelarts/period.type'] as const) {
        if (annotations[key] === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `is required when ${BILLING_MODE} is "1" (yearly/monthly)`,
          });
        }
      }
    },
    whenValid([BILLING_MODE]),
  ),
);
export type Annotations = z.infer<typeof AnnotationsSchema>;

/** `metadata`: the node pool name and its annotations (Table 3). */
const MetadataSchema = obj({ name: nodePoolName(), annotations: z.optional(AnnotationsSchema) });

// ---------------------------------------------------------------------------------------------
// spec.resources parts
// ---------------------------------------------------------------------------------------------

/** `azs[]` (Table 7): an AZ and how many nodes go there. */
const AzSchema = obj({ az: nonEmpty(), count: count() });

/** `taints[]` (Table 8): Kubernetes taints, so key and value follow label syntax and the effect is a Kubernetes effect. */
const TaintSchema = obj({
  key: labelKey(),
  value: z.optional(labelValue()),
  effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

/** `tags[]` (Table 9): the key must not start with "CCE-" or "__type_baremetal"; the value may be empty. */
const TagSchema = obj({
  key: nonEmpty().check(
    z.refine((key) => !key.startsWith('CCE-') && !key.startsWith('__type_baremetal'), {
      error: 'must not start with "CCE-" or "__type_baremetal"',
    }),
  ),
  value: str(),
});

/** `network` (Table 10): VPC, subnet and security group IDs. */
const NetworkSchema = obj({
  vpc: z.optional(str()),
  subnet: z.optional(str()),
  securityGroups: z.optional(list(str(), 'must be an array of strings')),
});

/**
 * `extendParams`: a Map<String,String> on the page, and real clients send keys the SDK models do
 * not list (`kubernetesLVSize`, `driverPolicyOnExistingNodes`, Terraform's `post_install`): any key
 * passes with a string value. The keys the SDK models document (ResourceExtendParams) keep their
 * value checks: `dockerBaseSize` is a size in GiB ("0" = unlimited), `postInstall` a Base64 script.
 */
const ExtendParamsSchema = stringMapWith({
  dockerBaseSize: z.optional(
    str('must be a whole number string such as "50" ("0" = no limit)').check(
      z.regex(/^\d{1,6}$/, { error: 'must be a whole number string such as "50" ("0" = no limit)' }),
    ),
  ),
  postInstall: z.optional(
    str('must be a Base64-encoded string').check(
      z.regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: 'must be a Base64-encoded string' }),
    ),
  ),
  runtime: z.optional(oneOf(['docker', 'containerd'])),
  labelPolicyOnExistingNodes: z.optional(oneOf(['refresh', 'ignore'])),
  taintPolicyOnExistingNodes: z.optional(oneOf(['refresh', 'ignore'])),
  tagPolicyOnExistingNodes: z.optional(oneOf(['refresh', 'ignore'])),
  XParameterPlaneSubnet: z.optional(str()),
  nodePoolName: z.optional(nodePoolName()),
});

/** `creatingStep` (Table 11): batch creation of supernodes. */
const CreatingStepSchema = obj({ step: z.optional(count()), type: z.optional(oneOf(['hyperinstance'])) });

/**
 * `os` (Table 12). `imageType` also accepts "" (= a preset image), as the notes and the SDK say.
 * `autoMatch` is not on the page: the SDK models (Go, Node) type it as a string, an OS name and
 * version such as "EulerOS 2.5" that makes ModelArts pick the best image; a boolean is refused.
 */
const OsSchema = obj({
  name: z.optional(str()),
  imageId: z.optional(str()),
  imageType: z.optional(oneOf(['private', ''])),
  autoMatch: z.optional(str('must be a string (an OS name and version such as "EulerOS 2.5")')),
});

/**
 * Volumes are not on the page; the real API has them (SDK models RootVolume, DataVolumeItem,
 * VolumeGroupConfig) and poolgate passes them through (DESIGN), with the fields the SDK models
 * require. Sizes are strings of GiB as the SDKs and Terraform write them: "100" or "100Gi" (a
 * number is refused).
 */
const SIZE_RULE = 'must be a size in GiB as a string, such as "100" or "100Gi"';
const size = () => nonEmpty().check(z.regex(/^[1-9]\d{0,5}(Gi)?$/, { error: SIZE_RULE }));

/** `rootVolume`: the system disk; `volumeType` and `size` required. */
const RootVolumeSchema = obj({ volumeType: nonEmpty(), size: size(), extendParams: z.optional(stringMap()) });

/**
 * `dataVolumes[]`: data disks, optionally several alike (`count`). `extendParams` is required and
 * names the volume group the disk joins (the Go SDK sends `"extendParams": null` when a caller
 * leaves it unset, which ModelArts refuses); CCE's other volume keys pass as strings.
 */
const DataVolumeSchema = obj({
  volumeType: nonEmpty(),
  size: size(),
  count: z.optional(count()),
  extendParams: stringMapWith({ volumeGroup: nonEmpty() }),
});

/**
 * `volumeGroupConfigs[]` (required by ModelArts with custom data disks): `volumeGroup` names the
 * group that data volumes reference; `dockerThinPool` is a percentage; `lvmConfig.lvType` and
 * `types` take the values the SDK documents.
 */
const VolumeGroupConfigSchema = obj({
  volumeGroup: nonEmpty(),
  dockerThinPool: z.optional(integer(0, 100)),
  lvmConfig: z.optional(obj({ lvType: oneOf(['linear', 'striped']), path: z.optional(str()) })),
  types: z.optional(list(oneOf(['volume', 'local']))),
});

// ---------------------------------------------------------------------------------------------
// spec.resources
// ---------------------------------------------------------------------------------------------

/** `spec.resources` fields (Table 6, plus the pass-through fields of DESIGN). */
const resourceFields = {
  flavor: nonEmpty(),
  count: count(),
  maxCount: count(),
  azs: z.optional(list(AzSchema)),
  nodePool: z.optional(str()),
  taints: z.optional(list(TaintSchema)),
  labels: z.optional(labelMap()),
  tags: z.optional(list(TagSchema)),
  network: z.optional(NetworkSchema),
  extendParams: z.optional(ExtendParamsSchema),
  creatingStep: z.optional(CreatingStepSchema),
  os: z.optional(OsSchema),
  rootVolume: z.optional(RootVolumeSchema),
  dataVolumes: z.optional(list(DataVolumeSchema)),
  volumeGroupConfigs: z.optional(list(VolumeGroupConfigSchema)),
};
const ResourcesShape = obj(resourceFields);
export type PoolResource = z.infer<typeof ResourcesShape>;

/** ModelArts' own rule (Table 6): maxCount is at least count (equal in a physical pool, checked later). */
function maxCountRule(r: PoolResource, ctx: z.core.$RefinementCtx<PoolResource>): void {
  if (r.maxCount < r.count)
    ctx.addIssue({ code: 'custom', path: ['maxCount'], message: `must be >= count (${r.count})` });
}

/** An AZ appears once in `azs`. */
function uniqueAzRule(r: PoolResource, ctx: z.core.$RefinementCtx<PoolResource>): void {
  const firstIndex = new Map<string, number>();
  r.azs?.forEach(({ az }, i) => {
    const first = firstIndex.get(az);
    if (first === undefined) firstIndex.set(az, i);
    else ctx.addIssue({ code: 'custom', path: ['azs', i, 'az'], message: `repeats azs[${first}].az (${quote(az)})` });
  });
}

/**
 * With `creatingStep` (supernodes created `step` at a time), `count` and `maxCount` are whole
 * multiples of the step (the Terraform provider's docs of the same rule for pools).
 */
function creatingStepRule(r: PoolResource, ctx: z.core.$RefinementCtx<PoolResource>): void {
  const step = r.creatingStep?.step;
  if (step === undefined) return;
  for (const field of ['count', 'maxCount'] as const) {
    if (r[field] % step !== 0)
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `must be a multiple of creatingStep.step (${step}) (got ${r[field]})`,
      });
  }
}

/** Custom data volumes need their volume groups configured (`volumeGroupConfigs`, SDK model comment). */
function volumeGroupConfigsRule(r: PoolResource, ctx: z.core.$RefinementCtx<PoolResource>): void {
  if (r.dataVolumes?.length && !r.volumeGroupConfigs?.length)
    ctx.addIssue({
      code: 'custom',
      path: ['volumeGroupConfigs'],
      message: 'is required when dataVolumes are given (the volume groups the data volumes join)',
    });
}

/** poolgate's departure: when `azs` names zones, their counts add up to `count` (`[]`: no zone chosen). */
function azsSumRule(r: PoolResource, ctx: z.core.$RefinementCtx<PoolResource>): void {
  if (!r.azs?.length) return;
  const total = r.azs.reduce((sum, az) => sum + az.count, 0);
  if (total !== r.count)
    ctx.addIssue({ code: 'custom', path: ['azs'], message: `counts must add up to count (${r.count}) (got ${total})` });
}

/** `spec.resources` as ModelArts checks it. */
const ModelArtsResourcesSchema = ResourcesShape.check(
  z.superRefine(maxCountRule, whenValid(['count'], ['maxCount'])),
  z.superRefine(uniqueAzRule, whenValid(['azs'])),
  z.superRefine(creatingStepRule, whenValid(['count'], ['maxCount'], ['creatingStep'])),
  z.superRefine(volumeGroupConfigsRule, whenValid(['dataVolumes'], ['volumeGroupConfigs'])),
);
/** `spec.resources` as poolgate checks it: ModelArts' rules plus the AZ sum. */
const PoolgateResourcesSchema = ModelArtsResourcesSchema.check(
  z.superRefine(azsSumRule, whenValid(['count'], ['azs'])),
);

// ---------------------------------------------------------------------------------------------
// The two bodies
// ---------------------------------------------------------------------------------------------

/** `apiVersion`, `kind` and `metadata`, common to both variants (Table 2). */
const envelope = {
  apiVersion: oneOf(['v2']),
  kind: oneOf(['NodePool']),
  metadata: MetadataSchema,
};

/** What poolgate accepts: `spec.resources` required (DESIGN departure), plus its cross-field rules. */
export const NodePoolRequestSchema = obj({ ...envelope, spec: obj({ resources: PoolgateResourcesSchema }) }).check(
  z.superRefine(
    (body, ctx) => {
      const { nodePool } = body.spec.resources;
      if (nodePool !== undefined && nodePool !== body.metadata.name) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', 'resources', 'nodePool'],
          message: `must equal metadata.name (${quote(body.metadata.name)})`,
          input: nodePool,
        });
      }
    },
    whenValid(['metadata', 'name'], ['spec', 'resources', 'nodePool']),
  ),
);
export type NodePoolRequest = z.infer<typeof NodePoolRequestSchema>;

/**
 * What ModelArts accepts, the page as written: `spec` optional (Table 2); when given, its
 * `resources` is mandatory (Table 5). `nodePool` may differ from the name and `azs` need not add up.
 */
export const ModelArtsNodePoolSchema = obj({
  ...envelope,
  spec: z.optional(obj({ resources: ModelArtsResourcesSchema })),
});
export type ModelArtsNodePool = z.infer<typeof ModelArtsNodePoolSchema>;

// ---------------------------------------------------------------------------------------------
// Parsing and messages
// ---------------------------------------------------------------------------------------------

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * Parses a raw request body against `schema` (poolgate's by default). On failure the message is
 * "request body is not valid JSON", "request body must be a JSON object", or up to five
 * `<field path>: <rule>` problems joined with "; " (then "and N more problems").
 */
export function parseNodePoolRequest<S extends z.ZodMiniType = typeof NodePoolRequestSchema>(
  rawBody: string,
  schema?: S,
): ParseResult<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { ok: false, message: 'request body is not valid JSON' };
  }
  if (!isPlainObject(json)) return { ok: false, message: 'request body must be a JSON object' };
  const result = (schema ?? NodePoolRequestSchema).safeParse(json, { reportInput: true });
  if (result.success) return { ok: true, value: result.data as z.infer<S> };
  return { ok: false, message: describeIssues(result.error.issues) };
}

/** The first MAX_LISTED_ISSUES problems, one per unknown key, joined with "; ". */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const problems = issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`)
      : [describeIssue(issue)],
  );
  const listed = problems.slice(0, MAX_LISTED_ISSUES).join('; ');
  const more = problems.length - MAX_LISTED_ISSUES;
  return more > 0 ? `${listed}; and ${more} more problem${more === 1 ? '' : 's'}` : listed;
}

/** `<path>: <rule>`, "is required and <rule>" for a missing field, "(got <value>)" for a wrong one. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path) || 'body';
  // A missing field reaches its schema as `undefined`: a type (or enum) issue without input.
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value'))
    return `${path}: is required and ${issue.message}`;
  // Cross-field rules carry the whole object as input; their message says what is wrong already.
  const echo =
    issue.input === undefined || (issue.code === 'custom' && typeof issue.input === 'object')
      ? ''
      : ` (got ${preview(issue.input)})`;
  return `${path}: ${issue.message}${echo}`;
}

/** A key printed as is in a path; annotation keys (`os.modelarts/billing.mode`) are plain too. */
const PLAIN_KEY = /^[A-Za-z0-9_][\w./-]*$/;

/**
 * `spec.resources.azs[0].count`. Keys with dots and slashes (annotations) stay readable as they are;
 * any other key (spaces, empty, unicode) is quoted: `spec.resources.labels["my label"]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === 'number') return `${acc}[${part}]`;
    const key = String(part);
    if (!PLAIN_KEY.test(key)) return `${acc}[${quote(key)}]`;
    return acc ? `${acc}.${truncate(key)}` : truncate(key);
  }, '');
}

/** A short, safe rendering of a wrong value: strings quoted and cut, containers named. */
function preview(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects returned above; what is left prints as itself
  return truncate(String(value));
}

function quote(value: string): string {
  return JSON.stringify(truncate(value));
}

/** Cuts to MAX_ECHO_CHARS code points (never half a surrogate pair). */
function truncate(value: string): string {
  const chars = Array.from(value);
  return chars.length > MAX_ECHO_CHARS ? `${chars.slice(0, MAX_ECHO_CHARS).join('')}...` : value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
