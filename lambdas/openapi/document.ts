/**
 * The OpenAPI 3.1 document of poolgate's HTTP API, generated from the zod schemas: the request body
 * is the very schema submit validates with (NodePoolRequestSchema), the responses contracts/api.ts.
 *
 * Build time only: `npm run openapi` writes ./openapi.json, which the `openapi` handler serves
 * (GET /openapi.json) without zod or this generator in its bundle; a test fails when the file is
 * stale. zod's refinements (cross-field rules such as "azs add up to count") cannot be expressed in
 * JSON Schema: the descriptions say so, and the API answers 400 when one is broken.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { MAX_PAGE_SIZE, REQUEST_KINDS, REQUEST_STATUSES } from '../../contracts/api-values';
import { NodePoolRequestSchema } from '../domain/nodepool-request';
import {
  InventorySchema,
  ModelArtsNodePoolListSchema,
  ModelArtsNodePoolSchema,
  DeleteDryRunSchema,
  ScaleDryRunSchema,
  DryRunResultSchema,
  ErrorSchema,
  HealthSchema,
  RequestListSchema,
  RequestViewSchema,
  SubmitAcceptedSchema,
} from '../../contracts/api';

type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const BEARER = [{ bearer: [] }];

const errors = (...statuses: Array<[number, string]>) =>
  Object.fromEntries(
    statuses.map(([status, description]) => [
      status,
      { description, content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  );

/** A request recorded and its workflow started: the answer of every route that makes a request. */
const ACCEPTED = {
  description: 'Recorded; the workflow runs',
  headers: { location: { description: 'the request', schema: { type: 'string' as const } } },
  content: { 'application/json': { schema: SubmitAcceptedSchema } },
};
const htmlPage = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });

/**
 * The very schema submit validates with, as JSON Schema. It is a zod/mini schema (small bundles),
 * which zod-to-openapi cannot read, so zod's own converter writes it (input side: what a client sends),
 * and it joins the document as the `NodePoolRequest` component. A record's implied
 * `propertyNames: {type: string}` is left out (JSON object keys are strings anyway).
 */
function nodePoolRequestComponent(): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(NodePoolRequestSchema, {
    io: 'input',
    target: 'draft-2020-12',
    override: ({ jsonSchema }) => {
      const names = jsonSchema.propertyNames;
      if (typeof names === 'object' && Object.keys(names).length === 1 && names.type === 'string')
        delete jsonSchema.propertyNames;
    },
  });
  return { ...schema, description: 'The ModelArts "Create a node pool" body, with poolgate\'s departures (README)' };
}

const requestIdParams = z.object({ request_id: z.string().meta({ description: 'the request id poolgate returned' }) });

export function buildOpenApiDocument(): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  const NodePoolRequestBody = registry.registerComponent('schemas', 'NodePoolRequest', nodePoolRequestComponent()).ref;
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A token of the issuer named in the policy file, signed with one of the algorithms it accepts (`auth.algorithms`, default ES256 and RS256), with an `email` claim whose issuer has not marked it unverified (`email_verified: false` is refused; with `auth.requireVerifiedEmail`, so is a token without the claim). Locally: `npx poolgate dev-token <email>`',
  });

  registry.registerPath({
    method: 'post',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools',
    operationId: 'submitNodePool',
    tags: ['requests'],
    summary: 'Ask for a node pool (the ModelArts request, gated)',
    description:
      'Validates the body, then records the request and starts its workflow: capacity and quota checks, approvals, creation in ModelArts. ' +
      'With `dryRun=true`, answers at once with what would happen and records nothing (no request, no reservation, no e-mail). ' +
      'Cross-field rules (maxCount >= count, azs add up to count, nodePool equals metadata.name, yearly/monthly needs period.num and period.type) are checked too.',
    security: BEARER,
    request: {
      params: z.object({ project_id: z.string(), pool_name: z.string() }),
      query: z.object({
        dryRun: z.enum(['true', 'false']).optional().meta({ description: 'answer what would happen, record nothing' }),
      }),
      headers: z.object({
        'idempotency-key': z
          .string()
          .optional()
          .meta({ description: 'the same key (within 24 h) returns the same request' }),
        'x-justification': z
          .string()
          .max(2000)
          .optional()
          .meta({ description: 'why the node pool is needed, shown to the approvers' }),
        'x-lease': z.string().optional().meta({
          description:
            "a lease for a pay-per-use node pool: an ISO 8601 duration (P14D, PT36H) within the policy's lease.max, or `none` (refused when the policy says lease.required). Absent: the policy's default lease, if any. Refused on yearly/monthly requests. The lease runs from ModelArts' acceptance of the create; poolgate reminds the holder before its end and deletes the node pool at its end plus the policy's grace",
          example: 'P14D',
        }),
      }),
      body: { required: true, content: { 'application/json': { schema: NodePoolRequestBody } } },
    },
    responses: {
      200: {
        description: 'dryRun=true: what would happen',
        content: { 'application/json': { schema: DryRunResultSchema } },
      },
      202: ACCEPTED,
      ...errors(
        [
          400,
          'ModelArts.50004000: the body breaks a rule (the message names the field path); PoolGate.0400: a bad dryRun value, or an X-Lease poolgate refuses (not a duration, over lease.max or lease.maxTotal, on a yearly/monthly request, `none` where a lease is required; the message names the header and the limit)',
        ],
        [401, 'PoolGate.0401: no valid bearer token, or its e-mail is not verified'],
        [403, 'PoolGate.0403: the caller is in no team, or the team may not use this project and pool'],
        [
          409,
          'PoolGate.0409: another request for this node pool is still open; PoolGate.5409: poolgate created a node pool of this name that still exists (delete it first)',
        ],
        [413, 'PoolGate.0413: a body over 64 KiB'],
        [422, 'PoolGate.0422: an Idempotency-Key reused for another request'],
        [503, 'PoolGate.0503: stored, but the workflow could not start; retry with the same Idempotency-Key'],
      ),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}',
    operationId: 'showNodePool',
    tags: ['nodepools'],
    summary: "A node pool poolgate created, exactly as ModelArts' ShowNodePool answers (cached a few seconds)",
    description:
      "For whoever may read the team's requests (members, approvers, escalation contacts, admins); anything else, and a node pool poolgate did not create, is 404.",
    security: BEARER,
    request: { params: z.object({ project_id: z.string(), pool_name: z.string(), nodepool_name: z.string() }) },
    responses: {
      200: { description: 'the NodePool', content: { 'application/json': { schema: ModelArtsNodePoolSchema } } },
      ...errors(
        [401, 'PoolGate.0401: no valid bearer token'],
        [404, 'PoolGate.0404: no such node pool the caller may read'],
      ),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools',
    operationId: 'listNodePools',
    tags: ['nodepools'],
    summary:
      "ModelArts' ListNodePools, with only the node pools poolgate created that the caller may read (cached a few seconds)",
    description:
      "ModelArts' own NodePoolList shape, read with poolgate's credentials: a script that polls ModelArts works against poolgate by changing only its base URL and credentials.",
    security: BEARER,
    request: { params: z.object({ project_id: z.string(), pool_name: z.string() }) },
    responses: {
      200: {
        description: 'the NodePoolList',
        content: { 'application/json': { schema: ModelArtsNodePoolListSchema } },
      },
      ...errors([401, 'PoolGate.0401: no valid bearer token']),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/nodepools',
    operationId: 'nodePoolInventory',
    tags: ['nodepools'],
    summary: "poolgate's inventory: a team's node pools, newest first",
    description:
      'Without `team`, your team. Members, approvers and escalation contacts of a team and admins may list it. Follow `nextCursor` until it is null. Node-pool records never appear in `GET /requests`.',
    security: BEARER,
    request: {
      query: z.object({
        team: z.string().optional(),
        limit: z
          .string()
          .optional()
          .meta({ description: `1 to ${MAX_PAGE_SIZE}, default 20` }),
        cursor: z.string().optional(),
      }),
    },
    responses: {
      200: { description: 'a page of the inventory', content: { 'application/json': { schema: InventorySchema } } },
      ...errors(
        [400, 'PoolGate.0400: an unknown parameter, a bad limit or cursor, or no team to list'],
        [401, 'PoolGate.0401: no valid bearer token'],
        [403, 'PoolGate.0403: the caller may not list that team'],
      ),
    },
  });

  const PatchNodePoolBody = z
    .looseObject({
      kind: z.literal('NodePool').optional(),
      apiVersion: z.literal('v2').optional(),
      metadata: z
        .object({
          name: z.string().optional().meta({ description: 'only as it is' }),
          annotations: z.record(z.string(), z.string()).optional().meta({
            description:
              "billing of the added nodes (scale-up): os.modelarts/order.id, period.num, period.type, auto.renew for a yearly/monthly node pool; a billing.mode other than the node pool's is refused",
          }),
        })
        .optional(),
      spec: z.object({
        resources: z.looseObject({
          flavor: z.string().meta({ description: 'required, unchanged' }),
          count: z.number().int(),
          maxCount: z.number().int(),
          azs: z.array(z.object({ az: z.string(), count: z.number().int() })).optional(),
          labels: z
            .record(z.string(), z.string().nullable())
            .optional()
            .meta({ description: "null removes a label (merge-patch); poolgate's poolgate/request-id cannot change" }),
          taints: z.array(z.object({ key: z.string(), value: z.string().optional(), effect: z.string() })).optional(),
        }),
      }),
    })
    .meta({
      id: 'PatchNodePool',
      description:
        "ModelArts' PatchNodePool body, a JSON merge patch (RFC 7396) of the node pool: count, maxCount, azs, labels and taints may change; any other field only as it is",
    });

  registry.registerPath({
    method: 'patch',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}',
    operationId: 'patchNodePool',
    tags: ['nodepools'],
    summary: 'Scale or update a node pool poolgate created (ModelArts PatchNodePool, gated)',
    description:
      'Merges the patch onto the node pool as ModelArts shows it and checks the result with the create rules, then records a request of kind `scale`: ' +
      'a count increase is a scale-up (approved as a create by default; the quota reserves only the added nodes, and the flavor must be available for them), ' +
      'a decrease a scale-down (no approval by default; the quota share is lowered once ModelArts shows the nodes gone), ' +
      'labels, taints, maxCount or zones only an update (no approval, no quota, ACTIVE once ModelArts accepted it). ' +
      "A scale ends ACTIVE once ModelArts shows the new count; if the node pool's count was changed outside poolgate before the approved patch is sent, it ends REJECTED NODE_POOL_CHANGED and nothing is sent. Billing annotations are sent only when the count grows, with the node pool's billing mode. " +
      'A yearly/monthly node pool can grow (with an order id, or the finance stage collects one) but not shrink. ' +
      "Content-Type: application/merge-patch+json (as ModelArts documents it) or application/json (as Huawei's SDKs send it).",
    security: BEARER,
    request: {
      params: z.object({ project_id: z.string(), pool_name: z.string(), nodepool_name: z.string() }),
      query: z.object({
        dryRun: z.enum(['true', 'false']).optional().meta({ description: 'answer what would happen, record nothing' }),
      }),
      headers: z.object({
        'idempotency-key': z
          .string()
          .optional()
          .meta({ description: 'the same key (within 24 h) returns the same request' }),
      }),
      body: {
        required: true,
        content: {
          'application/merge-patch+json': { schema: PatchNodePoolBody },
          'application/json': { schema: PatchNodePoolBody },
        },
      },
    },
    responses: {
      200: {
        description: 'dryRun=true: what would happen',
        content: { 'application/json': { schema: ScaleDryRunSchema } },
      },
      202: ACCEPTED,
      ...errors(
        [
          400,
          "ModelArts.50004000: the patch breaks a rule (null outside labels, a fixed field changed, poolgate's label removed, the merged node pool invalid), the message names the field; PoolGate.0400: a bad dryRun value, or an X-Lease header (only a create takes a lease; an extension changes it)",
        ],
        [401, 'PoolGate.0401: no valid bearer token'],
        [403, 'PoolGate.0403: the caller may read the node pool (an approver of its team) but not change it'],
        [
          404,
          'PoolGate.0404: no node pool poolgate created of that name that the caller may read, or ModelArts no longer shows it',
        ],
        [
          409,
          'PoolGate.0409: another request on this node pool is still open; PoolGate.8409: a yearly/monthly node pool cannot shrink (its billing center removes prepaid nodes)',
        ],
        [413, 'PoolGate.0413: a body over 64 KiB'],
        [415, 'PoolGate.0415: a Content-Type other than application/merge-patch+json or application/json'],
        [422, 'PoolGate.0422: an Idempotency-Key reused for another request'],
        [503, 'PoolGate.0503: stored, but the workflow could not start; retry with the same Idempotency-Key'],
      ),
    },
  });

  registry.registerPath({
    method: 'delete',
    path: '/v2/{project_id}/pools/{pool_name}/nodepools/{nodepool_name}',
    operationId: 'deleteNodePool',
    tags: ['nodepools'],
    summary: 'Delete a node pool poolgate created (ModelArts DeleteNodePool, gated)',
    description:
      'Records a request of kind `delete` and starts its workflow: ModelArts must still show the node pool with the label of the request that created it ' +
      'and its flavor (otherwise REJECTED NODE_POOL_NOT_OURS, nothing deleted); approval only when a policy stage names `delete` in `when.changes`; ' +
      'then DeleteNodePool, and DELETED once ModelArts no longer shows it (the quota share is released then). ' +
      "Members of the owning team and admins may delete; the team's approvers and escalation contacts get 403, anyone else 404. " +
      'Without an Idempotency-Key, repeating the call while the delete is open returns the same request.',
    security: BEARER,
    request: {
      params: z.object({ project_id: z.string(), pool_name: z.string(), nodepool_name: z.string() }),
      query: z.object({
        dryRun: z.enum(['true', 'false']).optional().meta({ description: 'answer what would happen, record nothing' }),
      }),
      headers: z.object({
        'idempotency-key': z
          .string()
          .optional()
          .meta({ description: 'the same key (within 24 h) returns the same request' }),
      }),
    },
    responses: {
      200: {
        description: 'dryRun=true: what would happen',
        content: { 'application/json': { schema: DeleteDryRunSchema } },
      },
      202: ACCEPTED,
      ...errors(
        [400, 'PoolGate.0400: a bad dryRun value'],
        [401, 'PoolGate.0401: no valid bearer token'],
        [403, 'PoolGate.0403: the caller may read the node pool (an approver of its team) but not delete it'],
        [404, 'PoolGate.0404: no node pool poolgate created of that name that the caller may read'],
        [
          409,
          'PoolGate.0409: another request on this node pool is still open; PoolGate.4409: a yearly/monthly node pool (ModelArts cannot delete it: its billing center removes prepaid resources)',
        ],
        [422, 'PoolGate.0422: an Idempotency-Key reused for another request'],
        [503, 'PoolGate.0503: stored, but the workflow could not start; retry with the same Idempotency-Key'],
      ),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/requests',
    operationId: 'listRequests',
    tags: ['requests'],
    summary: 'List requests, newest first',
    description:
      'One filter chooses what is listed: `awaiting=me` (approvals waiting for your decision), `mine=true` (your requests), `team=<name>` ' +
      '(members, approvers and escalation contacts of the team, admins), `status=<S>` alone (admins: every team). Without any, your team. ' +
      '`status` also filters `mine` and `team`. Follow `nextCursor` until it is null.',
    security: BEARER,
    request: {
      query: z.object({
        status: z.enum(REQUEST_STATUSES).optional(),
        kind: z.enum(REQUEST_KINDS).optional().meta({ description: 'only requests of this kind' }),
        mine: z.enum(['true', 'false']).optional(),
        team: z.string().optional(),
        awaiting: z.literal('me').optional(),
        limit: z
          .string()
          .regex(/^\d+$/)
          .optional()
          .meta({ description: `page size, 1 to ${MAX_PAGE_SIZE} (default 20)` }),
        cursor: z
          .string()
          .optional()
          .meta({ description: 'the nextCursor of the previous page, as it was returned, with the same filters' }),
      }),
    },
    responses: {
      200: { description: 'One page', content: { 'application/json': { schema: RequestListSchema } } },
      ...errors(
        [400, 'PoolGate.0400: an unknown parameter, a bad value, or a cursor poolgate did not issue for this query'],
        [401, 'PoolGate.0401: no valid bearer token, or its e-mail is not verified'],
        [403, 'PoolGate.0403: you may not list that team'],
      ),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/requests/{request_id}',
    operationId: 'getRequest',
    tags: ['requests'],
    summary: 'A request with its step timeline',
    description:
      'Its status, the node pool asked for, its billing and every step recorded so far, with the link to its page. Visible to its requester, the members of its team, its approvers and admins; anyone else gets 404.',
    security: BEARER,
    request: {
      params: z.object({
        request_id: z.string().meta({
          description:
            'the request id poolgate returned, or a unique prefix of it (at least 8 characters) among the requests you may see',
        }),
      }),
    },
    responses: {
      200: { description: 'The request', content: { 'application/json': { schema: RequestViewSchema } } },
      ...errors(
        [400, 'PoolGate.1400: the id prefix matches several requests (the message names them)'],
        [401, 'PoolGate.0401: no valid bearer token, or its e-mail is not verified'],
        [404, 'PoolGate.0404: no such request, or not visible to you'],
      ),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/requests/{request_id}/page',
    operationId: 'requestPage',
    tags: ['requests'],
    summary: 'The read-only HTML page of a request (signed link)',
    description:
      'Linked from the e-mails and from the node pool in ModelArts (`os.modelarts/service.console.url`). No bearer token: the signature is the proof.',
    request: {
      params: requestIdParams,
      query: z.object({ sig: z.string().meta({ description: 'HMAC of the request id' }) }),
    },
    responses: {
      200: htmlPage('The request, its billing and its timeline'),
      403: htmlPage('PoolGate.1403: the signature does not match (JSON error body for non-browser clients)'),
      404: htmlPage('PoolGate.0404: no such request'),
    },
  });

  registry.registerPath({
    method: 'post',
    path: '/requests/{request_id}/cancel',
    operationId: 'cancelRequest',
    tags: ['requests'],
    summary: 'Cancel a request before provisioning (its requester or an admin)',
    description:
      'Records CANCELLED, closes its approvals (their links then answer 410), stops its workflow, gives its quota reservation back, updates the Slack messages and tells the requester. Only before provisioning: once ModelArts is being called, the request runs to its end.',
    security: BEARER,
    request: { params: requestIdParams },
    responses: {
      200: {
        description: 'Cancelled (cancelling again answers the same)',
        content: { 'application/json': { schema: RequestViewSchema } },
      },
      ...errors(
        [401, 'PoolGate.0401: no valid bearer token, or its e-mail is not verified'],
        [403, 'PoolGate.0403: you may read this request but not change it (the message says who may)'],
        [404, 'PoolGate.0404: no such request, or not visible to you'],
        [409, 'PoolGate.2409: already provisioning or finished'],
      ),
    },
  });

  registry.registerPath({
    method: 'post',
    path: '/requests/{request_id}/retry',
    operationId: 'retryRequest',
    tags: ['requests'],
    summary: 'Run a FAILED request again from the step that failed, without a new approval (its requester or an admin)',
    description:
      'Starts a new run for a request that FAILED after its approval: it resumes at the step that failed without asking anyone again, and reserves the quota again when the failure gave it back.',
    security: BEARER,
    request: { params: requestIdParams },
    responses: {
      202: {
        description:
          'Retrying: the request is PROVISIONING (or CREATED while its nodes are followed again); repeating the call answers the same',
        content: { 'application/json': { schema: RequestViewSchema } },
      },
      ...errors(
        [401, 'PoolGate.0401: no valid bearer token, or its e-mail is not verified'],
        [403, 'PoolGate.0403: you may read this request but not change it (the message says who may)'],
        [404, 'PoolGate.0404: no such request, or not visible to you'],
        [
          409,
          'PoolGate.3409: not FAILED, failed before approval, or no quota for it now; PoolGate.0409: another open request holds the node-pool name',
        ],
        [503, 'PoolGate.0503: the retried run could not start; repeat the call'],
      ),
    },
  });

  registry.registerPath({
    method: 'post',
    path: '/requests/{request_id}/extend',
    operationId: 'extendLease',
    tags: ['leases'],
    summary: "Ask to extend a node pool's lease (members of the owning team and admins)",
    description:
      "`request_id` is the request that created the leased node pool. Creates a request of kind `extend`, which goes through the policy's stages for extensions (those whose `when.changes` names `extend`, else the create stages); once approved it moves the lease's end by `duration` and ends EXTENDED, unless the lease's deletion was claimed first (then REJECTED / LEASE_ENDED) or another extension applied meanwhile leaves no room under `lease.maxTotal` (then REJECTED / LEASE_MAX_TOTAL). At most one open extension per lease; the same caller posting the same duration again gets the same request. " +
      "With a reminder's personal link (`?as=<email>&sig=...`), the same route takes the link's form (`application/x-www-form-urlencoded`, field `duration`) without a bearer token, as that person, who must be a member of the owning team or an admin.",
    security: BEARER,
    request: {
      params: requestIdParams,
      headers: z.object({
        'idempotency-key': z
          .string()
          .optional()
          .meta({ description: 'the same key (within 24 h) returns the same request' }),
      }),
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z
              .strictObject({
                duration: z
                  .string()
                  .meta({ description: 'how much later the lease ends, an ISO 8601 duration', example: 'P7D' }),
              })
              .meta({ id: 'LeaseExtension' }),
          },
        },
      },
    },
    responses: {
      202: ACCEPTED,
      ...errors(
        [400, 'PoolGate.0400: not a positive duration, or a body other than {"duration"}'],
        [401, 'PoolGate.0401: no valid bearer token, or its e-mail is not verified'],
        [
          403,
          'PoolGate.0403: you may read the node pool but not extend it; PoolGate.1403: a link whose signature does not match',
        ],
        [404, 'PoolGate.0404: no such request, or not visible to you'],
        [
          409,
          "PoolGate.6409: the lease with its extensions would pass the policy's lease.maxTotal (the message names it); PoolGate.7409: no lease (yet), or its deletion has started; PoolGate.0409: another extension of this lease is open",
        ],
        [503, 'PoolGate.0503: stored, but the workflow could not start; retry with the same Idempotency-Key'],
      ),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/requests/{request_id}/extend',
    operationId: 'extendLeasePage',
    tags: ['leases'],
    summary: "The extension page of a lease reminder's personal link (HTML form)",
    description:
      'Opened from the link in a lease reminder (`?as=<email>&sig=...`, no bearer token): the lease, when the node pool is deleted, and a form that posts to the same URL. A link whose signature does not match, or whose person is not (or no longer) a member of the owning team or an admin, is 403.',
    request: {
      params: requestIdParams,
      query: z.object({
        as: z.string().meta({ description: 'the person the link was made out to' }),
        sig: z.string().meta({ description: 'the signature binding the link to the lease and the person' }),
      }),
    },
    responses: {
      200: htmlPage('the extension page with its form'),
      403: htmlPage('the link is not valid, or its person may not extend this lease'),
      404: htmlPage('no such request'),
      409: htmlPage('no lease to extend, or its deletion has started'),
    },
  });

  const approvalParams = z.object({ approval_id: z.string() });
  registry.registerPath({
    method: 'get',
    path: '/approvals/{approval_id}',
    operationId: 'showApproval',
    tags: ['approvals'],
    summary: 'The approval page of a personal link (decides nothing)',
    description:
      'The personal link of an approver (from the e-mail): shows the request and a form to approve or reject it. No bearer token: the signature in the link is the proof. Opening it decides nothing (mail scanners open links).',
    request: { params: approvalParams, query: z.object({ approver: z.string(), sig: z.string() }) },
    responses: {
      200: htmlPage('The request and an Approve / Reject form'),
      403: htmlPage('PoolGate.1403: the signature does not match'),
      409: htmlPage('PoolGate.1409: already decided, or you already voted'),
      410: htmlPage('PoolGate.1410: expired or cancelled'),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/approvals/{approval_id}',
    operationId: 'decideApproval',
    tags: ['approvals'],
    summary: 'Approve or reject (the form of the approval page)',
    description:
      "Posted by the approval page's form, with the form token it carries (it must come from the page, not another site). Records the vote; the stage is decided once enough approvers agree, or at the first rejection.",
    request: {
      params: approvalParams,
      body: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: z.object({
              approver: z.string(),
              sig: z.string(),
              formToken: z.string(),
              decision: z.enum(['approve', 'reject']),
              comment: z.string().optional(),
              orderId: z.string().optional(),
            }),
          },
        },
      },
    },
    responses: {
      200: htmlPage('The decision is recorded'),
      400: htmlPage('ModelArts.50004000: a bad form value (e.g. a missing order id)'),
      403: htmlPage('PoolGate.1403: a bad signature, a stale form, or a cross-site post'),
      409: htmlPage('PoolGate.1409: already decided, or you already voted'),
      410: htmlPage('PoolGate.1410: expired or cancelled'),
    },
  });

  registry.registerPath({
    method: 'post',
    path: '/slack/interactions',
    operationId: 'slackInteractions',
    tags: ['approvals'],
    summary: "Slack's signed button clicks (Approve / Reject)",
    description:
      "The Approve and Reject buttons of the Slack messages, as Slack sends them: checked against the app's signing secret within Slack's 5-minute window, then recorded as a vote when the Slack user is an approver of the stage (never the requester).",
    request: {
      headers: z.object({ 'x-slack-signature': z.string(), 'x-slack-request-timestamp': z.string() }),
      body: { content: { 'application/x-www-form-urlencoded': { schema: z.object({ payload: z.string() }) } } },
    },
    responses: { 200: { description: 'Handled' }, ...errors([401, 'PoolGate.0401: bad or stale Slack signature']) },
  });

  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tags: ['service'],
    summary: 'This document',
    description:
      'The OpenAPI 3.1 document of this API, generated from the schemas the handlers validate with. No bearer token.',
    responses: {
      200: {
        description: 'OpenAPI 3.1',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/health',
    operationId: 'health',
    tags: ['service'],
    summary: 'The API answers',
    description: 'Answers 200 when the API and its function run; it reads nothing else. No bearer token.',
    responses: { 200: { description: 'ok', content: { 'application/json': { schema: HealthSchema } } } },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'poolgate',
      version: '0.1.0',
      description:
        'An approval gate in front of Huawei Cloud ModelArts node-pool creation. Every error body is `{"error_code", "error_msg"}`; the codes are listed in the README.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      // Each deployment answers for itself: the document names no person or address of its own.
      contact: { name: 'The team that runs this poolgate deployment' },
    },
    tags: [
      { name: 'requests', description: 'Ask for a node pool and follow, cancel or retry the request' },
      { name: 'nodepools', description: 'The node pools poolgate created: read them, list them, delete them' },
      {
        name: 'leases',
        description:
          'Time boxes on pay-per-use node pools (X-Lease on a create, or the policy default): reminders before the end, extensions through approval, deletion at the end plus grace',
      },
      { name: 'approvals', description: "The approvers' links, forms and Slack buttons" },
      { name: 'service', description: 'This document and the health check' },
    ],
    servers: [{ url: '/', description: 'the poolgate API that serves this document' }],
  });
}
