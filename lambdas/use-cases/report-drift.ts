/**
 * Drift (part of the scheduled reconciliation): node pools poolgate created, changed outside it.
 *
 *  1. walk the node-pool records: each team's present node pools (the inventory partition of the
 *     byTeam index, page by page; no scan);
 *  2. leave alone a node pool with an open request (its latest request has not reached its final
 *     status): the change under way is that request's, and its own workflow follows it;
 *  3. list each project and pool once, and compare each record with the node pool of its name
 *     (../domain/drift.ts): a count other than the approved one, poolgate's label gone or changed, a
 *     changed flavor;
 *  4. claim each difference on the node-pool record (its deterministic observation id added to the
 *     record's `driftSeen` set by a conditional write: once per distinct observation and node pool,
 *     however many runs or concurrent invocations see it, and whichever request is the latest), then
 *     record it on the node pool's latest request as an `unapproved_change` step of that id;
 *  5. only the invocation whose claim won counts it (metric `unapprovedChange`) and mails the team's
 *     approvers and the admins, so each observation is reported once.
 * Nothing here changes the quota: the quota reconciliation makes `used` follow what exists, and never
 * gives nodes back because a label is gone (../domain/quota-reconciliation.ts).
 */
import type { Policy } from '../config/policy';
import { describeDrift, driftStepId, observeDrift, type DriftObservation } from '../domain/drift';
import { isPresent, type NodePoolRecord } from '../domain/nodepool-record';
import type { NodePoolRequest } from '../domain/nodepool-request';
import type { PoolRequestRecord } from '../domain/pool-request';
import { isFinal } from '../domain/status';
import { newStep } from '../domain/steps';
import { teamNamed } from '../domain/teams';
import type { RecordMetric } from './metrics';
import type { Clock, Claims, NodePoolListApi, RequestStore } from './ports';

/** Who hears of an unapproved change: the team's approvers and the admins, each once. */
export interface DriftNotifier {
  tellUnapprovedChange(
    request: PoolRequestRecord,
    record: NodePoolRecord,
    observation: DriftObservation,
    recipients: readonly string[],
  ): Promise<void>;
}

export interface DriftDeps {
  readonly policy: Policy;
  readonly requests: Pick<RequestStore, 'getMany' | 'recordStep'>;
  readonly claims: Pick<Claims, 'inventory' | 'claimDriftObservation'>;
  readonly modelArts: NodePoolListApi;
  readonly notifier: DriftNotifier;
  readonly recordMetric?: RecordMetric;
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

export interface DriftFinding {
  readonly node: string;
  readonly requestId: string;
  readonly stepId: string;
  readonly observation: DriftObservation;
}

export interface DriftReport {
  /** Present node pools compared with ModelArts. */
  readonly compared: number;
  /** `<project>/<pool>/<name>` left alone: a request is open on it. */
  readonly open: readonly string[];
  /** `<project>/<pool>: <error>` that could not be listed (compared again next run). */
  readonly unreadable: readonly string[];
  /** Observations recorded by this run (seen before: not here). */
  readonly recorded: readonly DriftFinding[];
  /**
   * `<stepId> on <requestId>: <error>` for each recorded observation whose mail could not be sent. The
   * step is written (and counted, so the alarm still fires); the mail is not tried again, since only the
   * write that records a step may send its mail.
   */
  readonly unmailed: readonly string[];
}

const INVENTORY_PAGE = 100;
const nameOf = (r: NodePoolRecord) => `${r.projectId}/${r.poolName}/${r.nodePoolName}`;

export async function reportDrift(deps: DriftDeps): Promise<DriftReport> {
  // 1. Every team's present node pools.
  const records: NodePoolRecord[] = [];
  for (const team of deps.policy.teams) {
    let startAt: Parameters<Claims['inventory']>[1]['startAt'];
    do {
      const page = await deps.claims.inventory(team.name, { limit: INVENTORY_PAGE, ...(startAt ? { startAt } : {}) });
      records.push(...page.records.filter(isPresent));
      startAt = page.next;
    } while (startAt);
  }

  // 2. A node pool whose latest request is still open is that request's to follow.
  const latest = await deps.requests.getMany([...new Set(records.map((r) => r.requestId))]);
  const open: string[] = [];
  const settled: Array<{ record: NodePoolRecord; request: PoolRequestRecord }> = [];
  for (const record of records) {
    const request = latest.get(record.requestId);
    if (!request || !isFinal(request.status, deps.policy.nodeTracking.enabled)) open.push(nameOf(record));
    else settled.push({ record, request });
  }

  // 3. Each pool listed once; each record compared with the node pool of its name.
  const listings = new Map<string, Promise<ReadonlyArray<Pick<NodePoolRequest, 'metadata' | 'spec'>>>>();
  const unreadable = new Set<string>();
  const recorded: DriftFinding[] = [];
  const unmailed: string[] = [];
  let compared = 0;
  for (const { record, request } of settled) {
    const pair = `${record.projectId}/${record.poolName}`;
    if (!listings.has(pair)) listings.set(pair, deps.modelArts.listNodePools(record.projectId, record.poolName));
    let listed;
    try {
      listed = await listings.get(pair)!;
    } catch (error) {
      unreadable.add(`${pair}: ${(error as Error).message}`);
      continue;
    }
    const shown = listed.find((n) => n.metadata?.name === record.nodePoolName);
    if (!shown || !isPresent(record)) continue;
    compared += 1;
    for (const observation of observeDrift(record, shown)) {
      const finding = await recordOnce(record, request, observation, deps, unmailed);
      if (finding) recorded.push(finding);
    }
  }
  return { compared, open, unreadable: [...unreadable], recorded, unmailed };
}

/** 4-5. The step, written once; the writer alone counts and mails it. */
async function recordOnce(
  record: NodePoolRecord,
  request: PoolRequestRecord,
  observation: DriftObservation,
  deps: DriftDeps,
  unmailed: string[],
): Promise<DriftFinding | undefined> {
  const id = driftStepId(observation);
  if (request.steps.some((s) => s.id === id)) return undefined;
  // The claim is on the node pool, not on its latest request: a newer request becoming the latest (a
  // scale, a lease deletion refused as not ours) must not make an old observation new again.
  if (!(await deps.claims.claimDriftObservation(record, id))) return undefined;
  const written = await deps.requests.recordStep(
    request.requestId,
    newStep(id, 'unapproved_change', 'error', {
      at: deps.now(),
      detail: {
        change: observation.kind,
        expected: observation.expected,
        found: observation.found,
        nodePool: record.nodePoolName,
        message: describeDrift(record.nodePoolName, observation),
      },
    }),
  );
  deps.recordMetric?.('unapprovedChange', 1, 'Count');
  try {
    await deps.notifier.tellUnapprovedChange(written.request, record, observation, recipientsOf(deps.policy, record));
  } catch (error) {
    // One mail that cannot be sent does not stop the run (other node pools, the backfill after it).
    unmailed.push(`${id} on ${request.requestId}: ${(error as Error).message}`);
  }
  return { node: nameOf(record), requestId: request.requestId, stepId: id, observation };
}

/** The owning team's approvers (every stage, and its escalation contacts) and the policy's admins, each once. */
export function recipientsOf(policy: Policy, record: Pick<NodePoolRecord, 'team'>): string[] {
  const team = teamNamed(policy, record.team);
  const people = [
    ...(team?.stages.flatMap((stage) => stage.approvers.map((a) => a.email)) ?? []),
    ...(team?.escalation.map((e) => e.email) ?? []),
    ...policy.admins,
  ];
  return [...new Set(people)];
}
