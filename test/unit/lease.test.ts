import { parsePolicy, type Team } from '../../lambdas/config/policy';
import {
  decideLease,
  deletionRetryMs,
  dueAction,
  extensionAllowed,
  firstEvent,
  formatSeconds,
  leaseView,
  nextEventAfter,
  reminderStepId,
  scheduleOf,
  type LeaseAction,
  type LeaseTerms,
} from '../../lambdas/domain/lease';
import { extendLink, verifyExtendLink } from '../../lambdas/domain/lease-link';

const teamWith = (lease: unknown): Team =>
  parsePolicy(
    JSON.stringify({
      teams: [
        {
          name: 'ml',
          members: [{ email: 'alice@example.com' }],
          stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
          quotas: { f: 10, gpu: 4 },
          lease,
        },
      ],
    }),
  ).teams[0];

describe('lease settings in the policy file', () => {
  it('names the field of each refusal', () => {
    const invalid = (lease: unknown) => {
      try {
        teamWith(lease);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(invalid({ default: 'two weeks' })).toContain('teams.0.lease.default: must be a positive ISO 8601 duration');
    expect(invalid({ grace: '-PT1H' })).toContain('teams.0.lease.grace: must be an ISO 8601 duration');
    expect(invalid({ remindBefore: ['P1D', 'soon'] })).toContain('teams.0.lease.remindBefore.1:');
    expect(invalid({ default: 'P2D', max: 'P1D' })).toContain(
      'teams.0.lease.default: must not be longer than max (P1D)',
    );
    expect(invalid({ max: 'P3D', maxTotal: 'P2D' })).toContain('teams.0.lease.max: must not be longer than maxTotal');
    expect(invalid({ required: true })).toContain('teams.0.lease.required: needs a default, max or maxTotal');
    expect(invalid({ flavors: { gpu: { max: 'P9D' } }, maxTotal: 'P5D' })).toContain(
      'teams.0.lease.flavors.gpu.max: must not be longer than maxTotal (P5D)',
    );
    expect(invalid({ deafult: 'P1D' })).toContain('teams.0.lease:');
  });

  it('a flavor overrides the team field by field', () => {
    const team = teamWith({ default: 'P1D', grace: 'PT1H', flavors: { gpu: { default: 'PT8H' } } });
    expect(decideLease(team, 'gpu', '0')).toMatchObject({ ok: true, terms: { seconds: 8 * 3600, graceSeconds: 3600 } });
    expect(decideLease(team, 'f', '0')).toMatchObject({ ok: true, terms: { seconds: 86400 } });
  });
});

describe('deciding the lease of a create', () => {
  const team = teamWith({ default: 'P1D', max: 'P7D', maxTotal: 'P14D', remindBefore: ['PT2H', 'P1D'] });

  it('takes the header, else the default; none opts out unless required', () => {
    expect(decideLease(team, 'f', '0', 'PT36H')).toEqual({
      ok: true,
      terms: {
        seconds: 36 * 3600,
        duration: 'PT36H',
        maxTotalSeconds: 14 * 86400,
        graceSeconds: 0,
        remindBeforeSeconds: [86400, 7200],
      },
    });
    expect(decideLease(team, 'f', '0')).toMatchObject({ ok: true, terms: { duration: 'P1D' } });
    expect(decideLease(team, 'f', '0', 'none')).toEqual({ ok: true });
    const required = teamWith({ max: 'P7D', required: true });
    expect(decideLease(required, 'f', '0', 'none')).toMatchObject({ ok: false });
    expect(decideLease(required, 'f', '0')).toMatchObject({ ok: false });
    expect(decideLease(teamWith(undefined), 'f', '0')).toEqual({ ok: true });
  });

  it('refuses over max, a bad duration, and any header on yearly/monthly (where required never applies)', () => {
    expect(decideLease(team, 'f', '0', 'P8D')).toEqual({
      ok: false,
      message: "X-Lease: P8D is longer than the policy's lease.max P7D for f",
    });
    expect(decideLease(team, 'f', '0', 'P0D')).toMatchObject({ ok: false });
    expect(decideLease(team, 'f', '1', 'P1D')).toMatchObject({ ok: false });
    expect(decideLease(teamWith({ max: 'P7D', required: true }), 'f', '1')).toEqual({ ok: true });
  });

  it('extensions stay within maxTotal', () => {
    const terms = (decideLease(team, 'f', '0', 'P7D') as { terms: LeaseTerms }).terms;
    expect(extensionAllowed(terms, 0, 7 * 86400)).toEqual({ ok: true });
    expect(extensionAllowed(terms, 7 * 86400, 86400)).toMatchObject({ ok: false });
    expect((extensionAllowed(terms, 7 * 86400, 1) as { message: string }).message).toContain('lease.maxTotal of P14D');
  });
});

describe('what is due on a lease', () => {
  const terms: LeaseTerms = { seconds: 100, duration: 'PT100S', graceSeconds: 10, remindBeforeSeconds: [50, 20] };
  const endsAt = '2026-12-01T00:01:40.000Z';
  const start = Date.parse('2026-12-01T00:00:00.000Z');
  const schedule = scheduleOf(endsAt, terms);
  const none = () => false;

  it('reminds at each point, then the end notice, then the deletion', () => {
    expect(dueAction(schedule, start + 10_000, none)).toEqual({ kind: 'none' });
    expect(dueAction(schedule, start + 50_000, none)).toEqual({ kind: 'remind', beforeSeconds: 50 });
    expect(dueAction(schedule, start + 80_000, none)).toEqual({ kind: 'remind', beforeSeconds: 20 });
    expect(dueAction(schedule, start + 100_000, none)).toEqual({ kind: 'ended' });
    expect(dueAction(schedule, start + 110_000, none)).toEqual({ kind: 'delete' });
  });

  it('after downtime only the latest overdue point; nothing already sent; nothing but the deletion once it is due', () => {
    expect(dueAction(schedule, start + 95_000, none)).toEqual({ kind: 'remind', beforeSeconds: 20 });
    const sent = (a: LeaseAction) => reminderStepId(endsAt, a) === `lease-reminded:${endsAt}:20`;
    expect(dueAction(schedule, start + 95_000, sent)).toEqual({ kind: 'none' });
    expect(dueAction(schedule, start + 200_000, () => false)).toEqual({ kind: 'delete' });
  });

  it('the next event follows the points, the end and the deletion', () => {
    expect(firstEvent(schedule, start)).toBe(start + 50_000);
    expect(nextEventAfter(schedule, start + 50_000)).toBe(start + 80_000);
    expect(nextEventAfter(schedule, start + 80_000)).toBe(start + 100_000);
    expect(nextEventAfter(schedule, start + 100_000)).toBe(start + 110_000);
    // A lease shorter than its first point: due at once.
    expect(firstEvent(scheduleOf('2026-12-01T00:00:30.000Z', terms), start)).toBe(start);
  });

  it('failed deletions wait longer each time, at most an hour', () => {
    expect([1, 2, 3].map((n) => deletionRetryMs(n))).toEqual([10_000, 20_000, 40_000]);
    expect(deletionRetryMs(30)).toBe(3_600_000);
  });

  it('views and durations', () => {
    expect(leaseView(terms, { leaseEndsAt: endsAt, leaseExtendedSeconds: 3600 })).toEqual({
      duration: 'PT100S',
      endsAt,
      deleteAt: '2026-12-01T00:01:50.000Z',
      extendedBy: 'PT1H',
    });
    expect(leaseView(terms)).toEqual({ duration: 'PT100S', endsAt: null, deleteAt: null });
    expect([0, 45, 86400, 90061].map(formatSeconds)).toEqual(['PT0S', 'PT45S', 'P1D', 'P1DT1H1M1S']);
  });
});

describe('extension links', () => {
  it('bind one lease and one person', () => {
    const link = new URL(extendLink('https://gate.example.com/', 'req-1', 'Alice@Example.com', 'key'));
    expect(link.pathname).toBe('/requests/req-1/extend');
    const sig = link.searchParams.get('sig')!;
    expect(link.searchParams.get('as')).toBe('alice@example.com');
    expect(verifyExtendLink('req-1', 'alice@example.com', sig, 'key')).toBe(true);
    expect(verifyExtendLink('req-1', 'carol@example.com', sig, 'key')).toBe(false);
    expect(verifyExtendLink('req-2', 'alice@example.com', sig, 'key')).toBe(false);
  });
});
