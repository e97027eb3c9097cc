/**
 * What a scale request changes, in words approvers read. Kept apart from the PatchNodePool checks
 * (nodepool-patch.ts, which carries zod) so that presentation code bundles without a schema library.
 */
/** What a PATCH does, by its count: the policy stage condition `changes` names these. */
export const SCALE_CHANGE_KINDS = ['scale-up', 'scale-down', 'update'] as const;
export type ScaleChangeKind = (typeof SCALE_CHANGE_KINDS)[number];

export interface ScaleChange {
  readonly kind: ScaleChangeKind;
  /** The node count ModelArts shows before the change. */
  readonly from: number;
  /** The node count asked for. */
  readonly to: number;
}

/** "from 2 to 6 nodes, +4" (or "-4"; an update: "labels/taints, 2 nodes unchanged"). */
export function describeChange(change: ScaleChange): string {
  if (change.kind === 'update') return `labels, taints or limits only; ${change.to} node(s) unchanged`;
  const delta = change.to - change.from;
  return `from ${change.from} to ${change.to} nodes, ${delta > 0 ? '+' : ''}${delta}`;
}
