/**
 * ModelArts' PatchNodePool body (https://support.huaweicloud.com/intl/en-us/api-modelarts/PatchNodePool.html)
 * as poolgate gates it: an RFC 7396 merge patch (https://www.rfc-editor.org/rfc/rfc7396) of the node
 * pool's spec, of which only the count, maxCount, zones, labels and taints may change.
 *
 *  1. the body is a PatchNodePool: `spec.resources` with `flavor`, `count` and `maxCount` (ModelArts
 *     requires them), optional `metadata.annotations` (billing of added nodes), `kind` and `apiVersion`
 *     as a read node pool carries them;
 *  2. `null` removes a key (merge-patch) only among the labels; anywhere else it is refused;
 *  3. poolgate's ownership label cannot be removed or changed;
 *  4. the patch is merged onto the node pool's current spec (as ModelArts shows it), and every field
 *     but count, maxCount, azs, labels and taints must come out unchanged (a client that reads,
 *     modifies and sends back the whole spec works); the first one that changed is named;
 *  5. the merged node pool passes the create rules (nodepool-request.ts);
 *  6. the change is a `scale-up` (more nodes), a `scale-down` (fewer) or an `update` (labels, taints,
 *     maxCount or zones only), which decides its approvals, quota and tracking.
 * What is sent to ModelArts is the patch itself (labels as merge-patch, `null` included), completed
 * with the merged `flavor`, `count` and `maxCount` and with poolgate's label, always.
 * Pure: no I/O. Every refusal is a ValidationError (400 `ModelArts.50004000`) naming the field path.
 */
import { ANNOTATION, type BillingMode } from './billing';
import { ValidationError } from './errors';
import { applyMergePatch } from './merge-patch';
import type { ScaleChange, ScaleChangeKind } from './scale-change';
import { OWNER_LABEL } from './modelarts';
import { AnnotationsSchema, formatPath, parseNodePoolRequest, type NodePoolRequest } from './nodepool-request';

export { SCALE_CHANGE_KINDS, describeChange, type ScaleChange, type ScaleChangeKind } from './scale-change';

/** The fields of `spec.resources` a PATCH through poolgate may change. */
export const CHANGEABLE_FIELDS = ['count', 'maxCount', 'azs', 'labels', 'taints'] as const;

/** The PatchNodePool body poolgate sends (annotations are added by the run, on growth only). */
export interface PatchBody {
  readonly metadata?: { readonly annotations: Record<string, string> };
  readonly spec: { readonly resources: Record<string, unknown> };
}

export interface PatchPlan {
  /** The node pool after the patch, as a create body (validated with the create rules). */
  readonly merged: NodePoolRequest;
  readonly change: ScaleChange;
  /** The body for ModelArts, without annotations. */
  readonly patch: PatchBody;
  /** The annotations the requester sent (billing of added nodes: order id, period). */
  readonly annotations: Record<string, string>;
}

/** The node pool as ModelArts shows it now. */
export interface CurrentNodePool {
  readonly name: string;
  readonly resources: Record<string, unknown>;
}

/**
 * Checks a raw PatchNodePool body against the node pool as ModelArts shows it (`current`) and says what
 * it changes. `ownerId`: the creating request, the value of poolgate's label. Throws ValidationError.
 */
export function planPatch(rawBody: string, current: CurrentNodePool, ownerId: string): PatchPlan {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  if (!isObject(body)) throw new ValidationError('request body must be a JSON object');
  const fail = (path: readonly PropertyKey[], rule: string): never => {
    throw new ValidationError(`${formatPath(path)}: ${rule}`);
  };
  // 0. Before anything walks it: not too deep, and no key that names an object's own machinery.
  const unsafe = unsafePlace(body);
  if (unsafe) fail(unsafe.path, unsafe.rule);

  // 1. The envelope of PatchNodePool.
  for (const key of Object.keys(body))
    if (!['kind', 'apiVersion', 'metadata', 'spec'].includes(key)) fail([key], 'unknown field');
  if (body.kind !== undefined && body.kind !== 'NodePool') fail(['kind'], 'must be "NodePool"');
  if (body.apiVersion !== undefined && body.apiVersion !== 'v2') fail(['apiVersion'], 'must be "v2"');
  rejectNulls(body, [], fail);
  let annotations: Record<string, string> = {};
  if (body.metadata !== undefined) {
    if (!isObject(body.metadata)) fail(['metadata'], 'must be an object');
    const metadata = body.metadata as Record<string, unknown>;
    for (const key of Object.keys(metadata))
      if (key !== 'name' && key !== 'annotations') fail(['metadata', key], 'unknown field');
    if (metadata.name !== undefined && metadata.name !== current.name)
      fail(['metadata', 'name'], `cannot be changed (the node pool is ${JSON.stringify(current.name)})`);
    if (metadata.annotations !== undefined) {
      const parsed = AnnotationsSchema.safeParse(metadata.annotations);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        fail(['metadata', 'annotations', ...issue.path], issue.message);
      }
      annotations = { ...(metadata.annotations as Record<string, string>) };
    }
  }
  if (!isObject(body.spec)) fail(['spec'], 'is required and must be an object');
  const spec = body.spec as Record<string, unknown>;
  for (const key of Object.keys(spec)) if (key !== 'resources') fail(['spec', key], 'unknown field');
  if (!isObject(spec.resources)) fail(['spec', 'resources'], 'is required and must be an object');
  const resources = spec.resources as Record<string, unknown>;
  for (const field of ['flavor', 'count', 'maxCount'])
    if (resources[field] === undefined)
      fail(['spec', 'resources', field], 'is required (PatchNodePool: flavor, count and maxCount)');

  // 3. poolgate's label stays.
  const labels = resources.labels;
  if (isObject(labels) && Object.hasOwn(labels, OWNER_LABEL) && labels[OWNER_LABEL] !== ownerId)
    fail(
      ['spec', 'resources', 'labels', OWNER_LABEL],
      `poolgate's ownership label cannot be removed or changed (it is ${JSON.stringify(ownerId)})`,
    );

  // 4. Merge, then only the changeable fields may differ.
  const merged = applyMergePatch(current.resources, resources) as Record<string, unknown>;
  for (const key of Object.keys(resources)) {
    if ((CHANGEABLE_FIELDS as readonly string[]).includes(key)) continue;
    const where = firstDifference(current.resources[key], merged[key], ['spec', 'resources', key]);
    if (where)
      fail(
        where,
        `cannot be changed through poolgate (only ${CHANGEABLE_FIELDS.join(', ')} may change; other fields only as they are)`,
      );
  }

  // 5. The merged node pool passes the create rules.
  const candidate = {
    kind: 'NodePool',
    apiVersion: 'v2',
    metadata: { name: current.name },
    spec: { resources: merged },
  };
  const parsed = parseNodePoolRequest(JSON.stringify(candidate));
  if (!parsed.ok) throw new ValidationError(`the node pool after the patch: ${parsed.message}`);

  // 6. What kind of change.
  const from = Number(current.resources.count ?? 0);
  const to = parsed.value.spec.resources.count;
  const kind: ScaleChangeKind = to > from ? 'scale-up' : to < from ? 'scale-down' : 'update';

  const sent = {
    ...resources,
    flavor: parsed.value.spec.resources.flavor,
    count: to,
    maxCount: parsed.value.spec.resources.maxCount,
    labels: { ...(isObject(labels) ? labels : {}), [OWNER_LABEL]: ownerId },
  };
  return { merged: parsed.value, change: { kind, from, to }, patch: { spec: { resources: sent } }, annotations };
}

/**
 * The annotations sent with a patch: on growth only, and then the node pool's billing mode explicitly
 * (ModelArts would give new nodes the pool's mode otherwise); yearly/monthly with its order id and period.
 * A billing mode the requester names must be the node pool's.
 */
export function patchAnnotations(
  change: ScaleChange,
  requested: Record<string, string>,
  mode: BillingMode,
  orderId?: string,
): Record<string, string> | undefined {
  if (change.kind !== 'scale-up') return undefined;
  const annotations: Record<string, string> = { [ANNOTATION.billingMode]: mode };
  if (mode === '1') {
    for (const key of [ANNOTATION.periodNum, ANNOTATION.periodType, ANNOTATION.autoRenew])
      if (requested[key]) annotations[key] = requested[key];
    const order = requested[ANNOTATION.orderId] || orderId;
    if (order) annotations[ANNOTATION.orderId] = order;
  }
  return annotations;
}

/** A billing mode named in the patch must be the node pool's (a PATCH never changes how nodes are billed). */
export function checkBillingMode(requested: Record<string, string>, mode: BillingMode): void {
  const named = requested[ANNOTATION.billingMode];
  if (named !== undefined && named !== mode)
    throw new ValidationError(
      `${formatPath(['metadata', 'annotations', ANNOTATION.billingMode])}: cannot change the node pool's billing mode (${JSON.stringify(mode)})`,
    );
}

/** Deeper than any PatchNodePool body (spec.resources.dataVolumes[i].extendParams.x is 6 levels). */
export const MAX_PATCH_DEPTH = 32;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first place of `body` nested deeper than MAX_PATCH_DEPTH or keyed by a reserved name (iterative: no recursion). */
function unsafePlace(body: unknown): { path: PropertyKey[]; rule: string } | undefined {
  const pending: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: body, path: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_PATCH_DEPTH) return { path, rule: `is nested deeper than ${MAX_PATCH_DEPTH} levels` };
    for (const [key, child] of Object.entries(value)) {
      const at = [...path, Array.isArray(value) ? Number(key) : key];
      if (!Array.isArray(value) && RESERVED_KEYS.has(key)) return { path: at, rule: 'is not an allowed key' };
      pending.push({ value: child, path: at });
    }
  }
  return undefined;
}

function rejectNulls(
  value: unknown,
  path: readonly PropertyKey[],
  fail: (path: readonly PropertyKey[], rule: string) => never,
): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => rejectNulls(item, [...path, index], fail));
    return;
  }
  if (!isObject(value)) return;
  const inLabels = path.length === 3 && path[0] === 'spec' && path[1] === 'resources' && path[2] === 'labels';
  for (const [key, child] of Object.entries(value)) {
    if (child === null && !inLabels)
      fail([...path, key], 'null is allowed only to remove a label (spec.resources.labels.<key>)');
    rejectNulls(child, [...path, key], fail);
  }
}

/** The path of the first place `after` differs from `before` (undefined: equal). */
function firstDifference(before: unknown, after: unknown, path: PropertyKey[]): PropertyKey[] | undefined {
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const where = firstDifference(before[key], after[key], [...path, key]);
      if (where) return where;
    }
    return undefined;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) return path;
    for (let i = 0; i < before.length; i++) {
      const where = firstDifference(before[i], after[i], [...path, i]);
      if (where) return where;
    }
    return undefined;
  }
  return Object.is(before, after) ? undefined : path;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
