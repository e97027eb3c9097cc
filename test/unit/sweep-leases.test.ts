/**
 * The lease sweep against a real table (dynalite), with a clock the test moves: what it does with a lease
 * deletion an admin cancelled, a cancellation that crashed half-way, records that would block its
 * oldest-first batch, and an index entry older than the record.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { PlannedStage } from '../../lambdas/domain/approval-plan';
import { parsePolicy } from '../../lambdas/config/policy';
import { leaseDeletionId, type LeaseTerms } from '../../lambdas/domain/lease';
import { nodePoolKey, type NodePoolFacts } from '../../lambdas/domain/nodepool-record';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep } from '../../lambdas/domain/steps';
import type { MetricName } from '../../lambdas/use-cases/metrics';
import { applyChange } from '../../lambdas/use-cases/apply-change';
import { LEASE_BATCH, sweepLeases, type SweepLeasesDeps } from '../../lambdas/use-cases/sweep-leases';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const policy = parsePolicy(
  JSON.stringify({
    admins: ['root@example.com'],
    teams: [
      {
        name: 'ml-platform',
        members: [{ email: 'alice@example.com' }],
        stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
        quotas: { f: 1000 },
      },
    ],
  }),
);

const table = useTestTable();
let requests: RequestRepository;
let claims: ClaimRepository;
let approvals: ApprovalRepository;
let quotas: QuotaRepository;
beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
  claims = new ClaimRepository(table.db, table.tableName);
  approvals = new ApprovalRepository(table.db, table.tableName);
  quotas = new QuotaRepository(table.db, table.tableName);
});

/** One hour, reminded 30 and 10 minutes before its end, deleted 5 minutes after it. */
const TERMS: LeaseTerms = { seconds: 3600, duration: 'PT1H', graceSeconds: 300, remindBeforeSeconds: [1800, 600] };
const T0 = Date.parse('2026-12-01T00:00:00.000Z');

let seq = 0;
/** A leased node pool poolgate created at T0 (its creating request ACTIVE, its record present). */
async function leased(): Promise<{ creating: PoolRequestRecord; facts: NodePoolFacts }> {
  const id = `l${++seq}-${Date.now()}`;
  const creating: PoolRequestRecord = { ...requestRecord(id), status: 'ACTIVE', nodePoolName: `np-${id}` };
  await requests.create(creating);
  const facts: NodePoolFacts = {
    projectId: 'p',
    poolName: 'pool',
    nodePoolName: creating.nodePoolName,
    team: 'ml-platform',
    creatingRequestId: id,
    creator: 'alice@example.com',
    flavor: 'f',
    count: 1,
    billingMode: '0',
    leaseTerms: TERMS,
    leaseHolder: 'alice@example.com',
  };
  expect(await claims.claimNodePoolName(facts, id, async () => false, new Date(T0), { facts })).toEqual({ ok: true });
  expect(await claims.markPresent(facts, new Date(T0).toISOString())).toBe(true);
  return { creating, facts };
}

interface Seen {
  metrics: MetricName[];
  started: string[];
  stopped: string[];
  told: Array<{ node: string; kind: string; endsAt: string }>;
}

function deps(at: () => number, seen: Seen, over: Partial<SweepLeasesDeps> = {}): SweepLeasesDeps {
  return {
    policy,
    requests,
    claims,
    leases: claims,
    approvals,
    quotas,
    now: () => new Date(at()),
    recordMetric: (name) => void seen.metrics.push(name),
    workflow: {
      start: async (id) => {
        seen.started.push(id);
        return 'started';
      },
      stop: async (id) => void seen.stopped.push(id),
    },
    notifier: {
      tellLeaseHolder: async (record, notice) =>
        void seen.told.push({ node: record.nodePoolName, kind: notice.kind, endsAt: notice.endsAt }),
      showSettled: async () => undefined,
      tellRequester: async () => undefined,
    },
    retryBaseMs: 1000,
    ...over,
  };
}
const fresh = (): Seen => ({ metrics: [], started: [], stopped: [], told: [] });
const END_PLUS_GRACE = T0 + 3600_000 + 300_000;

describe('a lease deletion an admin cancelled', () => {
  it('ends the lease: not submitted again, not counted as a failure, out of the sweep', async () => {
    const { creating, facts } = await leased();
    const seen = fresh();
    let now = END_PLUS_GRACE + 1000;
    const sweep = deps(() => now, seen);
    const first = await sweepLeases(sweep);
    const deleteId = leaseDeletionId(creating.requestId, 1);
    expect(first.deletions).toEqual([deleteId]);

    // An admin cancels the deletion before it runs.
    await requests.recordStep(deleteId, newStep('cancelled', 'cancelled', 'ok', { actor: 'root@example.com' }), {
      status: 'CANCELLED',
      reason: 'CANCELLED_BY_USER',
    });
    now += 3_600_000;
    const second = await sweepLeases(sweep);
    expect(second).toMatchObject({ deletions: [], retried: [], errors: [] });
    expect(await requests.get(leaseDeletionId(creating.requestId, 2))).toBeUndefined();
    expect(seen.metrics).not.toContain('leaseDeletionFailed');
    const record = await claims.record(facts);
    expect(record).toMatchObject({ state: 'present', leaseStopped: 'CANCELLED_BY_ADMIN', leaseDeletion: deleteId });
    expect(
      (await claims.dueLeases(new Date(now + 86_400_000).toISOString(), LEASE_BATCH)).map((r) => r.nodePoolName),
    ).not.toContain(facts.nodePoolName);
    // An extension cannot revive it: the deletion is still claimed on the record.
    expect(await claims.claimExtension(facts, 'ext-after-cancel')).toBe(false);
  });
});

describe('a lease-end cancellation that crashed before it settled', () => {
  it('is settled by the next look: reservation released, run stopped, approval closed', async () => {
    const { cancelForLeaseEnd } = await import('../../lambdas/use-cases/cancel-request');
    const { approvalIdFor } = await import('../../lambdas/domain/approval');
    const { facts } = await leased();
    const scaleId = `scale-${facts.nodePoolName}`;
    const stage: PlannedStage = {
      name: 'manager',
      approvers: [{ email: 'bob@example.com' }],
      requiredApprovals: 1,
      remindAfterSeconds: 3600,
      expireAfterSeconds: 86_400,
      escalated: false,
      collectsOrderId: false,
    };
    await requests.create({
      ...requestRecord(scaleId, [stage]),
      status: 'AWAITING_APPROVAL',
      nodePoolName: facts.nodePoolName,
      count: 3,
    });
    const before = await quotas.counters('ml-platform', 'f');
    expect(await quotas.reserve({ team: 'ml-platform', flavor: 'f', requestId: scaleId, count: 3 }, 1000)).toBe(
      'reserved',
    );
    expect((await quotas.counters('ml-platform', 'f')).reserved).toBe(before.reserved + 3);
    await approvals.open({
      approvalId: approvalIdFor(scaleId, 0),
      requestId: scaleId,
      stageIndex: 0,
      stageName: 'manager',
      finalStage: true,
      approvers: ['bob@example.com'],
      approverSlackIds: {},
      requiredApprovals: 1,
      needsOrderId: false,
      createdAt: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + 86_400_000).toISOString(),
      taskToken: 'token',
    });
    // The crash: CANCELLED / LEASE_ENDED written, nothing after it.
    await requests.recordStep(
      scaleId,
      newStep('cancelled', 'cancelled', 'ok', { actor: 'poolgate', detail: { reason: 'LEASE_ENDED' } }),
      { status: 'CANCELLED', reason: 'LEASE_ENDED', from: ['AWAITING_APPROVAL'] },
    );
    const seen = fresh();
    await cancelForLeaseEnd(
      scaleId,
      deps(() => END_PLUS_GRACE, seen),
    );
    expect(seen.stopped).toEqual([scaleId]);
    expect((await approvals.get(approvalIdFor(scaleId, 0)))?.closed).toBe('CANCELLED');
    expect(await quotas.counters('ml-platform', 'f')).toEqual(before);
    // Settling again changes nothing and counts nothing.
    await cancelForLeaseEnd(
      scaleId,
      deps(() => END_PLUS_GRACE, seen),
    );
    expect(await quotas.counters('ml-platform', 'f')).toEqual(before);
    expect(seen.metrics).not.toContain('cancelled');
  });
});

describe('an extension approved past the lease cap', () => {
  const CAPPED: LeaseTerms = { ...TERMS, maxTotalSeconds: 7200 };

  /** A lease capped at two hours in all, already extended by `extended` seconds, held by a pending extension of an hour. */
  async function cappedLease(extended: number) {
    const { creating, facts } = await leased();
    // The record as a racing extension left it (the cap was checked against an older record).
    await table.db.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: nodePoolKey(facts),
        UpdateExpression: 'SET leaseTerms = :t, leaseExtendedSeconds = :e',
        ExpressionAttributeValues: { ':t': CAPPED, ':e': extended },
      }),
    );
    const extensionId = `ext-${creating.requestId}`;
    await requests.create({
      ...requestRecord(extensionId),
      kind: 'extend',
      status: 'PROVISIONING',
      nodePoolName: facts.nodePoolName,
      createRequestId: creating.requestId,
      extend: { duration: 'PT1H', seconds: 3600 },
    });
    expect(await claims.claimExtension(facts, extensionId)).toBe(true);
    return { facts, extensionId, before: (await claims.record(facts))! };
  }

  const applyDeps = () => ({
    requests,
    modelArts: {} as never,
    tracking: policy.nodeTracking,
    now: () => new Date(T0 + 60_000),
    leases: { claims, records: claims },
    approvals,
    quotas,
  });

  it('is refused by ApplyChange with a reason naming the cap, and the end does not move', async () => {
    const { facts, extensionId, before } = await cappedLease(3600);
    await expect(applyChange(extensionId, applyDeps())).rejects.toMatchObject({
      name: 'LeaseMaxTotalError',
      message: expect.stringContaining('lease.maxTotal of PT2H'),
    });
    const after = await claims.record(facts);
    expect(after?.leaseEndsAt).toBe(before.leaseEndsAt);
    expect(after?.leaseExtendedSeconds).toBe(3600);
  });

  it('the applying write itself refuses to pass the cap, whatever the caller read', async () => {
    const { facts, extensionId, before } = await cappedLease(3600);
    const moved = await claims.applyExtension(facts, {
      extensionId,
      fromEndsAt: before.leaseEndsAt!,
      toEndsAt: new Date(Date.parse(before.leaseEndsAt!) + 3_600_000).toISOString(),
      seconds: 3600,
      nextAt: before.leaseNextAt!,
      maxExtendedBefore: 0,
    });
    expect(moved).toBe(false);
    expect((await claims.record(facts))?.leaseEndsAt).toBe(before.leaseEndsAt);
  });

  it('Finalize ends the refused extension REJECTED / LEASE_MAX_TOTAL and lets go of the lease', async () => {
    const { facts, extensionId } = await cappedLease(3600);
    const error = await applyChange(extensionId, applyDeps()).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const { finalizeRequest } = await import('../../lambdas/use-cases/finalize-request');
    await finalizeRequest(
      {
        requestId: extensionId,
        approval: null,
        created: null,
        error: { Error: (error as Error).name, Cause: JSON.stringify({ errorMessage: (error as Error).message }) },
      },
      {
        requests,
        approvals,
        quotas,
        notifier: { showSettled: async () => undefined, tellRequester: async () => undefined },
        changes: { claims, notifier: { tellCreator: async () => undefined }, leases: claims },
        nodeTracking: true,
      },
    );
    const ended = await requests.get(extensionId);
    expect(ended).toMatchObject({ status: 'REJECTED', reason: 'LEASE_MAX_TOTAL' });
    expect(ended?.steps.at(-1)).toMatchObject({
      step: 'lease_extended',
      outcome: 'refused',
      detail: expect.objectContaining({ message: expect.stringContaining('lease.maxTotal') }),
    });
    expect((await claims.record(facts))?.leaseExtension).toBeUndefined();
  });

  it('within the cap it moves the end', async () => {
    const { facts, extensionId, before } = await cappedLease(0);
    await applyChange(extensionId, applyDeps());
    const after = await claims.record(facts);
    expect(after?.leaseExtendedSeconds).toBe(3600);
    expect(Date.parse(after!.leaseEndsAt!) - Date.parse(before.leaseEndsAt!)).toBe(3_600_000);
  });
});

describe('records with nothing left to do', () => {
  it('do not hold the front of the oldest-first batch: a due lease behind more than a batch of them is handled', async () => {
    // More than a batch of index entries older than any lease here: some without their lease's facts
    // (left behind by hand or by an older version), some whose lease deletion finished.
    const stale = LEASE_BATCH + 5;
    for (let i = 0; i < stale; i++)
      await table.db.send(
        new PutCommand({
          TableName: table.tableName,
          Item: {
            ...nodePoolKey({ projectId: 'p', poolName: 'stale', nodePoolName: `s${i}` }),
            state: 'present',
            gsiLease: 'LEASE',
            leaseNextAt: new Date(T0 - 86_400_000 + i).toISOString(),
          },
        }),
      );
    for (let i = 0; i < 5; i++) {
      const { creating, facts } = await leased();
      const deleteId = leaseDeletionId(creating.requestId, 1);
      await requests.create({ ...requestRecord(deleteId), kind: 'delete', status: 'DELETED' });
      await table.db.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: nodePoolKey(facts),
          UpdateExpression: 'SET leaseDeletion = :d, leaseNextAt = :n',
          ExpressionAttributeValues: { ':d': deleteId, ':n': new Date(T0 - 3_600_000 + i).toISOString() },
        }),
      );
    }
    const { facts } = await leased();
    const seen = fresh();
    const now = T0 + 1800_000 + 1000; // the first reminder point has passed
    for (let run = 0; run < 3 && !seen.told.some((t) => t.node === facts.nodePoolName); run++)
      await sweepLeases(deps(() => now, seen));
    expect(seen.told.filter((t) => t.node === facts.nodePoolName)).toEqual([
      expect.objectContaining({ kind: 'remind' }),
    ]);
    const due = await claims.dueLeases(new Date(now).toISOString(), 1000);
    expect(due.filter((r) => r.poolName === 'stale' || r.leaseDeletion)).toEqual([]);
  });
});

describe('an index entry older than its record', () => {
  it('is acted on as the record says now: no reminder for an end an extension has moved', async () => {
    const { creating, facts } = await leased();
    const [stale] = (await claims.dueLeases(new Date(T0 + 1800_000).toISOString(), 1000)).filter(
      (r) => r.nodePoolName === facts.nodePoolName,
    );
    expect(stale).toBeDefined();
    // An extension of an hour is applied after the index was read (the index is eventually consistent on AWS).
    const extensionId = `ext-${creating.requestId}`;
    expect(await claims.claimExtension(facts, extensionId)).toBe(true);
    const toEndsAt = new Date(Date.parse(stale.leaseEndsAt!) + 3_600_000).toISOString();
    expect(
      await claims.applyExtension(facts, {
        extensionId,
        fromEndsAt: stale.leaseEndsAt!,
        toEndsAt,
        seconds: 3600,
        nextAt: new Date(T0 + 5400_000).toISOString(),
      }),
    ).toBe(true);

    const seen = fresh();
    const now = T0 + 1800_000 + 1000; // the old end's first reminder point, long before the new end's
    await sweepLeases(
      deps(() => now, seen, {
        leases: Object.assign(Object.create(claims) as ClaimRepository, { dueLeases: async () => [stale] }),
      }),
    );
    expect(seen.told).toEqual([]);
    expect((await claims.record(facts))?.leaseNextAt).toBe(new Date(T0 + 5400_000).toISOString());
  });
});

describe('the reminder headline', () => {
  it('says the time actually left, from the end and the time of sending', async () => {
    const { leaseHeadline } = await import('../../lambdas/presentation/lease-mail');
    const record = {
      projectId: 'p',
      poolName: 'pool',
      nodePoolName: 'np',
      kind: 'create' as const,
      requestId: 'r',
      claimedAt: '',
    };
    const endsAt = new Date(T0 + 7200_000).toISOString();
    const base = { record, kind: 'remind' as const, before: 'PT2H', endsAt, deleteAt: endsAt, timeZone: 'UTC' };
    expect(leaseHeadline({ ...base, now: new Date(T0 + 1800_000).toISOString() })).toContain('ends in 1 h 30 min (at ');
    expect(leaseHeadline({ ...base, now: new Date(T0 + 7200_000 - 40_000).toISOString() })).toContain(
      'ends in 40 s (at ',
    );
  });
});
