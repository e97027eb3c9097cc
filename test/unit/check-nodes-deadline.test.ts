/**
 * CheckNodes' deadline against a real table (dynalite): for a create, a delete and a scale it runs
 * from the step that says ModelArts accepted the change, or from a later retry, and past it the check
 * fails with NodesTimeoutError naming what it saw.
 */
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { NodePool } from '../../lambdas/domain/modelarts';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep, stepId, type StepName } from '../../lambdas/domain/steps';
import { checkNodes, NodesTimeoutError } from '../../lambdas/use-cases/check-nodes';
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

/** ModelArts showing the node pool with 1 node available and 2 on their way out. */
const modelArts = {
  showNodePool: async (): Promise<NodePool> => ({
    apiVersion: 'v2',
    kind: 'NodePool',
    metadata: { name: 'np' },
    spec: { resources: { flavor: 'f', count: 3, maxCount: 3 } },
    status: { resources: { available: { count: 1 }, deleting: { count: 2 } } },
  }),
};

let seq = 0;
async function stored(more: Partial<PoolRequestRecord>, step: StepName): Promise<string> {
  const id = `dl${++seq}-${Date.now()}`;
  await requests.create({
    ...requestRecord(id),
    count: 3,
    ...more,
    steps: [
      newStep('submitted', 'submitted', 'ok', { at: at(-300) }),
      newStep(`accepted-${step}`, step, 'ok', { at: accepted }),
    ],
  });
  return id;
}

const cases: Array<[string, Partial<PoolRequestRecord>, StepName, RegExp]> = [
  ['a create', { status: 'CREATED' }, 'node_pool_created', /^only 1 of 3 node\(s\) available after 3600 s$/],
  [
    'a delete',
    { kind: 'delete', status: 'PROVISIONING', createRequestId: 'creator' },
    'node_pool_delete_requested',
    /^node pool np still shown \(3 node\(s\)\) 3600 s after its deletion was asked$/,
  ],
  [
    'a scale',
    {
      kind: 'scale',
      status: 'PROVISIONING',
      createRequestId: 'creator',
      change: { kind: 'scale-up', from: 1, to: 3 },
    },
    'node_pool_patched',
    /^node pool np shows 1 available, 0 creating, 2 deleting, not 3, 3600 s after the change was accepted$/,
  ],
];

it.each(cases)(
  '%s times out past the deadline from its accepted step, or from a later retry',
  async (_, more, step, message) => {
    const id = await stored(more, step);
    const deps = (now: Date) => ({ requests, modelArts, tracking, now: () => now });
    await expect(checkNodes(id, deps(at(3600)))).resolves.toMatchObject({ status: 'waiting' });
    const late = checkNodes(id, deps(at(3601)));
    await expect(late).rejects.toThrow(NodesTimeoutError);
    await expect(checkNodes(id, deps(at(3601)))).rejects.toThrow(message);

    // A retry 1000 s in: the deadline runs from it.
    await requests.recordStep(id, newStep(stepId.retried(1), 'retried', 'ok', { at: at(1000) }));
    await expect(checkNodes(id, deps(at(4600)))).resolves.toMatchObject({ status: 'waiting' });
    await expect(checkNodes(id, deps(at(4601)))).rejects.toThrow(message);
  },
);
