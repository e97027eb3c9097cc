import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import { parsePolicy, type Policy } from '../../lambdas/config/policy';
import { planApprovals } from '../../lambdas/domain/approval-plan';
import {
  NodePoolExistsError,
  NotFoundError,
  NotRetryableError,
  OpenRequestExistsError,
} from '../../lambdas/domain/errors';
import { claimIdempotency, claimNodePoolName, requestFingerprint } from '../../lambdas/use-cases/submit-request';
import { requestRecord } from '../support/fixtures';
import { startTestTable } from '../support/dynamodb';

let db: DynamoDBDocumentClient;
let tableName: string;
let stop: () => Promise<void>;
let claims: ClaimRepository;
let requests: RequestRepository;
let quotas: QuotaRepository;

const policy: Policy = parsePolicy(
  JSON.stringify({
    teams: [
      {
        name: 'ml-platform',
        members: [{ email: 'alice@example.com' }],
        stages: [
          { name: 'manager', approvers: [{ email: 'bob@example.com' }] },
          { name: 'owners', approvers: [{ email: 'carol@example.com' }], when: { changes: ['delete'] } },
        ],
        quotas: { f: 10 },
      },
    ],
  }),
);

beforeAll(async () => {
  ({ db, tableName, stop } = await startTestTable());
  claims = new ClaimRepository(db, tableName);
  requests = new RequestRepository(db, tableName);
  quotas = new QuotaRepository(db, tableName);
});
afterAll(() => stop());

let seq = 0;
const now = new Date('2026-12-01T00:00:00.000Z');
function nodePool() {
  seq += 1;
  return { projectId: 'p', poolName: 'pool', nodePoolName: `np-${seq}` };
}
const facts = (name: ReturnType<typeof nodePool>, creatingRequestId: string) => ({
  ...name,
  team: 'ml-platform',
  creatingRequestId,
  creator: 'alice@example.com',
  flavor: 'f',
  count: 2,
  billingMode: '0' as const,
});
const deps = {
  claims: undefined as unknown as ClaimRepository,
  requests: undefined as unknown as RequestRepository,
  policy,
};
const claimDeps = () => ({ ...deps, claims, requests });

async function stored(requestId: string, status: 'ACTIVE' | 'CREATED' | 'FAILED' | 'DELETED' | 'PROVISIONING') {
  await requests.create({ ...requestRecord(requestId), status });
}

describe('the node-pool record', () => {
  it('is held by a create until its final status, not merely CREATED: any second request gets 409', async () => {
    const name = nodePool();
    await stored(`c-${seq}`, 'CREATED');
    await claimNodePoolName(name, `c-${seq}`, claimDeps(), now, { facts: facts(name, `c-${seq}`) });
    await expect(claimNodePoolName(name, 'other', claimDeps(), now, { facts: facts(name, 'other') })).rejects.toThrow(
      OpenRequestExistsError,
    );
    await expect(claimNodePoolName(name, 'del', claimDeps(), now, { kind: 'delete' })).rejects.toThrow(
      OpenRequestExistsError,
    );
  });

  it('refuses a create of a node pool poolgate created and that exists, and a delete of one it never created', async () => {
    const name = nodePool();
    const createId = `c-${seq}`;
    await stored(createId, 'ACTIVE');
    await expect(claimNodePoolName(name, 'del-early', claimDeps(), now, { kind: 'delete' })).rejects.toThrow(
      NotFoundError,
    );
    await claimNodePoolName(name, createId, claimDeps(), now, { facts: facts(name, createId) });
    expect(await claims.markPresent(facts(name, createId), now.toISOString())).toBe(true);
    await expect(claimNodePoolName(name, 'again', claimDeps(), now, { facts: facts(name, 'again') })).rejects.toThrow(
      NodePoolExistsError,
    );

    await claimNodePoolName(name, 'del', claimDeps(), now, { kind: 'delete' });
    const record = await claims.record(name);
    expect(record).toMatchObject({
      requestId: 'del',
      kind: 'delete',
      state: 'present',
      team: 'ml-platform',
      creatingRequestId: createId,
      flavor: 'f',
      count: 2,
      billingMode: '0',
    });
    expect((await claims.inventory('ml-platform', { limit: 100 })).records.map((r) => r.nodePoolName)).toContain(
      name.nodePoolName,
    );

    expect(await claims.markDeleted(name, 'not-the-holder', now.toISOString())).toBe(false);
    expect(await claims.markDeleted(name, 'del', now.toISOString())).toBe(true);
    expect(await claims.record(name)).toMatchObject({ state: 'deleted', count: 0 });
    expect((await claims.inventory('ml-platform', { limit: 100 })).records.map((r) => r.nodePoolName)).not.toContain(
      name.nodePoolName,
    );
    // Once the delete is DELETED the name is free for a new create.
    await stored('del', 'DELETED');
    await claimNodePoolName(name, 'recreate', claimDeps(), now, { facts: facts(name, 'recreate') });
    expect(await claims.record(name)).toMatchObject({
      requestId: 'recreate',
      state: 'creating',
      creatingRequestId: 'recreate',
    });
  });

  it('refuses a retry as superseded once a later request on the node pool has finished', async () => {
    const name = nodePool();
    await stored(`failed-${seq}`, 'FAILED');
    await claimNodePoolName(name, `failed-${seq}`, claimDeps(), now, { facts: facts(name, `failed-${seq}`) });
    await stored(`later-${seq}`, 'ACTIVE');
    await claimNodePoolName(name, `later-${seq}`, claimDeps(), now, { facts: facts(name, `later-${seq}`) });
    const retry = claimNodePoolName(name, `failed-${seq}`, claimDeps(), now, { retry: true });
    await expect(retry).rejects.toThrow(NotRetryableError);
    await expect(retry).rejects.toThrow(/superseded/);
  });

  it('backfills the record of a node pool created before records, never over a newer one', async () => {
    const name = nodePool();
    expect(await claims.markPresent(facts(name, 'old'), now.toISOString(), true)).toBe(true);
    expect(await claims.record(name)).toMatchObject({ requestId: 'old', state: 'present', creatingRequestId: 'old' });
    expect(await claims.markPresent(facts(name, 'other'), now.toISOString(), true)).toBe(false);
  });
});

describe('idempotency without a key', () => {
  it('maps the same body to a request only while it is open', async () => {
    const input = { requester: 'alice@example.com' };
    const fingerprint = requestFingerprint({
      method: 'POST',
      kind: 'create',
      requester: 'alice@example.com',
      projectId: 'p',
      poolName: 'pool',
      rawBody: `{"n":${++seq}}`,
    });
    const ids = ['first', 'second', 'third'].map((id) => `${id}-${seq}`);
    let next = 0;
    const d = { claims, requests, policy, newId: () => ids[next++] };
    const first = await claimIdempotency(input, fingerprint, d, now);
    expect(first).toEqual({ id: ids[0], fresh: true });
    await stored(ids[0], 'PROVISIONING');
    expect(await claimIdempotency(input, fingerprint, d, now)).toEqual({ id: ids[0], fresh: false });
    await requests.recordStep(
      ids[0],
      { id: 'done', step: 'node_pool_created', outcome: 'ok', at: now.toISOString() },
      {
        status: 'CREATED',
      },
    );
    await requests.recordStep(
      ids[0],
      { id: 'active', step: 'nodes_active', outcome: 'ok', at: now.toISOString() },
      {
        status: 'ACTIVE',
      },
    );
    expect(await claimIdempotency(input, fingerprint, d, now)).toEqual({ id: ids[2], fresh: true });
  });

  it('covers the method and the kind', () => {
    const base = { requester: 'a', projectId: 'p', poolName: 'pool', nodePoolName: 'np', rawBody: '' };
    expect(requestFingerprint({ ...base, method: 'DELETE', kind: 'delete' })).not.toBe(
      requestFingerprint({ ...base, method: 'POST', kind: 'create' }),
    );
  });
});

describe('approvals per kind', () => {
  const team = policy.teams[0];
  it("asks today's stages for a create and only the stages naming delete for a delete", () => {
    const create = planApprovals(team, 'alice@example.com', '0', 'create');
    const remove = planApprovals(team, 'alice@example.com', '0', 'delete');
    expect(create.ok && create.stages.map((s) => s.name)).toEqual(['manager']);
    expect(remove.ok && remove.stages.map((s) => s.name)).toEqual(['owners']);
  });

  it('needs no approval for a delete when no stage names it', () => {
    const plain = { ...team, stages: team.stages.slice(0, 1) };
    expect(planApprovals(plain, 'alice@example.com', '0', 'delete')).toEqual({ ok: true, stages: [] });
    expect(planApprovals({ ...team, stages: team.stages.slice(1) }, 'alice@example.com', '0', 'create')).toMatchObject({
      ok: false,
    });
  });
});

describe('the change marker on the quota item', () => {
  it('keeps reconciliation off a share while a change is open, and removes the share by its value once', async () => {
    const team = `t-${++seq}`;
    const share = { team, flavor: 'f', requestId: 'create-1', count: 3 };
    await quotas.commitOrCount(share);
    const change = { team, flavor: 'f', createId: 'create-1', changeId: 'delete-1' };
    expect(await quotas.markOpen(change)).toBe(true);
    expect(await quotas.reconcileUse(share, 3, 0)).toBe(false);
    expect(await quotas.counters(team, 'f')).toEqual({ reserved: 0, used: 3, inUse: 3 });
    expect(await quotas.removeUse(change)).toBe(3);
    expect(await quotas.removeUse(change)).toBe(0);
    expect(await quotas.counters(team, 'f')).toEqual({ reserved: 0, used: 0, inUse: 0 });
    expect((await quotas.shares(team)).length).toBe(0);
  });
});
