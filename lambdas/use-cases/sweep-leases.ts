/**
 * The lease sweep (a scheduled function: every minute on AWS, `POOLGATE_SWEEP_SECONDS` locally). It reads
 * the node-pool records whose next lease event is due from the sparse byLease index (a bounded batch per
 * run, oldest first; no scan, no timer), and for each:
 *  - a reminder point (or the end) has passed: the reminder is claimed by a conditional step write on the
 *    creating request (`lease_reminded`, a deterministic id per lease end and point), then sent: without a
 *    crash each is sent once; a crash between claim and send loses that one (never duplicates it). After
 *    downtime only the latest overdue point is sent; nothing once the deletion is due;
 *  - end + grace has passed: the deletion is claimed on the record (conditional: the end read is still the
 *    end, no deletion claimed; an extension's approval moves the end only if no deletion is claimed, so
 *    whichever write lands first wins); requests on the node pool still waiting (whatever holds the record,
 *    and the open extension) end CANCELLED / LEASE_ENDED; then a `delete` request whose id is derived
 *    from the lease is submitted (trigger `lease`, requester the holder, actor poolgate, no approval), so
 *    overlapping sweeps submit it once;
 *  - a claimed deletion is followed: one that failed is submitted again (a new id, growing waits up to an
 *    hour, counted in `LeaseDeletionFailed`) for as long as the record is live; one refused because the
 *    node pool is not poolgate's any more is never retried, and is reported (`LeaseNodePoolNotOurs`); one
 *    an admin cancelled ends the lease (the node pool stays until deleted by hand).
 * Each due record is read again (consistently) before anything is done: the index may be older than the
 * record. Each record's next event is moved with a write conditional on the one read, so runs may
 * overlap; every path moves it forward or takes the record out of the index, so no record stays at the
 * front of the oldest-first batch.
 */
import type { Policy } from '../config/policy';
import { OpenRequestExistsError } from '../domain/errors';
import {
  deletionRetryMs,
  dueAction,
  formatSeconds,
  leaseDeletionId,
  nextEventAfter,
  reminderStepId,
  scheduleOf,
  type LeaseAction,
} from '../domain/lease';
import type { NodePoolRecord } from '../domain/nodepool-record';
import type { PoolRequestRecord } from '../domain/pool-request';
import { isFinal } from '../domain/status';
import { newStep, stepId } from '../domain/steps';
import { cancelForLeaseEnd, POOLGATE_ACTOR, type CancelDeps } from './cancel-request';
import type { RecordMetric } from './metrics';
import type { Notifier } from './notifier';
import type { Claims, Clock, LeaseRecords, RequestStore, WorkflowRuns } from './ports';
import { claimNodePoolName } from './submit-request';

/** Records handled per run; the rest wait for the next run (the index keeps them due). */
export const LEASE_BATCH = 100;

export interface SweepLeasesDeps extends Omit<CancelDeps, 'policy' | 'notifier' | 'workflow'> {
  readonly policy: Policy;
  readonly leases: LeaseRecords;
  readonly claims: Pick<Claims, 'record' | 'claimNodePoolName'>;
  readonly requests: RequestStore;
  readonly workflow: Pick<WorkflowRuns, 'start' | 'stop'>;
  readonly notifier: Pick<Notifier, 'tellLeaseHolder' | 'showSettled' | 'tellRequester'>;
  readonly recordMetric?: RecordMetric;
  readonly now: Clock;
  /** The first wait before a failed lease deletion is looked at again (doubling, at most an hour). */
  readonly retryBaseMs?: number;
}

export interface SweepLeasesReport {
  /** Reminders (and end notices) sent, as `<node pool>:<step id>`. */
  readonly reminded: string[];
  /** Delete requests submitted. */
  readonly deletions: string[];
  /** Requests cancelled because the lease ended while they waited. */
  readonly cancelled: string[];
  /** Lease deletions that failed and were submitted again. */
  readonly retried: string[];
  /** Node pools whose lease ended but which are not poolgate's any more: never deleted, reported. */
  readonly notOurs: string[];
  /** Records whose handling failed this run (the next run tries again). */
  readonly errors: string[];
}

export async function sweepLeases(deps: SweepLeasesDeps): Promise<SweepLeasesReport> {
  const report: SweepLeasesReport = {
    reminded: [],
    deletions: [],
    cancelled: [],
    retried: [],
    notOurs: [],
    errors: [],
  };
  const due = await deps.leases.dueLeases(deps.now().toISOString(), LEASE_BATCH);
  for (const indexed of due) {
    try {
      // The index may be older than the record (it is eventually consistent on AWS, and an extension or
      // another run may have written since): act on the record as it is now. One whose next event moved
      // is not due any more here; the index has it at its new place.
      const record = await deps.claims.record(indexed);
      if (!record || record.leaseNextAt !== indexed.leaseNextAt) continue;
      await handleLease(record, deps, report);
    } catch (error) {
      report.errors.push(`${indexed.nodePoolName}: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  return report;
}

async function handleLease(record: NodePoolRecord, deps: SweepLeasesDeps, report: SweepLeasesReport): Promise<void> {
  const { leaseEndsAt, leaseTerms, leaseNextAt, creatingRequestId } = record;
  // Every path below moves leaseNextAt forward or takes the record out of the index: one left as it is
  // would stay at the front of the oldest-first batch and, a batch of them, stop the sweep.
  if (!leaseNextAt) return; // not in the index
  if (!leaseEndsAt || !leaseTerms || !creatingRequestId) {
    await deps.leases.leaveLeaseIndex(record, leaseNextAt, 'NO_LEASE');
    return;
  }
  if (record.leaseDeletion) return followDeletion(record, deps, report);
  const now = deps.now().getTime();
  const schedule = scheduleOf(leaseEndsAt, leaseTerms);
  const creating = await deps.requests.get(creatingRequestId);
  const recorded = new Set(creating?.steps.map((s) => s.id) ?? []);
  const action = dueAction(schedule, now, (a) => recorded.has(reminderStepId(leaseEndsAt, a)));
  if (action.kind === 'delete') return startDeletion(record, 1, deps, report);
  if (action.kind !== 'none' && creating) await remind(record, creating, action, schedule, deps, report);
  await deps.leases.moveLeaseNext(record, leaseNextAt, new Date(nextEventAfter(schedule, now)).toISOString());
}

async function remind(
  record: NodePoolRecord,
  creating: PoolRequestRecord,
  action: Exclude<LeaseAction, { kind: 'none' | 'delete' }>,
  schedule: ReturnType<typeof scheduleOf>,
  deps: SweepLeasesDeps,
  report: SweepLeasesReport,
): Promise<void> {
  const endsAt = record.leaseEndsAt!;
  const id = reminderStepId(endsAt, action);
  const deleteAt = new Date(schedule.deleteAt).toISOString();
  // The claim: a step with a deterministic id, written once. Only its writer sends.
  const claim = await deps.requests.recordStep(
    creating.requestId,
    newStep(id, 'lease_reminded', 'ok', {
      at: deps.now(),
      actor: POOLGATE_ACTOR,
      detail: {
        point: action.kind === 'remind' ? formatSeconds(action.beforeSeconds) : 'end',
        endsAt,
        deleteAt,
        to: record.leaseHolder ?? record.creator,
      },
    }),
  );
  if (!claim.recorded) return;
  const estimate = leaseEstimate(record, deps.policy);
  await deps.notifier.tellLeaseHolder(record, {
    ...(action.kind === 'remind'
      ? { kind: 'remind' as const, before: formatSeconds(action.beforeSeconds) }
      : { kind: 'ended' as const }),
    endsAt,
    deleteAt,
    now: deps.now().toISOString(),
    ...(estimate ? { estimate } : {}),
  });
  deps.recordMetric?.('leaseReminded', 1, 'Count');
  report.reminded.push(`${record.nodePoolName}:${id}`);
}

/** The estimated cost of the whole lease (extensions included), when the policy has a price for the flavor. */
export function leaseEstimate(record: NodePoolRecord, policy: Policy): string | undefined {
  const price = record.flavor ? policy.pricing[record.flavor] : undefined;
  if (!price || !record.leaseTerms || record.count === undefined) return undefined;
  const hours = (record.leaseTerms.seconds + (record.leaseExtendedSeconds ?? 0)) / 3600;
  return `${(price.hourly * record.count * hours).toFixed(2)} ${price.currency}`;
}

/**
 * Claims the deletion (attempt `attempt`; a later attempt replaces the failed `previousId`), cancels what
 * waits on the node pool, and submits the delete request.
 */
async function startDeletion(
  record: NodePoolRecord,
  attempt: number,
  deps: SweepLeasesDeps,
  report: SweepLeasesReport,
  previousId?: string,
): Promise<void> {
  const deleteId = leaseDeletionId(record.creatingRequestId!, attempt);
  const nextAt = new Date(deps.now().getTime() + deletionRetryMs(attempt, deps.retryBaseMs)).toISOString();
  const claimed = await deps.leases.claimLeaseDeletion(record, {
    endsAt: record.leaseEndsAt!,
    deleteId,
    attempt,
    nextAt,
    ...(previousId ? { previousId } : {}),
  });
  if (!claimed) {
    // Another run claimed it (then it submits; submitting again is harmless), or an extension moved the end
    // (and the next event with it). Otherwise (the record is not present) look again later.
    const now = await deps.claims.record(record);
    if (now?.leaseDeletion !== deleteId) {
      if (now?.leaseNextAt === record.leaseNextAt) await deps.leases.moveLeaseNext(record, record.leaseNextAt!, nextAt);
      return;
    }
  }
  await submitLeaseDeletion(record, deleteId, attempt, deps, report);
}

async function submitLeaseDeletion(
  record: NodePoolRecord,
  deleteId: string,
  attempt: number,
  deps: SweepLeasesDeps,
  report: SweepLeasesReport,
): Promise<void> {
  const current = (await deps.claims.record(record)) ?? record;
  // Whatever still waits on the node pool (the holder of its record, its open extension) ends now.
  for (const waiting of [current.requestId, current.leaseExtension]) {
    if (waiting && waiting !== deleteId && (await cancelForLeaseEnd(waiting, deps))) report.cancelled.push(waiting);
  }
  const now = deps.now();
  try {
    await claimNodePoolName(record, deleteId, deps, now, { kind: 'delete' });
  } catch (error) {
    // A change under way (being applied) holds the node pool: the next run tries again.
    if (error instanceof OpenRequestExistsError) return;
    throw error;
  }
  const holder = record.leaseHolder ?? record.creator ?? POOLGATE_ACTOR;
  const endsAt = record.leaseEndsAt!;
  const deleteAt = new Date(Date.parse(endsAt) + record.leaseTerms!.graceSeconds * 1000).toISOString();
  const request: PoolRequestRecord = {
    requestId: deleteId,
    kind: 'delete',
    trigger: 'lease',
    status: 'SUBMITTED',
    requester: holder,
    team: record.team ?? '',
    projectId: record.projectId,
    poolName: record.poolName,
    nodePoolName: record.nodePoolName,
    flavor: record.flavor ?? '',
    count: record.count ?? 0,
    maxCount: record.count ?? 0,
    billing: { mode: record.billingMode ?? '0' },
    createRequestId: record.creatingRequestId!,
    ...(record.creator ? { creator: record.creator } : {}),
    stages: [],
    fingerprint: `lease:${deleteId}`,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    steps: [
      newStep('lease-expired', 'lease_expired', 'ok', {
        at: now,
        actor: POOLGATE_ACTOR,
        detail: { endsAt, deleteAt, lease: record.leaseTerms!.duration, attempt },
      }),
      newStep(stepId.submitted(), 'submitted', 'ok', { actor: POOLGATE_ACTOR, at: now }),
    ],
  };
  if (await deps.requests.create(request)) {
    deps.recordMetric?.('leaseExpired', 1, 'Count');
    report.deletions.push(deleteId);
  }
  await deps.workflow.start(deleteId, undefined, 'delete');
}

/**
 * A claimed deletion, due again: still running (look later), failed (submit again), not ours (stop), or
 * cancelled by an admin (stop: the lease is over, the node pool stays).
 */
async function followDeletion(record: NodePoolRecord, deps: SweepLeasesDeps, report: SweepLeasesReport): Promise<void> {
  const deleteId = record.leaseDeletion!;
  const attempt = record.leaseDeletionAttempts ?? 1;
  const request = await deps.requests.get(deleteId);
  const later = () =>
    deps.leases.moveLeaseNext(
      record,
      record.leaseNextAt!,
      new Date(deps.now().getTime() + deletionRetryMs(attempt, deps.retryBaseMs)).toISOString(),
    );
  if (!request) {
    // Claimed but not submitted (a run stopped in between): submit it, and look again later (the node
    // pool's claim may be refused while a change runs).
    await submitLeaseDeletion(record, deleteId, attempt, deps, report);
    await later();
    return;
  }
  if (request.status === 'DELETED') {
    // The record drops its lease in the same write as DELETED; one still in the index (that write not
    // made yet, or made by an older version) has nothing left to do.
    await deps.leases.stopLease(record, deleteId, 'DELETED');
    return;
  }
  if (!isFinal(request.status, true)) {
    // Not started yet (the claim of the node pool was refused while a change ran): submit again.
    if (request.status === 'SUBMITTED') await deps.workflow.start(deleteId, undefined, 'delete');
    await later();
    return;
  }
  if (request.reason === 'NODE_POOL_NOT_OURS') {
    if (await deps.leases.stopLease(record, deleteId, 'NODE_POOL_NOT_OURS')) {
      deps.recordMetric?.('leaseNodePoolNotOurs', 1, 'Count');
      report.notOurs.push(`${record.projectId}/${record.poolName}/${record.nodePoolName}`);
    }
    return;
  }
  if (request.status === 'CANCELLED') {
    // An admin cancelled the deletion (only admins may): the lease is over, the node pool stays until
    // someone deletes it by hand. Not a failure, never submitted again, out of the sweep.
    await deps.leases.stopLease(record, deleteId, 'CANCELLED_BY_ADMIN');
    return;
  }
  deps.recordMetric?.('leaseDeletionFailed', 1, 'Count');
  report.retried.push(deleteId);
  await startDeletion(record, attempt + 1, deps, report, deleteId);
}
