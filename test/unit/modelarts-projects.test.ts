/**
 * ModelArts per project: each project's calls go to its own endpoint (or region), signed with the
 * AK/SK of its own secret. Two simulators with different AK/SKs stand for two regions: a call signed
 * with the wrong pair would be refused with 401 APIG.0301.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelArtsProjects, targetOf, type ModelArtsSettings } from '../../lambdas/adapters/modelarts/projects';
import { parsePolicy, PolicyError } from '../../lambdas/config/policy';
import { startModelArtsSimulator, type ModelArtsSimulator } from '../../local/modelarts-simulator';

const PROJECT_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const PROJECT_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const PROJECT_OTHER = 'cccccccccccccccccccccccccccccccc';
const SECRET_A = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:poolgate/project-a-AbCdEf';
const SECRET_B = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:poolgate/project-b-GhIjKl';
const DEFAULT_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:poolgate/modelarts-MnOpQr';

describe('targetOf', () => {
  const settings: ModelArtsSettings = {
    region: 'cn-north-4',
    projects: {
      [PROJECT_A]: { region: 'cn-east-3', credentialsSecretArn: SECRET_A },
      [PROJECT_B]: { endpoint: 'https://modelarts.private.example.com' },
    },
  };
  const defaults = { credentialsSecretId: DEFAULT_SECRET };

  it.each([
    ['its region', PROJECT_A, 'https://modelarts.cn-east-3.myhuaweicloud.com', SECRET_A],
    ['its endpoint, the default secret', PROJECT_B, 'https://modelarts.private.example.com', DEFAULT_SECRET],
    ['the default region and secret', PROJECT_OTHER, 'https://modelarts.cn-north-4.myhuaweicloud.com', DEFAULT_SECRET],
  ])('sends a project to %s', (_what, projectId, endpoint, secret) => {
    expect(targetOf(settings, projectId, defaults)).toEqual({ endpoint, credentialsSecretId: secret });
  });

  it('uses the default endpoint over the default region, and the override (MODELARTS_ENDPOINT) over everything', () => {
    expect(targetOf({ ...settings, endpoint: 'https://ma.example.com' }, PROJECT_OTHER, defaults).endpoint).toBe(
      'https://ma.example.com',
    );
    expect(targetOf(settings, PROJECT_A, { ...defaults, endpointOverride: 'http://127.0.0.1:4010' })).toEqual({
      endpoint: 'http://127.0.0.1:4010',
      credentialsSecretId: SECRET_A,
    });
    // Hong Kong is the one region on myhuaweicloud.cn.
    expect(targetOf({ region: 'ap-southeast-1', projects: {} }, PROJECT_OTHER, defaults).endpoint).toBe(
      'https://modelarts.ap-southeast-1.myhuaweicloud.cn',
    );
  });

  it('does not take a prototype name for a project', () => {
    expect(targetOf(settings, 'constructor', defaults)).toEqual({
      endpoint: 'https://modelarts.cn-north-4.myhuaweicloud.com',
      credentialsSecretId: DEFAULT_SECRET,
    });
  });
});

describe('ModelArtsProjects against two simulators with different AK/SKs', () => {
  const credentials: Record<string, { accessKey: string; secretKey: string }> = {
    [SECRET_A]: { accessKey: 'AKPROJECTA', secretKey: 'secret-of-project-a' },
    [SECRET_B]: { accessKey: 'AKPROJECTB', secretKey: 'secret-of-project-b' },
  };
  let dirs: string[];
  let simulators: ModelArtsSimulator[];

  beforeAll(async () => {
    dirs = [mkdtempSync(join(tmpdir(), 'poolgate-ma-a-')), mkdtempSync(join(tmpdir(), 'poolgate-ma-b-'))];
    simulators = await Promise.all([
      startModelArtsSimulator({ port: 0, dataDir: dirs[0], credentials: credentials[SECRET_A] }),
      startModelArtsSimulator({ port: 0, dataDir: dirs[1], credentials: credentials[SECRET_B] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(simulators.map((s) => s.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("sends each project's calls to its endpoint, signed with its own secret's AK/SK", async () => {
    const asked: string[] = [];
    const modelArts = new ModelArtsProjects({
      settings: {
        region: 'cn-north-4',
        projects: {
          [PROJECT_A]: { endpoint: simulators[0].url, credentialsSecretArn: SECRET_A },
          [PROJECT_B]: { endpoint: simulators[1].url, credentialsSecretArn: SECRET_B },
        },
      },
      credentialsSecretId: DEFAULT_SECRET,
      credentialsOf: async (secretId) => {
        asked.push(secretId);
        return credentials[secretId];
      },
      timeoutMs: 5000,
    });
    const body = (name: string) => ({
      kind: 'NodePool',
      apiVersion: 'v2',
      metadata: { name },
      spec: { resources: { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1 } },
    });
    await modelArts.createNodePool(PROJECT_A, 'pool', body('np-a') as never);
    await modelArts.createNodePool(PROJECT_B, 'pool', body('np-b') as never);

    expect(simulators[0].nodePools().map((n) => n.nodePool.metadata.name)).toEqual(['np-a']);
    expect(simulators[1].nodePools().map((n) => n.nodePool.metadata.name)).toEqual(['np-b']);
    expect((await modelArts.listNodePools(PROJECT_A, 'pool')).map((n) => n.metadata.name)).toEqual(['np-a']);
    expect(new Set(asked)).toEqual(new Set([SECRET_A, SECRET_B]));
  });
});

describe('policy modelArts.projects', () => {
  const policyWith = (projects: unknown) =>
    JSON.stringify({
      modelArts: { projects },
      teams: [
        {
          name: 't',
          members: [{ email: 'a@example.com' }],
          stages: [{ name: 's', approvers: [{ email: 'b@example.com' }] }],
          quotas: {},
        },
      ],
    });

  it('accepts a region, an endpoint and a complete secret ARN per project', () => {
    const policy = parsePolicy(policyWith({ [PROJECT_A]: { region: 'cn-east-3', credentialsSecretArn: SECRET_A } }));
    expect(policy.modelArts.projects[PROJECT_A]).toEqual({ region: 'cn-east-3', credentialsSecretArn: SECRET_A });
  });

  it('refuses a project id that is not one, and a secret named without its complete ARN, naming the field', () => {
    expect(() => parsePolicy(policyWith({ 'my-project': {} }))).toThrow(
      /modelArts\.projects\.my-project: must be a Huawei Cloud project id/,
    );
    expect(() => parsePolicy(policyWith({ [PROJECT_A]: { credentialsSecretArn: 'poolgate/project-a' } }))).toThrow(
      new RegExp(`modelArts\\.projects\\.${PROJECT_A}\\.credentialsSecretArn: must be the complete ARN`),
    );
    expect(() => parsePolicy(policyWith({ [PROJECT_A]: { region: 'cn-east-3', zone: 'x' } }))).toThrow(PolicyError);
  });
});
