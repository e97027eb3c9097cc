/**
 * Leases: an optional time box on a pay-per-use node pool (docs/approvals.md, "Leases").
 *
 *   X-Lease (or the policy's default) -> the request's `lease` (its duration and the settings that apply,
 *   frozen) -> the node-pool record's lease once ModelArts accepted the create (`leaseEndsAt` = the
 *   `node_pool_created` time + duration) -> reminders at `remindBefore` points, a last notice at the end,
 *   the deletion claimed at end + grace, unless an approved extension moved the end first.
 *
 * Pure: the times are numbers (epoch ms) or ISO strings handed in; nothing here reads a clock.
 */
import type { Team } from '../config/policy';
import { durationSeconds, formatSeconds } from './durations';

export { formatSeconds };
import type { BillingMode } from './billing';

/** The lease settings that apply to one node pool, frozen on its request and record when it is created. */
export interface LeaseTerms {
  /** The lease asked for (or the default), in seconds. */
  readonly seconds: number;
  /** As the request said it (`P14D`), or the policy default's text. */
  readonly duration: string;
  /** The cap including extensions (absent: none). */
  readonly maxTotalSeconds?: number;
  /** Between the end and the deletion. */
  readonly graceSeconds: number;
  /** When before the end the holder is reminded, longest first. */
  readonly remindBeforeSeconds: readonly number[];
}

/** The lease fields of a node-pool record (absent: no lease). */
export interface RecordLease {
  readonly leaseEndsAt?: string;
  readonly leaseTerms?: LeaseTerms;
  /** The seconds extensions have added so far. */
  readonly leaseExtendedSeconds?: number;
  /** The lease holder: the creating request's requester. */
  readonly leaseHolder?: string;
  /** The next lease event (a reminder point, the end, the deletion or its next attempt): the byLease index's sort key. */
  readonly leaseNextAt?: string;
  /** The open extension request (at most one per lease). */
  readonly leaseExtension?: string;
  /** The last extension applied (a retried apply finds it done). */
  readonly leaseLastExtension?: string;
  /** The deletion was claimed (by the sweep): the delete request's id. No extension moves the end after this. */
  readonly leaseDeletion?: string;
  /** How many deletions the lease has submitted (a failed one is submitted again, with growing waits). */
  readonly leaseDeletionAttempts?: number;
}

/** The byLease index's one partition (sparse: only records with a live lease carry it). */
export const LEASE_PARTITION = 'LEASE';

/** `X-Lease: none`: the request asks for no lease. */
export const NO_LEASE = 'none';

/** The longest a lease (with extensions) may be: the ISO durations the policy uses have no years. */
export const MAX_LEASE_SECONDS = 366 * 86400;

export type LeaseDecision =
  { readonly ok: true; readonly terms?: LeaseTerms } | { readonly ok: false; readonly message: string };

type Limits = NonNullable<Team['lease']>;

/** The team's settings with the flavor's own winning, field by field. */
export function leaseLimitsFor(team: Team, flavor: string): Omit<Limits, 'flavors'> | undefined {
  if (!team.lease) return undefined;
  const { flavors, ...teamLimits } = team.lease;
  return { ...teamLimits, ...(flavors?.[flavor] ?? {}) };
}

function parseDuration(text: string): number | undefined {
  try {
    const seconds = durationSeconds(text);
    return seconds > 0 ? seconds : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lease of a create: from its `X-Lease` header (absent: the policy default), checked against the
 * policy of the team and flavor. Refusals name the header and the limit.
 */
export function decideLease(team: Team, flavor: string, billingMode: BillingMode, header?: string): LeaseDecision {
  const asked = header?.trim();
  const limits = leaseLimitsFor(team, flavor);
  if (billingMode === '1') {
    if (asked)
      return {
        ok: false,
        message: 'X-Lease: a yearly/monthly node pool cannot have a lease (its period is its lease); remove the header',
      };
    return { ok: true };
  }
  if (asked?.toLowerCase() === NO_LEASE) {
    if (limits?.required)
      return {
        ok: false,
        message: `X-Lease: team ${team.name} requires a lease for ${flavor} (policy lease.required); send a duration such as ${limits.default ?? limits.max ?? 'P7D'}`,
      };
    return { ok: true };
  }
  const text = asked || limits?.default;
  if (!text) {
    if (limits?.required)
      return {
        ok: false,
        message: `X-Lease: team ${team.name} requires a lease for ${flavor} (policy lease.required); send a duration such as ${limits.max ?? 'P7D'}`,
      };
    return { ok: true };
  }
  const seconds = parseDuration(text);
  if (seconds === undefined)
    return {
      ok: false,
      message: `X-Lease: must be a positive ISO 8601 duration such as P14D or PT36H, or "none"; got ${JSON.stringify(text)}`,
    };
  const max = limits?.max;
  if (max && seconds > durationSeconds(max))
    return { ok: false, message: `X-Lease: ${text} is longer than the policy's lease.max ${max} for ${flavor}` };
  const maxTotal = limits?.maxTotal;
  if (maxTotal && seconds > durationSeconds(maxTotal))
    return {
      ok: false,
      message: `X-Lease: ${text} is longer than the policy's lease.maxTotal ${maxTotal} for ${flavor}`,
    };
  if (seconds > MAX_LEASE_SECONDS)
    return { ok: false, message: `X-Lease: ${text} is longer than poolgate's longest lease, P366D` };
  const remindBeforeSeconds = [...new Set((limits?.remindBefore ?? []).map(durationSeconds))].sort((a, b) => b - a);
  return {
    ok: true,
    terms: {
      seconds,
      duration: text,
      ...(maxTotal ? { maxTotalSeconds: durationSeconds(maxTotal) } : {}),
      graceSeconds: limits?.grace ? durationSeconds(limits.grace) : 0,
      remindBeforeSeconds,
    },
  };
}

/** Whether an extension of `seconds` stays within the lease's cap; the refusal's message names it. */
export function extensionAllowed(
  terms: LeaseTerms,
  extendedSeconds: number,
  seconds: number,
): { ok: true } | { ok: false; message: string } {
  const total = terms.seconds + extendedSeconds + seconds;
  if (terms.maxTotalSeconds !== undefined && total > terms.maxTotalSeconds)
    return {
      ok: false,
      message: `the lease would last ${formatSeconds(total)} in all, past the policy's lease.maxTotal of ${formatSeconds(terms.maxTotalSeconds)} (extended by ${formatSeconds(extendedSeconds)} so far)`,
    };
  if (total > MAX_LEASE_SECONDS)
    return {
      ok: false,
      message: `the lease would last ${formatSeconds(total)} in all, past poolgate's longest lease, P366D`,
    };
  return { ok: true };
}

/** A positive duration of an extension, or undefined. */
export function extensionSeconds(duration: unknown): number | undefined {
  return typeof duration === 'string' ? parseDuration(duration) : undefined;
}

/** What is due on a lease at `now`: what to send or do, and when the next event is. */
export type LeaseAction =
  /** Remind at this point (seconds before the end); earlier overdue points are skipped. */
  | { readonly kind: 'remind'; readonly beforeSeconds: number }
  /** The lease has ended; the deletion comes at end + grace. */
  | { readonly kind: 'ended' }
  /** End + grace has passed: claim the deletion. */
  | { readonly kind: 'delete' }
  | { readonly kind: 'none' };

export interface LeaseSchedule {
  readonly endsAt: number;
  readonly deleteAt: number;
  /** The reminder points as times, latest last. */
  readonly points: ReadonlyArray<{ readonly beforeSeconds: number; readonly at: number }>;
}

export function scheduleOf(endsAt: string, terms: LeaseTerms): LeaseSchedule {
  const end = Date.parse(endsAt);
  return {
    endsAt: end,
    deleteAt: end + terms.graceSeconds * 1000,
    points: terms.remindBeforeSeconds
      .map((s) => ({ beforeSeconds: s, at: end - s * 1000 }))
      .sort((a, b) => a.at - b.at),
  };
}

/**
 * What is due at `now`, given the points already passed (`done`, by their step ids): only the latest
 * overdue point is sent (after downtime the earlier ones are stale), the end notice only before the
 * deletion is due, and once the deletion is due nothing else.
 */
export function dueAction(schedule: LeaseSchedule, now: number, sent: (action: LeaseAction) => boolean): LeaseAction {
  if (now >= schedule.deleteAt) return { kind: 'delete' };
  if (now >= schedule.endsAt) {
    const ended: LeaseAction = { kind: 'ended' };
    return sent(ended) ? { kind: 'none' } : ended;
  }
  const overdue = schedule.points.filter((p) => p.at <= now);
  const latest = overdue[overdue.length - 1];
  if (!latest) return { kind: 'none' };
  const remind: LeaseAction = { kind: 'remind', beforeSeconds: latest.beforeSeconds };
  return sent(remind) ? { kind: 'none' } : remind;
}

/** The next time anything is due after `now` (a later reminder point, the end, or the deletion). */
export function nextEventAfter(schedule: LeaseSchedule, now: number): number {
  const times = [...schedule.points.map((p) => p.at), schedule.endsAt, schedule.deleteAt].filter((t) => t > now);
  return times.length ? Math.min(...times) : schedule.deleteAt;
}

/** The first event of a new lease, or of a lease whose end moved. */
export function firstEvent(schedule: LeaseSchedule, now: number): number {
  const times = [...schedule.points.map((p) => p.at), schedule.endsAt, schedule.deleteAt];
  const future = times.filter((t) => t > now);
  // Overdue already (a short lease, points before its start): due now, the latest overdue point wins.
  return future.length === times.length ? Math.min(...future) : now;
}

/** The step id of a reminder: one per lease end and point, so a claimed reminder is never sent twice. */
export function reminderStepId(endsAt: string, action: LeaseAction): string {
  return action.kind === 'remind' ? `lease-reminded:${endsAt}:${action.beforeSeconds}` : `lease-ended:${endsAt}`;
}

/** The id of the delete request a lease submits: derived from the lease, so overlapping sweeps submit one. */
export function leaseDeletionId(creatingRequestId: string, attempt: number): string {
  return `${creatingRequestId}-lease-${attempt}`;
}

/** How long the sweep waits before it looks again at a lease deletion: growing, at most an hour. */
export function deletionRetryMs(attempt: number, baseMs = 10_000): number {
  return Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** The API's view of a lease: its duration, and its end once the record has one. */
export function leaseView(
  terms: LeaseTerms,
  record?: Pick<RecordLease, 'leaseEndsAt' | 'leaseExtendedSeconds'>,
): { duration: string; endsAt: string | null; deleteAt: string | null; extendedBy?: string } {
  const endsAt = record?.leaseEndsAt ?? null;
  return {
    duration: terms.duration,
    endsAt,
    deleteAt: endsAt ? new Date(Date.parse(endsAt) + terms.graceSeconds * 1000).toISOString() : null,
    ...(record?.leaseExtendedSeconds ? { extendedBy: formatSeconds(record.leaseExtendedSeconds) } : {}),
  };
}

/** The end of a lease that started at `startedAt`. */
export function leaseEnd(startedAt: string, terms: Pick<LeaseTerms, 'seconds'>): string {
  return new Date(Date.parse(startedAt) + terms.seconds * 1000).toISOString();
}
