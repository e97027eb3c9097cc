/**
 * CheckRequest of a scale-up refused before anyone is asked, on real DynamoDB (dynalite), when the
 * request was cancelled while it was checked: the refusal cannot be recorded (the request is final),
 * and the node pool's change marker, set by the check, goes all the same.
 */
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { NodePool, Pool, ResourceFlavor } from '../../lambdas/adapters/modelarts/client';
import type { Policy } from '../../lambdas/config/policy';
import { OWNER_LABEL } from '../../lambdas/domain/modelarts';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep } from '../../lambdas/domain/steps';
import { checkRequest } from '../../lambdas/use-cases/check-request';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const table = useTestTable();

const stage = {
  name: 'manager',
  approvers: [{ email: 'bob@example.com' }],
  requiredApprovals: 1,
  remindAfterSeconds: 60,
  expireAfterSeconds: 600,
  escalated: false,
  collectsOrderId: false,
};
const policy = { teams: [{ name: 'ml-platform', quotas: { f: 100 } }] } as unknown as Policy;
const nodePool: NodePool = {
  apiVersion: 'v2',
  kind: 'NodePool',
  metadata: { name: 'np' },
  spec: { resources: { flavor: 'f', count: 2, maxCount: 2, labels: { [OWNER_LABEL]: 'create-1' } } },
};
const modelArts = {
  showPool: async (): Promise<Pool> => ({ metadata: {}, spec: { type: 'Logical' }, status: {} }),
  showNodePool: async (): Promise<NodePool | undefined> => nodePool,
  // The flavor is no longer sold: the scale-up is refused before anyone is asked.
  listResourceFlavors: async (): Promise<ResourceFlavor[]> => [],
};

it('clears the marker of a scale-up refused at its check while it was cancelled', async () => {
  const requests = new RequestRepository(table.db, table.tableName);
  const quotas = new QuotaRepository(table.db, table.tableName);
  const record: PoolRequestRecord = {
    ...requestRecord('scale-refused', [stage]),
    kind: 'scale',
    body: undefined,
    createRequestId: 'create-1',
    count: 4,
    maxCount: 4,
    change: { kind: 'scale-up', from: 2, to: 4 },
    patch: { spec: { resources: { flavor: 'f', count: 4, maxCount: 4 } } },
  };
  await requests.create(record);
  // The user cancels while the check reads ModelArts: its refusal finds the request final.
  const racing = Object.assign(Object.create(requests) as RequestRepository, {
    recordSteps: async (...args: Parameters<RequestRepository['recordSteps']>) => {
      await requests.recordStep('scale-refused', newStep('cancelled', 'cancelled', 'ok'), {
        status: 'CANCELLED',
        reason: 'CANCELLED_BY_USER',
      });
      return requests.recordSteps(...args);
    },
  });

  const outcome = await checkRequest('scale-refused', {
    policy,
    requests: racing,
    quotas,
    modelArts,
    changes: { modelArts },
  });

  expect(outcome).toEqual({ status: 'refused', stageIndex: -1, waitSeconds: 0, reason: 'CANCELLED_BY_USER' });
  expect((await requests.get('scale-refused'))?.status).toBe('CANCELLED');
  const marker = { team: 'ml-platform', flavor: 'f', createId: 'create-1', changeId: 'scale-refused' };
  expect(await quotas.clearOpen(marker)).toBe(false);
  expect(await quotas.counters('ml-platform', 'f')).toEqual({ reserved: 0, used: 0, inUse: 0 });
});
