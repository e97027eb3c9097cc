/**
 * The API contract: every response body, declared once as a zod schema with its inferred type.
 *  - the handlers and use cases (lambdas/) answer with these types (type-only imports: no zod in
 *    their bundles);
 *  - the OpenAPI document (lambdas/openapi/document.ts) is generated from these schemas;
 *  - the CLI (cli/) reads its answers with these types (type-only as well);
 *  - the end-to-end tests parse real responses with these schemas. They are strict objects, so a
 *    field added to a response but not here (or the other way round) fails a test instead of drifting.
 */
import * as z from 'zod';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  REQUEST_KINDS,
  REQUEST_STATUSES,
  REQUEST_TRIGGERS,
  STEP_NAMES,
  STEP_OUTCOMES,
} from './api-values';

const reason = z.string().meta({
  description:
    'Machine-readable reason of a terminal status, e.g. QUOTA_EXCEEDED, NODE_POOL_EXISTS, BILLING_MODE_REQUIRED, APPROVER_REJECTED, APPROVAL_EXPIRED (README "Statuses" lists them all)',
});
const timestamp = z.string().meta({ description: 'ISO 8601 time (UTC)', example: '2026-11-26T21:05:34.123Z' });
const email = z.string().meta({ description: 'an e-mail address, lowercased', example: 'alice@example.com' });

export const ErrorSchema = z
  .strictObject({
    error_code: z.string().meta({ example: 'PoolGate.0404' }),
    error_msg: z.string().meta({ example: 'request 2b0c... not found' }),
  })
  .meta({ id: 'Error', description: 'Every error answer, as ModelArts answers errors' });

export const RequestStatusSchema = z.enum(REQUEST_STATUSES).meta({ id: 'RequestStatus' });

export const BillingSchema = z
  .strictObject({
    mode: z.enum(['0', '1']).meta({ description: '"0" pay-per-use, "1" yearly/monthly' }),
    periodNum: z.string().optional(),
    periodType: z.string().optional().meta({ description: '"2" month, "3" year, "4" hour' }),
    autoRenew: z.string().optional(),
    orderId: z.string().optional(),
    fromPool: z.literal(true).optional().meta({
      description:
        "the request named no billing mode: the pool's decides (pay-per-use pools only; in a yearly/monthly pool the request is REJECTED with BILLING_MODE_REQUIRED)",
    }),
  })
  .meta({ id: 'Billing' });

export const StepSchema = z
  .strictObject({
    step: z.enum(STEP_NAMES),
    outcome: z.enum(STEP_OUTCOMES),
    at: timestamp,
    actor: email.optional().meta({ description: 'who did it (the requester, an approver, whoever cancelled)' }),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'Step' });

/** The node pool a request is about: where, which flavor, how many nodes. */
const nodePoolFields = {
  projectId: z.string(),
  poolName: z.string(),
  nodePoolName: z.string(),
  flavor: z.string(),
  count: z.number().int(),
  maxCount: z.number().int(),
};

export const RequestKindSchema = z.enum(REQUEST_KINDS).meta({
  id: 'RequestKind',
  description:
    'what the request does to its node pool: create (POST), scale (PATCH), delete (DELETE), extend (POST /requests/{id}/extend: a lease extension)',
});

export const LeaseSchema = z
  .strictObject({
    duration: z.string().meta({ description: 'the lease asked for (X-Lease) or the policy default, e.g. P14D' }),
    endsAt: timestamp.nullable().meta({
      description:
        'when the lease ends (extensions included); null until ModelArts accepted the create, since the lease runs from then',
    }),
    deleteAt: timestamp
      .nullable()
      .meta({ description: 'when poolgate deletes the node pool: the end plus the policy grace; null until then' }),
    extendedBy: z.string().optional().meta({ description: 'what approved extensions added, e.g. P7D' }),
  })
  .meta({
    id: 'Lease',
    description:
      'A time box on a pay-per-use node pool: poolgate reminds the holder before the end and deletes the node pool at end plus grace, unless an extension moves the end',
  });

export const ScaleChangeSchema = z
  .strictObject({
    kind: z.enum(['scale-up', 'scale-down', 'update']).meta({
      description: 'scale-up: more nodes; scale-down: fewer; update: labels, taints, maxCount or zones only',
    }),
    from: z.number().int().meta({ description: 'the node count ModelArts showed when the PATCH came in' }),
    to: z.number().int().meta({ description: 'the node count asked for' }),
  })
  .meta({ id: 'ScaleChange', description: 'a scale request only: what it changes' });

const summaryFields = {
  requestId: z.string(),
  kind: RequestKindSchema,
  trigger: z.enum(REQUEST_TRIGGERS).meta({
    description: 'who set it off: user (an API call), lease (poolgate deleting a node pool whose lease ran out)',
  }),
  lease: LeaseSchema.optional().meta({ description: "a create's lease (absent: none)" }),
  extend: z
    .strictObject({ duration: z.string(), createdBy: z.string() })
    .optional()
    .meta({ description: 'an extension: by how much, and the request that created the leased node pool' }),
  status: RequestStatusSchema,
  reason: reason.optional(),
  final: z.boolean().meta({
    description:
      'true when no further status change will come: a terminal status, or CREATED when node tracking is off',
  }),
  requester: email,
  team: z.string(),
  ...nodePoolFields,
  change: ScaleChangeSchema.optional(),
  billing: BillingSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
};

const links = {
  self: z.string().meta({ description: 'this request in the API', example: '/requests/2b0c...' }),
  page: z.string().optional().meta({ description: 'the signed, read-only HTML page of the request (no token needed)' }),
};

export const RequestViewSchema = z
  .strictObject({
    ...summaryFields,
    justification: z.string().optional(),
    steps: z.array(StepSchema).meta({ description: 'the timeline, oldest first' }),
    links: z.strictObject(links),
  })
  .meta({ id: 'Request' });

export const ListedRequestSchema = z
  .strictObject({
    ...summaryFields,
    awaiting: z
      .strictObject({ approvalId: z.string(), stage: z.string(), askedAt: timestamp, expiresAt: timestamp })
      .optional()
      .meta({ description: 'awaiting=me only: the approval that waits for your decision' }),
    links: z.strictObject({
      ...links,
      decide: z.string().optional().meta({ description: 'awaiting=me only: your personal approval link' }),
    }),
  })
  .meta({ id: 'ListedRequest' });

export const RequestListSchema = z
  .strictObject({
    items: z.array(ListedRequestSchema).meta({
      description: `newest first, at most \`limit\` (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}); a page may be short, even empty`,
    }),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'pass as `cursor` for the next page; null at the end of the list' }),
  })
  .meta({ id: 'RequestList' });

export const SubmitAcceptedSchema = z
  .strictObject({
    requestId: z.string(),
    status: RequestStatusSchema,
    kind: RequestKindSchema,
    lease: LeaseSchema.optional().meta({
      description: 'the lease of a create (absent: none); it starts when ModelArts accepts the create',
    }),
    links: z.strictObject({ self: z.string() }),
  })
  .meta({ id: 'SubmitAccepted' });

export const DeleteDryRunSchema = z
  .strictObject({
    dryRun: z.literal(true),
    kind: z.literal('delete'),
    wouldBe: z.enum(['AWAITING_APPROVAL', 'PROVISIONING']).meta({
      description: 'AWAITING_APPROVAL when a policy stage names `delete` in `when.changes`, else PROVISIONING',
    }),
    nodePool: z.strictObject({
      projectId: z.string(),
      poolName: z.string(),
      nodePoolName: z.string(),
      flavor: z.string(),
      count: z.number().int(),
      team: z.string(),
      createdBy: z.string().meta({ description: 'the request that created it' }),
    }),
    approval: z.strictObject({
      stages: z.array(
        z.strictObject({ name: z.string(), approvers: z.array(email), requiredApprovals: z.number().int() }),
      ),
    }),
  })
  .meta({ id: 'DeleteDryRun' });

export const ScaleDryRunSchema = z
  .strictObject({
    dryRun: z.literal(true),
    kind: z.literal('scale'),
    change: ScaleChangeSchema,
    wouldBe: z.enum(['AWAITING_APPROVAL', 'PROVISIONING']).meta({
      description:
        'AWAITING_APPROVAL when a policy stage applies to the change (scale-up by default), else PROVISIONING',
    }),
    nodePool: z.strictObject({
      projectId: z.string(),
      poolName: z.string(),
      nodePoolName: z.string(),
      flavor: z.string(),
      count: z.number().int().meta({ description: 'the nodes counted against the quota now' }),
      team: z.string(),
      createdBy: z.string().meta({ description: 'the request that created it' }),
    }),
    sent: z.record(z.string(), z.unknown()).meta({ description: 'the PatchNodePool body poolgate would send' }),
    approval: z.strictObject({
      stages: z.array(
        z.strictObject({ name: z.string(), approvers: z.array(email), requiredApprovals: z.number().int() }),
      ),
    }),
  })
  .meta({ id: 'ScaleDryRun' });

export const DryRunResultSchema = z
  .strictObject({
    dryRun: z.literal(true),
    wouldBe: z
      .enum(['AWAITING_APPROVAL', 'REJECTED'])
      .meta({ description: 'what the request would become after submission' }),
    reason: reason.optional(),
    checks: z.array(
      z.strictObject({
        check: z.enum(['validation', 'approvers', 'capacity', 'quota']),
        outcome: z
          .enum(['ok', 'refused', 'unknown'])
          .meta({ description: '"unknown": ModelArts could not be asked now' }),
        reason: reason.optional(),
        message: z.string(),
      }),
    ),
    nodePool: z.strictObject(nodePoolFields),
    billing: BillingSchema,
    justification: z.string().optional(),
    approval: z.strictObject({
      stages: z.array(
        z.strictObject({ name: z.string(), approvers: z.array(email), requiredApprovals: z.number().int() }),
      ),
    }),
    quota: z.strictObject({ limit: z.number().int(), inUse: z.number().int(), available: z.number().int() }).optional(),
  })
  .meta({ id: 'DryRunResult', description: 'What a submission would do; nothing was recorded, reserved or sent' });

export const HealthSchema = z.strictObject({ status: z.literal('ok') }).meta({ id: 'Health' });

export const ModelArtsNodePoolSchema = z
  .looseObject({
    apiVersion: z.string(),
    kind: z.literal('NodePool'),
    metadata: z.looseObject({ name: z.string() }),
    spec: z.looseObject({}),
    status: z.looseObject({}).optional(),
  })
  .meta({
    id: 'ModelArtsNodePool',
    description: "ModelArts' NodePool exactly as ShowNodePool answers it (see Huawei Cloud's ModelArts API reference)",
  });

export const ModelArtsNodePoolListSchema = z
  .strictObject({
    apiVersion: z.literal('v2'),
    kind: z.literal('NodePoolList'),
    items: z.array(ModelArtsNodePoolSchema),
  })
  .meta({ id: 'ModelArtsNodePoolList' });

export const InventorySchema = z
  .strictObject({
    items: z.array(
      z.strictObject({
        projectId: z.string(),
        poolName: z.string(),
        nodePoolName: z.string(),
        team: z.string(),
        flavor: z.string(),
        count: z.number().int().meta({ description: 'the nodes counted against the team quota' }),
        billingMode: z.enum(['0', '1']),
        createdAt: timestamp.optional(),
        createdBy: z.string().meta({ description: 'the request that created it' }),
        openRequest: z
          .strictObject({ requestId: z.string(), kind: RequestKindSchema, status: RequestStatusSchema })
          .optional()
          .meta({ description: 'the request under way on the node pool (one at a time)' }),
        lease: LeaseSchema.optional(),
        links: z.strictObject({ createdBy: z.string(), openRequest: z.string().optional() }),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'NodePoolInventory' });

export type ErrorBody = z.infer<typeof ErrorSchema>;
export type Billing = z.infer<typeof BillingSchema>;
export type RequestStep = z.infer<typeof StepSchema>;
/** One request with its timeline (GET /requests/{id}, cancel, retry). */
export type RequestView = z.infer<typeof RequestViewSchema>;
/** What tells a request apart, without its timeline. */
export type RequestSummary = Omit<RequestView, 'justification' | 'steps'>;
/** One item of GET /requests. */
export type ListedRequest = z.infer<typeof ListedRequestSchema>;
export type RequestList = z.infer<typeof RequestListSchema>;
export type Lease = z.infer<typeof LeaseSchema>;
/** The 202 answer of a submission. */
export type SubmitAccepted = z.infer<typeof SubmitAcceptedSchema>;
/** The answer of a submission with `dryRun=true`. */
export type DryRunResult = z.infer<typeof DryRunResultSchema>;
export type DryRunCheck = DryRunResult['checks'][number];
export type Health = z.infer<typeof HealthSchema>;
/** The answer of a delete with `dryRun=true`. */
export type DeleteDryRun = z.infer<typeof DeleteDryRunSchema>;
export type ScaleDryRun = z.infer<typeof ScaleDryRunSchema>;
/** ModelArts' NodePool as ShowNodePool answers it (GET .../nodepools/{nodepool_name}). */
export type ModelArtsNodePoolView = z.infer<typeof ModelArtsNodePoolSchema>;
export type ModelArtsNodePoolList = z.infer<typeof ModelArtsNodePoolListSchema>;
/** GET /nodepools: a page of a team's inventory. */
export type Inventory = z.infer<typeof InventorySchema>;
export type InventoryItem = Inventory['items'][number];
