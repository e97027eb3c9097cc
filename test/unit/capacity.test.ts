import { checkCapacity, type FlavorFacts, type PoolFacts } from '../../lambdas/domain/capacity';
import type { NodePoolRequest } from '../../lambdas/domain/nodepool-request';
import { countOf } from '../../lambdas/domain/modelarts';

const privilegedPhysical: PoolFacts = { type: 'Dedicate', privileged: true };
const PAY_PER_USE = { mode: '0' } as const;
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
  };
}

describe('capacity check', () => {
  it('accepts the API page example in a privileged physical pool', () => {
    expect(checkCapacity(body({ network: { vpc: 'v' } }), PAY_PER_USE, privilegedPhysical, flavors)).toEqual({
      ok: true,
    });
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
    expect(checkCapacity(request, { mode }, pool, flavors)).toMatchObject({ ok: false, reason });
  });

  it('allows maxCount above count in a logical pool', () => {
    expect(
      checkCapacity(body({ count: 1, maxCount: 3 }), PAY_PER_USE, { type: 'Logical', privileged: true }, flavors),
    ).toEqual({ ok: true });
  });
});

describe('before anyone is asked: the name and the billing mode', () => {
  it('refuses a name a node pool of the pool already has, NODE_POOL_EXISTS, telling to choose another', () => {
    expect(checkCapacity(body(), PAY_PER_USE, privilegedPhysical, flavors, true)).toEqual({
      ok: false,
      reason: 'NODE_POOL_EXISTS',
      message: 'a node pool named np already exists in the pool; choose another name',
    });
  });

  it('says the pool is missing before it says the name is taken', () => {
    expect(checkCapacity(body(), PAY_PER_USE, undefined, flavors, true)).toMatchObject({ reason: 'POOL_NOT_FOUND' });
  });

  it('lets a request naming no billing mode through in a pay-per-use pool (annotated "0" or not at all)', () => {
    const fromPool = { mode: '0', fromPool: true } as const;
    expect(checkCapacity(body(), fromPool, { ...privilegedPhysical, billingMode: '0' }, flavors)).toEqual({ ok: true });
    expect(checkCapacity(body(), fromPool, privilegedPhysical, flavors)).toEqual({ ok: true });
  });

  it('refuses a request naming no billing mode in a yearly/monthly pool, BILLING_MODE_REQUIRED', () => {
    const decision = checkCapacity(
      body(),
      { mode: '0', fromPool: true },
      { ...privilegedPhysical, billingMode: '1' },
      flavors,
    );
    expect(decision).toMatchObject({ ok: false, reason: 'BILLING_MODE_REQUIRED' });
    expect(decision.ok || decision.message).toContain('give the billing annotations explicitly');
  });

  it('lets an explicit billing mode through in a yearly/monthly pool, either mode', () => {
    const yearlyPool = { ...privilegedPhysical, billingMode: '1' };
    expect(checkCapacity(body(), { mode: '0' }, yearlyPool, flavors)).toEqual({ ok: true });
    expect(checkCapacity(body(), { mode: '1' }, yearlyPool, flavors)).toEqual({ ok: true });
  });
});

describe('node counts', () => {
  it('reads a bucket typed as one object or as a list', () => {
    expect(countOf(undefined)).toBe(0);
    expect(countOf({ count: 2 })).toBe(2);
    expect(countOf([{ count: 2 }, { count: 3 }])).toBe(5);
  });
});
