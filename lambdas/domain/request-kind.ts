import { REQUEST_KINDS, REQUEST_TRIGGERS, type RequestKind, type RequestTrigger } from '../../contracts/api-values';

/** What a request does to its node pool and what set it off: declared in the API contract's values. */
export { REQUEST_KINDS, REQUEST_TRIGGERS, type RequestKind, type RequestTrigger };

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
