/**
 * The composition root: builds each adapter once per process from the environment. Handlers take
 * what they need from here; use cases receive adapters as plain arguments.
 */
import { decodeJwtAlgorithms } from '../contracts/auth';
import { ENV } from '../contracts/environment';
import { ApprovalRepository } from './adapters/dynamodb/approval-repository';
import { ClaimRepository } from './adapters/dynamodb/claim-repository';
import { documentClient } from './adapters/dynamodb/client';
import { QuotaRepository } from './adapters/dynamodb/quota-repository';
import { RequestRepository } from './adapters/dynamodb/request-repository';
import { Authenticator } from './adapters/authenticator';
import { booleanEnv, optionalEnv, requiredEnv } from './adapters/environment';
import { Mailer } from './adapters/mailer';
import { ModelArtsProjects } from './adapters/modelarts/projects';
import { Slack } from './adapters/slack';
import { huaweiCredentials, secretString } from './adapters/secrets';
import { Workflow } from './adapters/workflow';
import { loadPolicyFile, type Policy } from './config/policy';
import { Notifier } from './use-cases/notifier';
import type { Clock } from './use-cases/ports';

/**
 * A lazily built singleton. Every `once(...)` below is marked `@__PURE__`: calling `once` has no
 * effect, so esbuild drops the adapters a handler never uses (without the mark each handler's
 * bundle carried every adapter: SESv2, Secrets Manager, Slack, ModelArts).
 */
function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

/** The one clock every use case reads the time from (tests hand them a fixed one). */
export const clock: Clock = () => new Date();

const tableName = /* @__PURE__ */ once(() => requiredEnv(ENV.tableName));

export const policy = /* @__PURE__ */ once((): Policy => loadPolicyFile(requiredEnv(ENV.policyFile)));
export const requests = /* @__PURE__ */ once(() => new RequestRepository(documentClient(), tableName()));
export const approvals = /* @__PURE__ */ once(() => new ApprovalRepository(documentClient(), tableName()));
export const quotas = /* @__PURE__ */ once(() => new QuotaRepository(documentClient(), tableName()));
export const claims = /* @__PURE__ */ once(() => new ClaimRepository(documentClient(), tableName()));
export const workflow = /* @__PURE__ */ once(() => new Workflow(requiredEnv(ENV.stateMachineArn)));
export const mailer = /* @__PURE__ */ once(() => new Mailer(requiredEnv(ENV.mailFrom)));
export const publicBaseUrl = /* @__PURE__ */ once(() => requiredEnv(ENV.publicBaseUrl).replace(/\/$/, ''));
export const authenticator = /* @__PURE__ */ once(
  () =>
    new Authenticator({
      issuer: requiredEnv(ENV.jwtIssuer),
      audience: requiredEnv(ENV.jwtAudience),
      jwksUri: requiredEnv(ENV.jwksUri),
      algorithms: decodeJwtAlgorithms(requiredEnv(ENV.jwtAlgorithms)),
      requireVerifiedEmail: booleanEnv(ENV.jwtRequireVerifiedEmail),
    }),
);
/** The key that signs approval links (cached by the secrets adapter). */
export const linkKey = () => secretString(requiredEnv(ENV.linkKeySecretId));

/** Slack, when the deployment has a bot token; poolgate works with e-mail alone otherwise. */
export const slack = /* @__PURE__ */ once(() => {
  const tokenSecretId = optionalEnv(ENV.slackBotTokenSecretId);
  return tokenSecretId ? new Slack(() => secretString(tokenSecretId), optionalEnv(ENV.slackApiUrl)) : undefined;
});
export const slackSigningSecret = () => secretString(requiredEnv(ENV.slackSigningSecretId));
export const notifier = async () =>
  new Notifier({
    policy: policy(),
    mailer: mailer(),
    slack: slack(),
    linkKey: await linkKey(),
    publicBaseUrl: publicBaseUrl(),
  });
/**
 * The decision handlers' notifier: they only rewrite the Slack messages of a settled stage and send no
 * mail, so without a mailer their bundles carry no SESv2 client (about -75 KB and its import time).
 */
export const settledStageNotifier = async (): Promise<Pick<Notifier, 'showSettled'>> =>
  new Notifier({ policy: policy(), slack: slack(), linkKey: await linkKey(), publicBaseUrl: publicBaseUrl() });

/** Each ModelArts call gives up after this long; the workflow's Retry then reads again before any new create. */
const MODELARTS_TIMEOUT_MS = 10_000;

export const modelArts = /* @__PURE__ */ once(
  () =>
    new ModelArtsProjects({
      settings: policy().modelArts,
      credentialsSecretId: requiredEnv(ENV.modelArtsCredentialsSecretId),
      // MODELARTS_ENDPOINT (the local simulator, or a private endpoint) wins over the policy file.
      endpointOverride: optionalEnv(ENV.modelArtsEndpoint),
      credentialsOf: huaweiCredentials,
      timeoutMs: MODELARTS_TIMEOUT_MS,
    }),
);
