import { ENV } from '../../contracts/environment';
import { optionalEnv, requiredEnv } from '../adapters/environment';
import { endpointForRegion, ModelArtsClient } from '../adapters/modelarts/client';
import { huaweiCredentials } from '../adapters/secrets';
import { createNodePool } from '../use-cases/create-node-pool';
import { approvals, policy, publicBaseUrl, requests } from '../wiring';

/** Each ModelArts call gives up after this long; the workflow's Retry then reads again before any new create. */
const MODELARTS_TIMEOUT_MS = 10_000;

let client: ModelArtsClient | undefined;

function modelArts(): ModelArtsClient {
  client ??= new ModelArtsClient({
    // MODELARTS_ENDPOINT (the local simulator, or a private endpoint) wins over the policy file.
    endpoint: optionalEnv(ENV.modelArtsEndpoint) ?? policy().modelArts.endpoint ?? endpointForRegion(policy().modelArts.region),
    credentials: () => huaweiCredentials(requiredEnv(ENV.modelArtsCredentialsSecretId)),
    timeoutMs: MODELARTS_TIMEOUT_MS,
  });
  return client;
}

/** Workflow step CreateNodePool: show first, create if absent, record it. */
export const handler = async (event: { requestId: string }) =>
  createNodePool(event.requestId, { requests: requests(), approvals: approvals(), modelArts: modelArts(), publicBaseUrl: publicBaseUrl() });
