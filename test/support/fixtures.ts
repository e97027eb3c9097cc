import type { PlannedStage } from '../../lambdas/domain/approval-plan';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { newStep } from '../../lambdas/domain/steps';

/** A stored request as submission writes it: one node of flavor `f`, pay-per-use, just submitted. */
export function requestRecord(requestId: string, stages: readonly PlannedStage[] = []): PoolRequestRecord {
  return {
    requestId,
    status: 'SUBMITTED',
    requester: 'alice@example.com',
    team: 'ml-platform',
    projectId: 'p',
    poolName: 'pool',
    nodePoolName: 'np',
    flavor: 'f',
    count: 1,
    maxCount: 1,
    body: {
      apiVersion: 'v2',
      kind: 'NodePool',
      metadata: { name: 'np' },
      spec: { resources: { flavor: 'f', count: 1, maxCount: 1 } },
    },
    billing: { mode: '0' },
    stages,
    fingerprint: 'x',
    createdAt: '2026-11-26T00:00:00.000Z',
    updatedAt: '2026-11-26T00:00:00.000Z',
    steps: [newStep('submitted', 'submitted', 'ok')],
  };
}
