/**
 * What a request does to its node pool (its `kind`) and what set it off (its `trigger`). Every kind runs
 * through the one workflow (lib/workflow-definition.ts): check, approval when the policy asks for it,
 * apply, track, finalize; the tasks dispatch on the kind.
 *
 *   create  POST   .../nodepools                  ends ACTIVE (CREATED without node tracking)
 *   delete  DELETE .../nodepools/{nodepool_name}  ends DELETED once ModelArts no longer shows it
 * (`scale` and `extend` come with the next issues.)
 */
export const REQUEST_KINDS = ['create', 'delete'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** `user`: someone asked through the API (leases will add `lease`). */
export const REQUEST_TRIGGERS = ['user'] as const;
export type RequestTrigger = (typeof REQUEST_TRIGGERS)[number];

/**
 * The changes a policy stage condition may name (`when.changes`). A stage without the condition
 * applies to `create` and `scale-up`, as every stage did before kinds existed; `scale-down`, `update`
 * and `delete` need no approval unless a stage names them.
 */
export const CHANGE_KINDS = ['create', 'scale-up', 'scale-down', 'update', 'delete', 'extend'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];
export const DEFAULT_STAGE_CHANGES: readonly ChangeKind[] = ['create', 'scale-up'];

export function isRequestKind(value: string): value is RequestKind {
  return (REQUEST_KINDS as readonly string[]).includes(value);
}

/** The kind of a stored request: requests stored before kinds existed are creations. */
export function kindOf(request: { readonly kind?: RequestKind }): RequestKind {
  return request.kind ?? 'create';
}
