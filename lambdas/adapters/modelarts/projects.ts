/**
 * ModelArts per project: each project of the policy file may name its own region or endpoint and the
 * secret holding the AK/SK to sign with; the others use the defaults. Every call takes the project id,
 * so this routes it to that project's client (made on first use, then kept).
 */
import type { ModelArtsNodePool } from '../../domain/nodepool-request';
import { endpointForRegion, ModelArtsClient, type NodePool, type Pool, type ResourceFlavor } from './client';
import type { SigningCredentials } from './signer';

export interface ModelArtsSettings {
  readonly region: string;
  readonly endpoint?: string;
  readonly projects: Readonly<
    Record<string, { readonly region?: string; readonly endpoint?: string; readonly credentialsSecretArn?: string }>
  >;
}

export interface ModelArtsTarget {
  readonly endpoint: string;
  readonly credentialsSecretId: string;
}

/**
 * Where a project's calls go and whose AK/SK signs them: the project's endpoint, else its region's,
 * else the default endpoint, else the default region's. `endpointOverride` (MODELARTS_ENDPOINT: the
 * local simulator, or one private endpoint for all) wins over every one of them.
 */
export function targetOf(
  settings: ModelArtsSettings,
  projectId: string,
  defaults: { credentialsSecretId: string; endpointOverride?: string },
): ModelArtsTarget {
  const project = Object.hasOwn(settings.projects, projectId) ? settings.projects[projectId] : undefined;
  const endpoint =
    defaults.endpointOverride ??
    project?.endpoint ??
    (project?.region ? endpointForRegion(project.region) : undefined) ??
    settings.endpoint ??
    endpointForRegion(settings.region);
  return { endpoint, credentialsSecretId: project?.credentialsSecretArn ?? defaults.credentialsSecretId };
}

export interface ModelArtsProjectsOptions {
  readonly settings: ModelArtsSettings;
  readonly credentialsSecretId: string;
  readonly endpointOverride?: string;
  readonly credentialsOf: (secretId: string) => Promise<SigningCredentials>;
  readonly timeoutMs: number;
}

export class ModelArtsProjects {
  private readonly clients = new Map<string, ModelArtsClient>();

  constructor(private readonly options: ModelArtsProjectsOptions) {}

  /** The target a project's calls use (for logs and tests). */
  targetOf(projectId: string): ModelArtsTarget {
    return targetOf(this.options.settings, projectId, {
      credentialsSecretId: this.options.credentialsSecretId,
      endpointOverride: this.options.endpointOverride,
    });
  }

  createNodePool(projectId: string, poolName: string, body: ModelArtsNodePool): Promise<NodePool> {
    return this.clientFor(projectId).createNodePool(projectId, poolName, body);
  }

  showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined> {
    return this.clientFor(projectId).showNodePool(projectId, poolName, nodePoolName);
  }

  deleteNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined> {
    return this.clientFor(projectId).deleteNodePool(projectId, poolName, nodePoolName);
  }

  patchNodePool(projectId: string, poolName: string, nodePoolName: string, body: unknown): Promise<unknown> {
    return this.clientFor(projectId).patchNodePool(projectId, poolName, nodePoolName, body);
  }

  listNodePools(projectId: string, poolName: string): Promise<NodePool[]> {
    return this.clientFor(projectId).listNodePools(projectId, poolName);
  }

  showPool(projectId: string, poolName: string): Promise<Pool | undefined> {
    return this.clientFor(projectId).showPool(projectId, poolName);
  }

  listResourceFlavors(projectId: string): Promise<ResourceFlavor[]> {
    return this.clientFor(projectId).listResourceFlavors(projectId);
  }

  private clientFor(projectId: string): ModelArtsClient {
    let client = this.clients.get(projectId);
    if (!client) {
      const { endpoint, credentialsSecretId } = this.targetOf(projectId);
      client = new ModelArtsClient({
        endpoint,
        credentials: () => this.options.credentialsOf(credentialsSecretId),
        timeoutMs: this.options.timeoutMs,
      });
      this.clients.set(projectId, client);
    }
    return client;
  }
}
