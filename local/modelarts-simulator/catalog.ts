/**
 * What the simulator's account looks like besides node pools. By default every pool is a physical,
 * privileged pool, and two flavors are on sale in two AZs under both billing modes. A catalog (the
 * local stack reads it from the JSON file named by POOLGATE_SIMULATOR_CATALOG) changes that per run:
 * pools that are not privileged or are logical, flavors sold out in some AZs, billing modes, and
 * flavors whose nodes come up abnormal. Shapes follow the SDK models quoted in
 * Huawei's SDK models (PoolModel, ResourceFlavor), as docs/modelarts.md describes them.
 */

export const AVAILABILITY_ZONES = ['cn-north-4a', 'cn-north-4b'] as const;

export interface PoolConfig {
  /** @default true — bound to the user's own cluster: taints, tags and network allowed. */
  readonly privileged?: boolean;
  /** @default 'Dedicate' (physical: maxCount must equal count) */
  readonly type?: 'Dedicate' | 'Logical';
  /** The pool's billing mode, ShowPool's `metadata.annotations["os.modelarts/billing.mode"]`. @default '0' (pay-per-use) */
  readonly billingMode?: '0' | '1';
  /**
   * A create that names no zone (no `azs`, or `[]`) is stored with the zone ModelArts picked
   * (all its nodes in the first AZ), as Show and List then answer it. @default false
   */
  readonly fillsZones?: boolean;
}

export interface FlavorConfig {
  readonly name: string;
  /** @default [0, 1] */
  readonly billingModes?: readonly number[];
  /** AZs where it is sold out. */
  readonly soldOutAzs?: readonly string[];
  /** Its nodes come up abnormal instead of available. */
  readonly nodesFail?: boolean;
  readonly cpu?: string;
  readonly memory?: string;
}

export interface SimulatorCatalog {
  /** Per pool name; pools not listed get the defaults. */
  readonly pools?: Readonly<Record<string, PoolConfig>>;
  /** Replaces the default flavors when given. */
  readonly flavors?: readonly FlavorConfig[];
}

export const DEFAULT_FLAVORS: readonly FlavorConfig[] = [
  { name: 'modelarts.vm.2u4g.dcc', cpu: '2', memory: '4Gi' },
  { name: 'modelarts.vm.gpu.t4u8', cpu: '8', memory: '32Gi' },
];

/**
 * ShowPool. `spec.type: Dedicate` is a physical pool (maxCount must equal count); `status.clusters`
 * is what marks a privileged pool (taints, tags and network allowed), notes §6 [INF].
 */
export function poolView(poolName: string, catalog: SimulatorCatalog = {}) {
  const config = catalog.pools?.[poolName] ?? {};
  const privileged = config.privileged ?? true;
  return {
    apiVersion: 'v2',
    kind: 'Pool',
    metadata: {
      name: poolName,
      labels: { 'os.modelarts/name': poolName, 'os.modelarts/workspace.id': '0' },
      annotations: { 'os.modelarts/billing.mode': config.billingMode ?? '0' },
    },
    spec: { type: config.type ?? ('Dedicate' as const), controlMode: 0 },
    status: {
      phase: 'Running',
      ...(privileged ? { clusters: [{ providerId: `simulated-cce-${poolName}`, name: `${poolName}-cluster` }] } : {}),
    },
  };
}

function flavorView(config: FlavorConfig) {
  return {
    apiVersion: 'v1',
    kind: 'ResourceFlavor',
    metadata: { name: config.name, labels: { 'os.modelarts/scope': 'Train,Infer' } },
    spec: {
      type: 'Dedicate',
      cpuArch: 'x86',
      cpu: config.cpu ?? '2',
      memory: config.memory ?? '4Gi',
      billingModes: [...(config.billingModes ?? [0, 1])],
      jobFlavors: [] as string[],
    },
    status: {
      phase: Object.fromEntries(
        AVAILABILITY_ZONES.map((az) => [az, config.soldOutAzs?.includes(az) ? 'soldout' : 'normal']),
      ),
    },
  };
}

/** ListResourceFlavors (`GET /v1/{project_id}/resourceflavors`), one page. */
export function resourceFlavors(catalog: SimulatorCatalog = {}) {
  return {
    apiVersion: 'v1',
    kind: 'List',
    metadata: { remainingItemCount: 0 },
    items: (catalog.flavors ?? DEFAULT_FLAVORS).map(flavorView),
  };
}

export function poolConfig(catalog: SimulatorCatalog, poolName: string): PoolConfig {
  return catalog.pools?.[poolName] ?? {};
}

export function flavorConfig(catalog: SimulatorCatalog, name: string | undefined): FlavorConfig | undefined {
  return (catalog.flavors ?? DEFAULT_FLAVORS).find((f) => f.name === name);
}
