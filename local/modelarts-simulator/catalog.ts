/**
 * What the simulator's account looks like besides node pools: every pool is a physical, privileged
 * pool, and two flavors are on sale in two AZs under both billing modes. Shapes follow the SDK
 * models quoted in shared/reference/modelarts-api-notes.md §2 and §6.
 */

export const AVAILABILITY_ZONES = ['cn-north-4a', 'cn-north-4b'] as const;

/**
 * ShowPool. `spec.type: Dedicate` is a physical pool (maxCount must equal count); `status.clusters`
 * is what marks a privileged pool (taints, tags and network allowed), notes §6 [INF].
 */
export function poolView(poolName: string) {
  return {
    apiVersion: 'v2',
    kind: 'Pool',
    metadata: { name: poolName, labels: { 'os.modelarts/name': poolName, 'os.modelarts/workspace.id': '0' } },
    spec: { type: 'Dedicate' as const, controlMode: 0 },
    status: { phase: 'Running', clusters: [{ providerId: `simulated-cce-${poolName}`, name: `${poolName}-cluster` }] },
  };
}

function flavor(name: string, spec: { cpu: string; memory: string; gpu?: { type: string; size: number } }) {
  return {
    apiVersion: 'v1',
    kind: 'ResourceFlavor',
    metadata: { name, labels: { 'os.modelarts/scope': 'Train,Infer' } },
    spec: { type: 'Dedicate', cpuArch: 'x86', ...spec, billingModes: [0, 1], jobFlavors: [] as string[] },
    status: { phase: Object.fromEntries(AVAILABILITY_ZONES.map((az) => [az, 'normal'])) },
  };
}

/** ListResourceFlavors (`GET /v1/{project_id}/resourceflavors`), one page. */
export const RESOURCE_FLAVORS = {
  apiVersion: 'v1',
  kind: 'List',
  metadata: { remainingItemCount: 0 },
  items: [
    flavor('modelarts.vm.2u4g.dcc', { cpu: '2', memory: '4Gi' }),
    flavor('modelarts.vm.gpu.t4u8', { cpu: '8', memory: '32Gi', gpu: { type: 'nvidia-t4', size: 1 } }),
  ],
};
