import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import { InvalidTransitionError } from '../../lambdas/domain/errors';
import { newStep } from '../../lambdas/domain/steps';
import { requestRecord } from '../support/fixtures';
import { useTestTable } from '../support/dynamodb';

const table = useTestTable();

const request = (requestId: string) => requestRecord(requestId);

describe('RequestRepository', () => {
  it('records a step and its status change in one write, once', async () => {
    const repo = new RequestRepository(table.db, table.tableName);
    await repo.create(request('r-steps'));
    const step = newStep('approval-requested:manager:1', 'approval_requested', 'ok');
    const first = await repo.recordStep('r-steps', step, { status: 'AWAITING_APPROVAL' });
    const again = await repo.recordStep('r-steps', step, { status: 'AWAITING_APPROVAL' });
    expect(first.recorded).toBe(true);
    expect(again.recorded).toBe(false);
    const stored = await repo.get('r-steps');
    expect(stored?.status).toBe('AWAITING_APPROVAL');
    expect(stored?.steps.map((s) => s.id)).toEqual(['submitted', 'approval-requested:manager:1']);
  });

  it('refuses a transition the table forbids and records nothing', async () => {
    const repo = new RequestRepository(table.db, table.tableName);
    await repo.create(request('r-bad'));
    await expect(
      repo.recordStep('r-bad', newStep('node-pool-created', 'node_pool_created', 'ok'), { status: 'CREATED' }),
    ).rejects.toThrow(InvalidTransitionError);
    expect((await repo.get('r-bad'))?.steps).toHaveLength(1);
  });

  it('does not create a request by recording a step on a missing one', async () => {
    const repo = new RequestRepository(table.db, table.tableName);
    await expect(repo.recordStep('r-missing', newStep('x', 'failed', 'error'))).rejects.toThrow(InvalidTransitionError);
    expect(await repo.get('r-missing')).toBeUndefined();
  });
});

describe('QuotaRepository', () => {
  it('lets exactly the limit through when many reserve at once, and gives back released shares', async () => {
    const repo = new QuotaRepository(table.db, table.tableName);
    const limit = 10;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        repo.reserve({ team: 't-race', flavor: 'f', requestId: `q${i}`, count: 1 }, limit - 1),
      ),
    );
    expect(results.filter((r) => r === 'reserved')).toHaveLength(limit);
    expect(results.filter((r) => r === 'refused')).toHaveLength(40 - limit);
    expect(await repo.counters('t-race', 'f')).toEqual({ reserved: 10, used: 0, inUse: 10 });

    const winners = results.flatMap((r, i) => (r === 'reserved' ? [`q${i}`] : []));
    await repo.commit({ team: 't-race', flavor: 'f', requestId: winners[0], count: 1 });
    await repo.commit({ team: 't-race', flavor: 'f', requestId: winners[0], count: 1 });
    await repo.release({ team: 't-race', flavor: 'f', requestId: winners[1], count: 1 });
    await repo.release({ team: 't-race', flavor: 'f', requestId: winners[1], count: 1 });
    expect(await repo.counters('t-race', 'f')).toEqual({ reserved: 8, used: 1, inUse: 9 });
  });

  it('counts a retried reservation once', async () => {
    const repo = new QuotaRepository(table.db, table.tableName);
    const share = { team: 't-retry', flavor: 'f', requestId: 'r1', count: 3 };
    expect(await repo.reserve(share, 7)).toBe('reserved');
    expect(await repo.reserve(share, 7)).toBe('held');
    expect(await repo.counters('t-retry', 'f')).toEqual({ reserved: 3, used: 0, inUse: 3 });
  });

  it("keeps each attempt's reservation to that attempt: another attempt finds it busy and cannot commit or release it", async () => {
    const repo = new QuotaRepository(table.db, table.tableName);
    const first = { team: 't-attempts', flavor: 'f', requestId: 'r1', count: 2 };
    const retried = { ...first, attempt: 1 };
    expect(await repo.reserve(first, 10)).toBe('reserved');
    expect(await repo.reserve(retried, 10)).toBe('busy');
    await repo.release(retried);
    await repo.commit(retried);
    expect(await repo.counters('t-attempts', 'f')).toEqual({ reserved: 2, used: 0, inUse: 2 });

    await repo.release(first);
    expect(await repo.reserve(retried, 10)).toBe('reserved');
    expect(await repo.reserve(first, 10)).toBe('busy');
    await repo.release(first);
    expect(await repo.counters('t-attempts', 'f')).toEqual({ reserved: 2, used: 0, inUse: 2 });
    await repo.commit(retried);
    expect(await repo.counters('t-attempts', 'f')).toEqual({ reserved: 0, used: 2, inUse: 2 });
    expect(await repo.reserve(retried, 10)).toBe('used');
    expect(await repo.shares('t-attempts')).toEqual([{ ...first, kind: 'use' }]);
  });
});

describe('QuotaRepository, scales', () => {
  const createShare = (team: string) => ({ team, flavor: 'f', requestId: 'create-1', count: 2 });
  const change = (team: string, changeId: string) => ({ team, flavor: 'f', createId: 'create-1', changeId });

  it("moves a scale-up's reservation into the node pool's share once, with the marker, and a retried move changes nothing", async () => {
    const repo = new QuotaRepository(table.db, table.tableName);
    const team = 't-scale-up';
    expect(await repo.reserve(createShare(team), 8)).toBe('reserved');
    await repo.commit(createShare(team));
    expect(await repo.markOpen(change(team, 'scale-1'))).toBe(true);
    expect(await repo.useOf({ team, flavor: 'f', createId: 'create-1' })).toBe(2);
    expect(await repo.reserve({ team, flavor: 'f', requestId: 'scale-1', count: 4 }, 6)).toBe('reserved');
    expect(await repo.counters(team, 'f')).toEqual({ reserved: 4, used: 2, inUse: 6 });

    expect(await repo.moveIntoUse(change(team, 'scale-1'))).toBe(4);
    expect(await repo.moveIntoUse(change(team, 'scale-1'))).toBe(0);
    expect(await repo.counters(team, 'f')).toEqual({ reserved: 0, used: 6, inUse: 6 });
    expect(await repo.shares(team)).toEqual([{ ...createShare(team), count: 6, kind: 'use' }]);
    // The marker went with the move: a later change may mark the node pool.
    expect(await repo.clearOpen(change(team, 'scale-1'))).toBe(false);
  });

  it("never moves a reservation while another change holds the node pool's marker", async () => {
    const repo = new QuotaRepository(table.db, table.tableName);
    const team = 't-scale-marker';
    expect(await repo.reserve(createShare(team), 8)).toBe('reserved');
    await repo.commit(createShare(team));
    expect(await repo.reserve({ team, flavor: 'f', requestId: 'scale-old', count: 1 }, 9)).toBe('reserved');
    await repo.markOpen(change(team, 'scale-new'));
    await expect(repo.moveIntoUse(change(team, 'scale-old'))).rejects.toThrow('kept changing');
    expect(await repo.counters(team, 'f')).toEqual({ reserved: 1, used: 2, inUse: 3 });
  });

  it("lowers the node pool's share to the target once, conditional on its value, and leaves a share already lower alone", async () => {
    const repo = new QuotaRepository(table.db, table.tableName);
    const team = 't-scale-down';
    expect(await repo.reserve({ ...createShare(team), count: 6 }, 4)).toBe('reserved');
    await repo.commit({ ...createShare(team), count: 6 });
    await repo.markOpen(change(team, 'scale-2'));
    const [a, b] = await Promise.all([
      repo.lowerUse(change(team, 'scale-2'), 2),
      repo.lowerUse(change(team, 'scale-2'), 2),
    ]);
    expect(a + b).toBe(4);
    expect(await repo.counters(team, 'f')).toEqual({ reserved: 0, used: 2, inUse: 2 });
    expect(await repo.lowerUse(change(team, 'scale-3'), 5)).toBe(0);
    expect(await repo.useOf({ team, flavor: 'f', createId: 'create-1' })).toBe(2);
  });
});

describe('ApprovalRepository', () => {
  const open = {
    requestId: 'r-a',
    stageIndex: 0,
    stageName: 'manager',
    finalStage: true,
    approvers: ['bob@example.com', 'dave@example.com'],
    approverSlackIds: { 'bob@example.com': 'U0BOB00001' },
    requiredApprovals: 1,
    needsOrderId: false,
    createdAt: '2026-11-26T00:00:00.000Z',
    expiresAt: '2999-01-01T00:00:00.000Z',
  };

  it('keeps votes and expiry when the task token is replaced', async () => {
    const repo = new ApprovalRepository(table.db, table.tableName);
    await repo.open({ ...open, approvalId: 'a-token', taskToken: 't1' });
    const vote = { vote: 'approve' as const, at: '2026-11-26T00:01:00.000Z' };
    await repo.castVote('a-token', 'bob@example.com', vote);
    const reopened = await repo.open({
      ...open,
      approvalId: 'a-token',
      taskToken: 't2',
      expiresAt: '3000-01-01T00:00:00.000Z',
    });
    expect(reopened.taskToken).toBe('t2');
    expect(reopened.expiresAt).toBe('2999-01-01T00:00:00.000Z');
    expect(reopened.votes).toEqual({ 'bob@example.com': vote });
  });

  it('lets exactly one of two simultaneous deciding votes win', async () => {
    const repo = new ApprovalRepository(table.db, table.tableName);
    await repo.open({ ...open, approvalId: 'a-race', taskToken: 't' });
    const at = '2026-11-26T00:01:00.000Z';
    const results = await Promise.all([
      repo.castVote('a-race', 'bob@example.com', { vote: 'approve', at }, 'approved'),
      repo.castVote('a-race', 'dave@example.com', { vote: 'reject', at }, 'rejected'),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const stored = await repo.get('a-race');
    expect(Object.keys(stored?.votes ?? {})).toHaveLength(1);
  });

  it('refuses a vote from someone who is not an approver, and after expiry', async () => {
    const repo = new ApprovalRepository(table.db, table.tableName);
    await repo.open({ ...open, approvalId: 'a-refuse', taskToken: 't', expiresAt: '2026-11-26T00:00:30.000Z' });
    const early = { vote: 'approve' as const, at: '2026-11-26T00:00:10.000Z' };
    expect((await repo.castVote('a-refuse', 'mallory@example.com', early)).ok).toBe(false);
    expect((await repo.castVote('a-refuse', 'bob@example.com', { ...early, at: '2026-11-26T00:01:00.000Z' })).ok).toBe(
      false,
    );
    expect((await repo.castVote('a-refuse', 'bob@example.com', early)).ok).toBe(true);
  });
});

describe('ClaimRepository', () => {
  const name = { projectId: 'p', poolName: 'pool', nodePoolName: 'np-claim' };
  const now = new Date('2026-11-26T00:00:00.000Z');

  it('maps an idempotency key to the first request id', async () => {
    const repo = new ClaimRepository(table.db, table.tableName);
    expect(await repo.claimIdempotencyKey('k1', 'r1', now)).toBe('r1');
    expect(await repo.claimIdempotencyKey('k1', 'r2', now)).toBe('r1');
  });

  it('refuses a node-pool name held by an open request, and takes it over from a finished one', async () => {
    const repo = new ClaimRepository(table.db, table.tableName);
    expect(await repo.claimNodePoolName(name, 'r1', async () => true, now)).toEqual({ ok: true });
    expect(await repo.claimNodePoolName(name, 'r2', async () => true, now)).toEqual({ ok: false, holderId: 'r1' });
    expect(await repo.claimNodePoolName(name, 'r2', async () => false, now)).toEqual({ ok: true });
  });
});
