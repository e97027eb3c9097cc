/**
 * Bodies as Huawei's SDKs (Go, Node, Python) and the Terraform provider build them, and the fields
 * their models require (docs/modelarts.md "What ModelArts accepts"; Go fields without `omitempty`,
 * Node constructor arguments). Shared by the table tests of poolgate's submit and of the simulator.
 */

// Loose on purpose: the tables delete fields anywhere in the body.
type Json = any;

/** A create body with every section the SDK models have, each with all its fields set. */
export function sdkFullBody(name = 'sdk-full'): Json {
  return {
    apiVersion: 'v2',
    kind: 'NodePool',
    metadata: { name, annotations: { 'os.modelarts/billing.mode': '0' } },
    spec: {
      resources: {
        flavor: 'modelarts.vm.2u4g.dcc',
        count: 2,
        maxCount: 2,
        nodePool: name,
        azs: [{ az: 'cn-north-4a', count: 2 }],
        taints: [{ key: 'dedicated', value: 'ml', effect: 'NoSchedule' }],
        labels: { 'app.kubernetes.io/team': 'ml' },
        tags: [{ key: 'cost-center', value: 'ml-42' }],
        network: {
          vpc: '277e9abc-0e6b-431a-9232-cfd25d5fc566',
          subnet: '03796378-c356-4c14-826b-e4913aa9c8b9',
          securityGroups: ['0a15b48d-06f1-41e4-b782-ade90087bf59'],
        },
        extendParams: { runtime: 'containerd', dockerBaseSize: '50' },
        os: { name: 'EulerOS', imageType: '' },
        rootVolume: { volumeType: 'SSD', size: '100' },
        dataVolumes: [{ volumeType: 'GPSSD', size: '500', count: 1, extendParams: { volumeGroup: 'vgpaas' } }],
        volumeGroupConfigs: [{ volumeGroup: 'vgpaas', dockerThinPool: 90, lvmConfig: { lvType: 'linear' } }],
      },
    },
  };
}

type Path = readonly (string | number)[];

/**
 * Every field the SDK models require, as a path into `sdkFullBody`, and the path as poolgate's and
 * the simulator's messages name it. `spec.resources` is required by poolgate only (the page makes
 * `spec` optional), so it is not in this table.
 */
export const SDK_REQUIRED_FIELDS: readonly { readonly path: Path; readonly named: string }[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata', 'name'],
  ['spec', 'resources', 'flavor'],
  ['spec', 'resources', 'count'],
  ['spec', 'resources', 'maxCount'],
  ['spec', 'resources', 'azs', 0, 'az'],
  ['spec', 'resources', 'azs', 0, 'count'],
  ['spec', 'resources', 'taints', 0, 'key'],
  ['spec', 'resources', 'taints', 0, 'effect'],
  ['spec', 'resources', 'tags', 0, 'key'],
  ['spec', 'resources', 'tags', 0, 'value'],
  ['spec', 'resources', 'rootVolume', 'volumeType'],
  ['spec', 'resources', 'rootVolume', 'size'],
  ['spec', 'resources', 'dataVolumes', 0, 'volumeType'],
  ['spec', 'resources', 'dataVolumes', 0, 'size'],
  ['spec', 'resources', 'dataVolumes', 0, 'extendParams'],
  ['spec', 'resources', 'dataVolumes', 0, 'extendParams', 'volumeGroup'],
  ['spec', 'resources', 'volumeGroupConfigs'],
  ['spec', 'resources', 'volumeGroupConfigs', 0, 'volumeGroup'],
  ['spec', 'resources', 'volumeGroupConfigs', 0, 'lvmConfig', 'lvType'],
].map((path) => ({
  path,
  named: path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    '',
  ),
}));

/** `body` without the field at `path`. */
export function without(body: Json, path: Path): Json {
  const copy = structuredClone(body);
  let parent = copy;
  for (const part of path.slice(0, -1)) parent = parent[part];
  delete parent[path[path.length - 1]];
  return copy;
}

/** Forms real clients send that ModelArts accepts, each as a change to `sdkFullBody`. */
export const ACCEPTED_FORMS: readonly (readonly [string, (b: Json) => void])[] = [
  ['"azs": [] (no zone chosen)', (b) => (b.spec.resources.azs = [])],
  ['a tag value "" (the Go SDK\'s unset value)', (b) => (b.spec.resources.tags[0].value = '')],
  ['a taint without a value', (b) => delete b.spec.resources.taints[0].value],
  ['sizes in Terraform\'s "100Gi" form', (b) => (b.spec.resources.rootVolume.size = '100Gi')],
  [
    'extendParams keys the SDK models do not list',
    (b) =>
      Object.assign(b.spec.resources.extendParams, { kubernetesLVSize: '100', driverPolicyOnExistingNodes: 'refresh' }),
  ],
  ['a data volume without count', (b) => delete b.spec.resources.dataVolumes[0].count],
  ['no annotations', (b) => delete b.metadata.annotations],
];
