/** The reconciliation's per-request decisions (pure): what the dynalite tests do not reach. */
import {
  judgeCounted,
  judgeUncounted,
  type LabelledNodePool,
  type ReconciledRequest,
} from '../../lambdas/domain/quota-reconciliation';

const request: ReconciledRequest = {
  requestId: 'r1',
  projectId: 'p',
  poolName: 'pool',
  nodePoolName: 'np-r1',
  flavor: 'f',
};
const nodePool = (more: Partial<LabelledNodePool> = {}): LabelledNodePool => ({
  owner: 'r1',
  pair: 'p/pool',
  name: 'np-r1',
  flavor: 'f',
  count: 2,
  ...more,
});

describe('judgeCounted', () => {
  it('follows its own node pool, even when another node pool also carries its label', () => {
    expect(judgeCounted(request, 1, [nodePool(), nodePool({ name: 'copy', count: 7 })])).toEqual({
      kind: 'correct',
      to: 2,
      why: 'node count changed',
    });
    expect(judgeCounted(request, 2, [nodePool()])).toEqual({ kind: 'unchanged' });
  });

  it('gives the nodes back when no node pool carries its label, and ignores node pools of other requests', () => {
    expect(judgeCounted(request, 2, [nodePool({ owner: 'r2', name: 'np-r2' })])).toEqual({
      kind: 'correct',
      to: 0,
      why: 'node pool gone',
    });
  });
});

describe('judgeCounted, its label removed outside poolgate', () => {
  it('never gives the nodes back for a removed label alone: the node pool of its name keeps them counted', () => {
    expect(judgeCounted(request, 2, [], { flavor: 'f', count: 2 })).toEqual({ kind: 'unchanged' });
    expect(judgeCounted(request, 2, [nodePool({ owner: 'r2', name: 'np-r2' })], { flavor: 'f', count: 2 })).toEqual({
      kind: 'unchanged',
    });
  });

  it('still follows what exists: a resized node pool without its label is counted at its new size', () => {
    expect(judgeCounted(request, 2, [], { flavor: 'f', count: 5 })).toEqual({
      kind: 'correct',
      to: 5,
      why: 'node count changed',
    });
  });

  it('leaves the count alone when the node pool of its name has another flavor', () => {
    expect(judgeCounted(request, 2, [], { flavor: 'g', count: 2 })).toEqual({
      kind: 'ambiguous',
      why: 'node pool np-r1 no longer carries its label and has flavor g, not f; its 2 nodes are left as they are',
    });
  });

  it('prefers its labelled node pool to one of its name without the label', () => {
    expect(judgeCounted(request, 2, [nodePool({ count: 3 })], { flavor: 'f', count: 9 })).toEqual({
      kind: 'correct',
      to: 3,
      why: 'node count changed',
    });
  });
});

describe('judgeUncounted', () => {
  it('counts its own node pool, and not one of no nodes', () => {
    expect(judgeUncounted(request, [nodePool({ count: 3 })])).toEqual({
      kind: 'correct',
      to: 3,
      why: 'node pool found',
    });
    expect(judgeUncounted(request, [nodePool({ count: 0 })])).toEqual({ kind: 'unchanged' });
    expect(judgeUncounted(request, [nodePool({ owner: 'r2' })])).toEqual({ kind: 'unchanged' });
  });

  it('does not count a node pool of its name in another pool', () => {
    expect(judgeUncounted(request, [nodePool({ pair: 'p/other-pool' })])).toEqual({
      kind: 'ambiguous',
      why: 'its node pool is p/pool/np-r1, yet p/other-pool/np-r1 carries its label; not counted',
    });
  });

  it('does not count a node pool without a flavor', () => {
    expect(judgeUncounted(request, [nodePool({ flavor: undefined })])).toEqual({
      kind: 'ambiguous',
      why: 'node pool np-r1 carries its label but flavor (none), not f; not counted',
    });
  });
});
