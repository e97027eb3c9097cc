/**
 * Drift: a node pool poolgate created, changed outside poolgate (in the console, with another tool).
 * The reconciliation compares each node-pool record with what ModelArts shows under its name and
 * reports each difference once: the step that records it has an id derived from the observation, so
 * the same difference seen again on the next run is not recorded (nor mailed) again, and a new one is.
 * Pure; use-cases/report-drift.ts reads and writes.
 */
import { OWNER_LABEL } from './modelarts';
import type { NodePoolRequest } from './nodepool-request';
import type { NodePoolRecord } from './nodepool-record';

export const DRIFT_KINDS = ['count', 'label', 'flavor'] as const;
/**
 * `count`: the node count is not what poolgate approved and counts (the record's `count`);
 * `label`: poolgate's ownership label (`poolgate/request-id`) is gone or names another request;
 * `flavor`: the flavor is not the one approved (ModelArts refuses that change; the console may not).
 */
export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface DriftObservation {
  readonly kind: DriftKind;
  /** What poolgate approved and records. */
  readonly expected: string | number;
  /** What ModelArts shows (`null`: the label is absent). */
  readonly found: string | number | null;
}

/** What the record must know to be compared. */
export type ComparedRecord = Pick<NodePoolRecord, 'nodePoolName'> &
  Required<Pick<NodePoolRecord, 'creatingRequestId' | 'flavor' | 'count'>>;

/**
 * The differences between the record and the node pool ModelArts shows under its name, in a fixed
 * order (count, label, flavor). A node pool ModelArts no longer shows is not drift here: the quota
 * reconciliation gives its nodes back and says so on the creating request (`quota_reconciled`).
 */
export function observeDrift(record: ComparedRecord, shown: Pick<NodePoolRequest, 'spec'>): DriftObservation[] {
  const resources = shown.spec?.resources;
  const observations: DriftObservation[] = [];
  const count = resources?.count;
  if (typeof count === 'number' && count !== record.count)
    observations.push({ kind: 'count', expected: record.count, found: count });
  const label = resources?.labels?.[OWNER_LABEL];
  if (label !== record.creatingRequestId)
    observations.push({ kind: 'label', expected: record.creatingRequestId, found: label ?? null });
  if (resources?.flavor !== undefined && resources.flavor !== record.flavor)
    observations.push({ kind: 'flavor', expected: record.flavor, found: resources.flavor });
  return observations;
}

/**
 * The step id of an observation: `unapproved-change:<kind>:<expected>:<found>` (`-` for an absent label).
 * Deterministic, so that the step is recorded once per distinct observation; long values are cut to keep
 * the id short (ids are compared whole, so a cut value only merges observations that differ past 100 characters).
 */
export function driftStepId(observation: DriftObservation): string {
  const part = (value: string | number | null) => (value === null ? '-' : String(value).slice(0, 100));
  return `unapproved-change:${observation.kind}:${part(observation.expected)}:${part(observation.found)}`;
}

/** One line that says what changed, for the step, the mail and the request page. */
export function describeDrift(nodePoolName: string, observation: DriftObservation): string {
  switch (observation.kind) {
    case 'count':
      return `node pool ${nodePoolName} has ${observation.found} node(s) in ModelArts, but ${observation.expected} were approved: changed outside poolgate`;
    case 'label':
      return observation.found === null
        ? `node pool ${nodePoolName} no longer carries poolgate's label ${OWNER_LABEL} (it was ${observation.expected}): removed outside poolgate; its nodes stay counted`
        : `node pool ${nodePoolName} carries ${OWNER_LABEL}=${observation.found}, not ${observation.expected}: changed outside poolgate; its nodes stay counted`;
    case 'flavor':
      return `node pool ${nodePoolName} has flavor ${observation.found} in ModelArts, but ${observation.expected} was approved: changed outside poolgate`;
  }
}
