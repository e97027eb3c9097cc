import { checkCapacity, type FlavorFacts, type PoolFacts } from '../../lambdas/domain/capacity';
import type { NodePoolRequest } from '../../lambdas/domain/nodepool-request';
import { countOf } from '../../lambdas/domain/modelarts';

const privilegedPhysical: PoolFacts = { type: 'Dedicate', privileged: true };
const flavors: FlavorFacts[] = [
  {
    name: 'modelarts.vm.2u4g.dcc',
    billingModes: [0, 1],
    phaseByAz: { 'cn-north-4a': 'normal', 'cn-north-4b': 'soldout' },
  },
  { name: 'modelarts.vm.gpu.t4u8', billingModes: [0], phaseByAz: { 'cn-north-4a': 'soldout' } },
];

function body(resources: Partial<NodePoolRequest['spec']['resources']> = {}): NodePoolRequest {
  return {
    apiVersion: 'v2',
    kind: 'NodePool',
    metadata: { name: 'np' },
    spec: { resources: { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1, ...resources } },
  } as NodePoolRequest;
}

describe('capacity check', () => {
  it('accepts the API page example in a privileged physical pool', () => {
    expect(checkCapacity(body({ network: { vpc: 'v' } }), '0', privilegedPhysical, flavors)).toEqual({ ok: true });
  });

  it.each([
    ['the pool does not exist', body(), '0', undefined, 'POOL_NOT_FOUND'],
    ['the flavor is unknown', body({ flavor: 'modelarts.vm.nope' }), '0', privilegedPhysical, 'FLAVOR_UNKNOWN'],
    [
      'the flavor cannot be bought yearly/monthly',
      body({ flavor: 'modelarts.vm.gpu.t4u8' }),
      '1',
      privilegedPhysical,
      'BILLING_MODE_UNSUPPORTED',
    ],
    [
      'a requested AZ is sold out',
      body({ azs: [{ az: 'cn-north-4b', count: 1 }] }),
      '0',
      privilegedPhysical,
      'FLAVOR_SOLD_OUT',
    ],
    ['every AZ is sold out', body({ flavor: 'modelarts.vm.gpu.t4u8' }), '0', privilegedPhysical, 'FLAVOR_SOLD_OUT'],
    [
      'taints in a pool that is not privileged',
      body({ taints: [{ key: 'k', effect: 'NoSchedule' }] }),
      '0',
      { type: 'Dedicate', privileged: false },
      'NOT_PRIVILEGED_POOL',
    ],
    [
      'maxCount above count in a physical pool',
      body({ count: 1, maxCount: 2 }),
      '0',
      privilegedPhysical,
      'MAXCOUNT_NOT_ALLOWED',
    ],
  ] as const)('refuses when %s', (_why, request, mode, pool, reason) => {
    expect(checkCapacity(request, mode, pool, flavors)).toMatchObject({ ok: false, reason });
  });

  it('allows maxCount above count in a logical pool', () => {
    expect(checkCapacity(body({ count: 1, maxCount: 3 }), '0', { type: 'Logical', privileged: true }, flavors)).toEqual(
      { ok: true },
    );
  });
});

describe('node counts', () => {
  it('reads a bucket typed as one object or as a list', () => {
    expect(countOf(undefined)).toBe(0);
    expect(countOf({ count: 2 })).toBe(2);
    expect(countOf([{ count: 2 }, { count: 3 }])).toBe(5);
  });
});
