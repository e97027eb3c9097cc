/**
 * The node-tracking schedule (lambdas/domain/tracking-schedule.ts), driven as the workflow drives it:
 * CreateNodePool (or ApplyChange) hands on the first wait, then each CheckNodes hands on the next one,
 * each computed from the time since ModelArts accepted the change.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy } from '../../lambdas/config/policy';
import {
  DEFAULT_POLL_INTERVAL_SECONDS,
  trackingWaitSeconds,
  trackingWaitSince,
} from '../../lambdas/domain/tracking-schedule';

/** The repository's policy without its node tracking (which sets a short interval for the local stack). */
const { nodeTracking: _tracking, ...minimalPolicy } = JSON.parse(
  readFileSync(join(__dirname, '../../poolgate.config.json'), 'utf8'),
) as Record<string, unknown>;

interface Followed {
  /** Seconds after the acceptance at which each check ran. */
  readonly checks: number[];
  /** Seconds after the acceptance at which the nodes were seen ready. */
  readonly noticedAt: number;
}

/**
 * Follows nodes that are ready `readyAfter` seconds after the acceptance; each check takes `checkSeconds`
 * (the Lambda and ModelArts round trip) before it answers. `resumeAt`: a restart at that moment (the run
 * goes on with a check at once, as a retried or restarted run at CheckNodes does).
 */
function follow(
  readyAfter: number,
  pollIntervalSeconds: number,
  options: { checkSeconds?: number; startAt?: number; resumeAt?: number } = {},
): Followed {
  const checkSeconds = options.checkSeconds ?? 0;
  const checks: number[] = [];
  let t = options.startAt ?? 0;
  let resumed = options.resumeAt === undefined;
  t += trackingWaitSeconds(t, { pollIntervalSeconds });
  for (let guard = 0; guard < 10_000; guard++) {
    if (!resumed && options.resumeAt !== undefined && t > options.resumeAt) {
      t = options.resumeAt;
      resumed = true;
    }
    checks.push(t);
    t += checkSeconds;
    if (checks[checks.length - 1] >= readyAfter) return { checks, noticedAt: checks[checks.length - 1] };
    t += trackingWaitSeconds(t, { pollIntervalSeconds });
  }
  throw new Error('never noticed');
}

const gaps = (from: number, checks: readonly number[]) => checks.map((c, i) => c - (i ? checks[i - 1] : from));

describe('tracking schedule', () => {
  it('follows nodes that take 10 minutes with at most 8 checks, and no gap over 90 s in the first 10 minutes', () => {
    const { checks, noticedAt } = follow(600, DEFAULT_POLL_INTERVAL_SECONDS);
    expect(checks.filter((c) => c <= 600).length).toBeLessThanOrEqual(8);
    expect(checks.length).toBeLessThanOrEqual(8);
    const inFirstTenMinutes = gaps(0, checks).filter((_, i) => checks[i] <= 600 + 90);
    expect(Math.max(...inFirstTenMinutes)).toBeLessThanOrEqual(90);
    expect(noticedAt - 600).toBeLessThanOrEqual(90);
    expect(checks).toEqual([90, 180, 270, 360, 450, 540, 630]);
  });

  it('notices readiness within 90 s whenever it happens in the first hour, and checks at most once per 90 s', () => {
    for (let readyAfter = 1; readyAfter <= 3600; readyAfter += 7) {
      const { checks, noticedAt } = follow(readyAfter, DEFAULT_POLL_INTERVAL_SECONDS);
      expect(noticedAt - readyAfter).toBeLessThanOrEqual(90);
      expect(noticedAt - readyAfter).toBeGreaterThanOrEqual(0);
      expect(checks.length).toBe(Math.ceil(readyAfter / 90));
    }
  });

  it('keeps its grid when checks take time: a slow check shortens the next wait instead of pushing every later check', () => {
    const { checks } = follow(600, DEFAULT_POLL_INTERVAL_SECONDS, { checkSeconds: 2.4 });
    expect(checks).toHaveLength(7);
    expect(Math.max(...gaps(0, checks))).toBeLessThanOrEqual(90 + 1);
    checks.forEach((c, i) => expect(c).toBeGreaterThanOrEqual(90 * (i + 1)));
    checks.forEach((c, i) => expect(c).toBeLessThan(90 * (i + 1) + 2.4 + 1));
  });

  it('continues across a restart or a retry: the run resumed mid-interval checks at once, then goes back to the grid', () => {
    const { checks } = follow(600, DEFAULT_POLL_INTERVAL_SECONDS, { resumeAt: 200 });
    expect(checks).toEqual([90, 180, 200, 270, 360, 450, 540, 630]);
    // A run that found the node pool made long ago (CreateNodePool's show-first) waits for the next point only.
    expect(follow(600, DEFAULT_POLL_INTERVAL_SECONDS, { startAt: 400 }).checks).toEqual([450, 540, 630]);
  });

  it('waits at least one whole second, and the rest of the interval otherwise', () => {
    expect(trackingWaitSeconds(0, { pollIntervalSeconds: 90 })).toBe(90);
    expect(trackingWaitSeconds(90, { pollIntervalSeconds: 90 })).toBe(90);
    expect(trackingWaitSeconds(89.7, { pollIntervalSeconds: 90 })).toBe(1);
    expect(trackingWaitSeconds(100.5, { pollIntervalSeconds: 90 })).toBe(80);
    expect(trackingWaitSeconds(-5, { pollIntervalSeconds: 90 })).toBe(90);
    expect(trackingWaitSeconds(Number.NaN, { pollIntervalSeconds: 90 })).toBe(90);
    expect(trackingWaitSeconds(3.2, { pollIntervalSeconds: 1 })).toBe(1);
  });

  it('counts from the acceptance time the request recorded, and from now when there is none', () => {
    const now = new Date('2026-12-07T01:10:00.000Z');
    expect(trackingWaitSince('2026-12-07T01:05:00.000Z', now, { pollIntervalSeconds: 90 })).toBe(60);
    expect(trackingWaitSince(undefined, now, { pollIntervalSeconds: 90 })).toBe(90);
    expect(trackingWaitSince('not a time', now, { pollIntervalSeconds: 90 })).toBe(90);
  });

  it('still takes policies that set pollIntervalSeconds: it is the longest wait (30 s polls as before, 1 s in tests)', () => {
    expect(follow(600, 30).checks).toHaveLength(20);
    expect(follow(2.5, 1).checks).toEqual([1, 2, 3]);
    const policy = parsePolicy(JSON.stringify({ ...minimalPolicy, nodeTracking: { pollIntervalSeconds: 30 } }));
    expect(policy.nodeTracking.pollIntervalSeconds).toBe(30);
  });

  it('defaults to a 90 s interval when the policy names none', () => {
    const policy = parsePolicy(JSON.stringify(minimalPolicy));
    expect(policy.nodeTracking).toEqual({ enabled: true, pollIntervalSeconds: 90, timeoutSeconds: 3600 });
  });
});
