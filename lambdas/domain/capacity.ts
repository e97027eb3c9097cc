/**
 * Can ModelArts give this node pool at all? Checked before the team's quota and before anyone is
 * asked to approve, from ShowPool, ShowNodePool and ListResourceFlavors (docs/modelarts.md,
 * "Capacity check"). Pure: the adapter reads, this decides.
 */
import type { BillingSummary } from './billing';
import type { NodePoolRequest } from './nodepool-request';

export interface PoolFacts {
  /** `Dedicate` (physical: maxCount must equal count) or `Logical`. */
  readonly type?: string;
  /** Bound to the user's own cluster (`status.clusters` present): taints, tags and network allowed [INF]. */
  readonly privileged: boolean;
  /** ShowPool's `metadata.annotations["os.modelarts/billing.mode"]`: "1" yearly/monthly; anything else pay-per-use. */
  readonly billingMode?: string;
}

export interface FlavorFacts {
  readonly name: string;
  readonly billingModes: readonly number[];
  /** Per AZ: `normal` or `soldout`. */
  readonly phaseByAz: Readonly<Record<string, string>>;
}

export type CapacityReason =
  | 'POOL_NOT_FOUND'
  | 'NODE_POOL_EXISTS'
  | 'BILLING_MODE_REQUIRED'
  | 'FLAVOR_UNKNOWN'
  | 'BILLING_MODE_UNSUPPORTED'
  | 'FLAVOR_SOLD_OUT'
  | 'NOT_PRIVILEGED_POOL'
  | 'MAXCOUNT_NOT_ALLOWED';

export type CapacityDecision =
  { readonly ok: true } | { readonly ok: false; readonly reason: CapacityReason; readonly message: string };

/**
 * `nodePoolExists`: ShowNodePool found a node pool of the request's name in the pool (one this
 * request did not create): ModelArts would refuse the create, so nobody is asked to approve it.
 */
export function checkCapacity(
  body: NodePoolRequest,
  billing: Pick<BillingSummary, 'mode' | 'fromPool'>,
  pool: PoolFacts | undefined,
  flavors: readonly FlavorFacts[],
  nodePoolExists = false,
): CapacityDecision {
  const resources = body.spec.resources;
  const billingMode = billing.mode;
  if (!pool) return { ok: false, reason: 'POOL_NOT_FOUND', message: 'the pool does not exist in this project' };
  if (nodePoolExists)
    return {
      ok: false,
      reason: 'NODE_POOL_EXISTS',
      message: `a node pool named ${body.metadata.name} already exists in the pool; choose another name`,
    };
  if (billing.fromPool && pool.billingMode === '1')
    return {
      ok: false,
      reason: 'BILLING_MODE_REQUIRED',
      message:
        'the pool is billed yearly/monthly and the request names no billing mode: give the billing annotations explicitly (os.modelarts/billing.mode "1" with period.num and period.type, or "0" for pay-per-use nodes)',
    };
  const flavor = flavors.find((f) => f.name === resources.flavor);
  if (!flavor) return { ok: false, reason: 'FLAVOR_UNKNOWN', message: `ModelArts has no flavor ${resources.flavor}` };
  if (!flavor.billingModes.includes(Number(billingMode))) {
    return {
      ok: false,
      reason: 'BILLING_MODE_UNSUPPORTED',
      message: `flavor ${flavor.name} cannot be bought ${billingMode === '1' ? 'yearly/monthly' : 'pay-per-use'}`,
    };
  }
  const requestedAzs = resources.azs?.map((a) => a.az) ?? [];
  const soldOutAzs = Object.entries(flavor.phaseByAz)
    .filter(([, phase]) => phase === 'soldout')
    .map(([az]) => az);
  const available = Object.keys(flavor.phaseByAz).filter((az) => !soldOutAzs.includes(az));
  const blocked = requestedAzs.length
    ? requestedAzs.filter((az) => soldOutAzs.includes(az) || !(az in flavor.phaseByAz))
    : available.length
      ? []
      : soldOutAzs;
  if (blocked.length)
    return {
      ok: false,
      reason: 'FLAVOR_SOLD_OUT',
      message: `flavor ${flavor.name} is sold out in ${blocked.join(', ')}`,
    };
  const privilegedOnly = (['taints', 'tags', 'network'] as const).filter((field) => resources[field] !== undefined);
  if (!pool.privileged && privilegedOnly.length) {
    return {
      ok: false,
      reason: 'NOT_PRIVILEGED_POOL',
      message: `${privilegedOnly.join(', ')} can be set only in a privileged pool`,
    };
  }
  if (pool.type === 'Dedicate' && resources.maxCount !== resources.count) {
    return { ok: false, reason: 'MAXCOUNT_NOT_ALLOWED', message: 'in a physical pool maxCount must equal count' };
  }
  return { ok: true };
}
