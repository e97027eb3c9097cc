/**
 * CheckNodes and ApplyChange against a real table (dynalite): the wait they hand the workflow is the
 * tracking schedule's, counted from ModelArts' acceptance of the change, so a retried run continues it.
 */
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { NodePool } from '../../lambdas/domain/modelarts';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep, stepId } from '../../lambdas/domain/steps';
import { applyChange } from '../../lambdas/use-cases/apply-change';
import { checkNodes } from '../../lambdas/use-cases/check-nodes';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const table = useTestTable();
let requests: RequestRepository;
beforeAll(() => {
  requests = new RequestRepository(table.db, table.tableName);
});

const accepted = new Date('2026-12-07T01:00:00.000Z');
const at = (seconds: number) => new Date(accepted.getTime() + seconds * 1000);
const tracking = { enabled: true, pollIntervalSeconds: 90, timeoutSeconds: 3600 };

/** ModelArts showing the node pool with `available` of its nodes up (and `deleting` on their way out). */
const showing = (available: number, deleting = 0) => ({
  showNodePool: async (): Promise<NodePool> => ({
    apiVersion: 'v2',
    kind: 'NodePool',
    metadata: { name: 'np' },
    spec: { resources: { flavor: 'f', count: 3, maxCount: 3 } },
    status: { resources: { available: { count: available }, deleting: { count: deleting } } },
  }),
});

let seq = 0;
async function stored(more: Partial<PoolRequestRecord>): Promise<string> {
  const id = `cn${++seq}-${Date.now()}`;
  await requests.create({ ...requestRecord(id), count: 3, ...more });
  return id;
}

it('waits for the next point of the 90 s grid counted from the creation, also after a retry', async () => {
  const id = await stored({
    status: 'CREATED',
    steps: [
      newStep('submitted', 'submitted', 'ok', { at: at(-300) }),
      newStep(stepId.nodePoolCreated(), 'node_pool_created', 'ok', { at: accepted }),
    ],
  });
  const deps = (now: Date) => ({ requests, modelArts: showing(1), tracking, now: () => now });
  expect(await checkNodes(id, deps(at(90.4)))).toEqual({
    nodePoolName: 'np',
    track: true,
    status: 'waiting',
    waitSeconds: 90,
    available: 1,
  });
  expect(await checkNodes(id, deps(at(100)))).toEqual({
    nodePoolName: 'np',
    track: true,
    status: 'waiting',
    waitSeconds: 80,
    available: 1,
  });

  // A retry 200 s in (a new deadline from it) continues the same grid: next check at 270 s.
  await requests.recordStep(id, newStep(stepId.retried(1), 'retried', 'ok', { at: at(200) }));
  expect(await checkNodes(id, deps(at(200.2)))).toEqual({
    nodePoolName: 'np',
    track: true,
    status: 'waiting',
    waitSeconds: 70,
    available: 1,
  });
});

it("follows a delete's grid from the accepted deletion, and ApplyChange's first wait is one interval", async () => {
  const id = await stored({
    kind: 'delete',
    status: 'PROVISIONING',
    createRequestId: 'creator',
    steps: [newStep('submitted', 'submitted', 'ok', { at: at(-60) })],
  });
  await requests.recordStep(
    id,
    newStep('node-pool-delete-requested', 'node_pool_delete_requested', 'ok', { at: accepted }),
  );
  const checked = await checkNodes(id, { requests, modelArts: showing(0, 3), tracking, now: () => at(135) });
  expect(checked).toEqual({ nodePoolName: 'np', track: true, status: 'waiting', waitSeconds: 45, available: 3 });

  // ApplyChange on a node pool already gone hands on the schedule's first wait.
  const gone = await stored({ kind: 'delete', status: 'PROVISIONING', createRequestId: 'creator' });
  const applied = await applyChange(gone, {
    requests,
    modelArts: {
      showNodePool: async () => undefined,
      deleteNodePool: async () => undefined,
      patchNodePool: async () => undefined,
    },
    approvals: { get: async () => undefined },
    quotas: { clearOpen: async () => false },
    tracking,
    now: () => accepted,
  });
  expect(applied).toMatchObject({ track: true, waitSeconds: 90 });
});
