/** PatchNodePool through the gate: what may change, what is refused (and where), what kind of change, what is sent. */
import { ValidationError } from '../../lambdas/domain/errors';
import { OWNER_LABEL } from '../../lambdas/domain/modelarts';
import { describeChange, patchAnnotations, planPatch } from '../../lambdas/domain/nodepool-patch';

const FLAVOR = 'modelarts.vm.2u4g.dcc';
const OWNER = 'req-create-1';
const current = {
  name: 'np-1',
  resources: {
    nodePool: 'np-1',
    flavor: FLAVOR,
    count: 2,
    maxCount: 2,
    labels: { [OWNER_LABEL]: OWNER, tier: 'gold' },
    network: { vpc: 'vpc-1', subnet: 'subnet-1', securityGroups: ['sg-1'] },
  },
};
const plan = (body: unknown) => planPatch(JSON.stringify(body), current, OWNER);
const refusal = (body: unknown): string => {
  try {
    plan(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};
const resources = (extra: Record<string, unknown>) => ({
  spec: { resources: { flavor: FLAVOR, count: 2, maxCount: 2, ...extra } },
});

describe('planPatch', () => {
  it('tells a scale-up, a scale-down and an update apart by the count ModelArts shows', () => {
    expect(plan(resources({ count: 6, maxCount: 6 })).change).toEqual({ kind: 'scale-up', from: 2, to: 6 });
    expect(plan(resources({ count: 1, maxCount: 1 })).change).toEqual({ kind: 'scale-down', from: 2, to: 1 });
    expect(plan(resources({ labels: { tier: 'silver' } })).change).toEqual({ kind: 'update', from: 2, to: 2 });
  });

  it('sends the patch as merge-patch with flavor, counts and poolgate label, and merges it onto the current spec', () => {
    const result = plan(resources({ count: 3, maxCount: 4, labels: { tier: null, zone: 'a' } }));
    expect(result.patch).toEqual({
      spec: {
        resources: { flavor: FLAVOR, count: 3, maxCount: 4, labels: { tier: null, zone: 'a', [OWNER_LABEL]: OWNER } },
      },
    });
    expect(result.merged.spec.resources.labels).toEqual({ [OWNER_LABEL]: OWNER, zone: 'a' });
    expect(result.merged.spec.resources.network).toEqual(current.resources.network);
  });

  it('accepts the whole spec sent back unchanged but for the count (read, modify, write)', () => {
    expect(
      plan({
        kind: 'NodePool',
        apiVersion: 'v2',
        metadata: { name: 'np-1' },
        spec: { resources: { ...current.resources, count: 5, maxCount: 5 } },
      }).change.kind,
    ).toBe('scale-up');
  });

  it.each([
    [resources({ flavor: 'modelarts.vm.8u16g.dcc' }), 'spec.resources.flavor: cannot be changed'],
    [resources({ network: { vpc: 'vpc-2' } }), 'spec.resources.network.vpc: cannot be changed'],
    [resources({ nodePool: 'np-2' }), 'spec.resources.nodePool: cannot be changed'],
    [resources({ taints: null }), 'spec.resources.taints: null is allowed only to remove a label'],
    [
      resources({ labels: { [OWNER_LABEL]: null } }),
      `spec.resources.labels.${OWNER_LABEL}: poolgate's ownership label`,
    ],
    [
      resources({ labels: { [OWNER_LABEL]: 'req-other' } }),
      `spec.resources.labels.${OWNER_LABEL}: poolgate's ownership label`,
    ],
    [{ spec: { resources: { flavor: FLAVOR, count: 2 } } }, 'spec.resources.maxCount: is required'],
    [{ spec: {} }, 'spec.resources: is required'],
    [{ metadata: { name: 'np-9' }, ...resources({}) }, 'metadata.name: cannot be changed'],
    [{ status: {}, ...resources({}) }, 'status: unknown field'],
    [resources({ count: 3, maxCount: 2 }), 'the node pool after the patch: '],
    [resources({ count: 0, maxCount: 0 }), 'the node pool after the patch: spec.resources.count'],
  ])('refuses %j naming the field', (body, message) => {
    expect(refusal(body)).toContain(message);
  });

  it('refuses a body nested too deep with a 400 naming the place, before anything walks it (no stack overflow)', () => {
    const azs = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const raw = `{"spec":{"resources":{"flavor":"${FLAVOR}","count":2,"maxCount":2,"azs":${azs}}}}`;
    expect(raw.length).toBeLessThan(65_536);
    expect(() => planPatch(raw, current, OWNER)).toThrow(ValidationError);
    expect(() => planPatch(raw, current, OWNER)).toThrow(/spec\.resources\.azs.*nested deeper than 32 levels/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s anywhere in the body', (key) => {
    const raw = `{"spec":{"resources":{"flavor":"${FLAVOR}","count":2,"maxCount":2,"labels":{"${key}":{"evil":"x"}}}}}`;
    expect(() => planPatch(raw, current, OWNER)).toThrow(`spec.resources.labels.${key}: is not an allowed key`);
  });

  it('refuses a body that is not a JSON object', () => {
    expect(() => planPatch('not json', current, OWNER)).toThrow('request body is not valid JSON');
    expect(() => planPatch('[]', current, OWNER)).toThrow('request body must be a JSON object');
  });
});

describe('patchAnnotations', () => {
  const up = { kind: 'scale-up' as const, from: 2, to: 6 };
  it('names the billing mode explicitly on growth only, a yearly/monthly order id with it', () => {
    expect(patchAnnotations(up, {}, '0')).toEqual({ 'os.modelarts/billing.mode': '0' });
    expect(patchAnnotations({ ...up, kind: 'scale-down', to: 1 }, {}, '0')).toBeUndefined();
    expect(patchAnnotations({ ...up, kind: 'update', to: 2 }, {}, '0')).toBeUndefined();
    expect(
      patchAnnotations(up, { 'os.modelarts/period.num': '1', 'os.modelarts/period.type': '2' }, '1', 'order-9'),
    ).toEqual({
      'os.modelarts/billing.mode': '1',
      'os.modelarts/period.num': '1',
      'os.modelarts/period.type': '2',
      'os.modelarts/order.id': 'order-9',
    });
  });

  it('says what changes in words', () => {
    expect(describeChange(up)).toBe('from 2 to 6 nodes, +4');
    expect(describeChange({ kind: 'scale-down', from: 6, to: 2 })).toBe('from 6 to 2 nodes, -4');
  });
});
