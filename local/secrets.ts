/**
 * Secrets the local stack serves through its Secrets Manager stand-in: the link-signing key
 * (generated once and kept in $POOLGATE_HOME, like Secrets Manager's generated secret on AWS) and
 * the Huawei AK/SK (from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK, or the documented dev pair).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCAL_SECRET_IDS = {
  linkKey: 'poolgate/link-signing-key',
  modelArtsCredentials: 'poolgate/modelarts-credentials',
  slackBotToken: 'poolgate/slack-bot-token',
  slackSigningSecret: 'poolgate/slack-signing-secret',
} as const;

/** The Slack stand-in accepts any bot token; this one is only ever sent to it. */
export const LOCAL_SLACK_BOT_TOKEN = 'xoxb-poolgate-local-stand-in';

/** A random secret generated once and kept in $POOLGATE_HOME/secrets/<name>. */
function loadOrCreateSecret(home: string, name: string): string {
  const dir = join(home, 'secrets');
  const file = join(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8').trim();
}

export function loadOrCreateLinkKey(home: string): string {
  return loadOrCreateSecret(home, 'link-signing-key');
}

/** Slack's signing secret: SLACK_SIGNING_SECRET when set, else one generated for this home. */
export function slackSigningSecret(home: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.SLACK_SIGNING_SECRET || loadOrCreateSecret(home, 'slack-signing-secret');
}

/**
 * `projectSecretIds`: the secrets the policy names per ModelArts project. The simulator knows one
 * AK/SK, so locally each of them holds that pair too (the lookup by secret id is still the real one).
 */
export function localSecrets(
  home: string,
  credentials: { accessKey: string; secretKey: string },
  projectSecretIds: readonly string[] = [],
): (secretId: string) => string | undefined {
  const values: Record<string, string> = {
    ...Object.fromEntries(projectSecretIds.map((id) => [id, JSON.stringify(credentials)])),
    [LOCAL_SECRET_IDS.linkKey]: loadOrCreateLinkKey(home),
    [LOCAL_SECRET_IDS.modelArtsCredentials]: JSON.stringify(credentials),
    [LOCAL_SECRET_IDS.slackBotToken]: LOCAL_SLACK_BOT_TOKEN,
    [LOCAL_SECRET_IDS.slackSigningSecret]: slackSigningSecret(home),
  };
  return (secretId) => values[secretId];
}
