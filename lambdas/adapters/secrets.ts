/** Secrets from Secrets Manager, cached by Powertools; never logged, never put in the environment. */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

const MAX_AGE_SECONDS = 300;

export async function secretString(secretId: string): Promise<string> {
  const value = await getSecret(secretId, { maxAge: MAX_AGE_SECONDS });
  if (typeof value !== 'string' || value.length === 0) throw new Error(`secret ${secretId} has no string value`);
  return value;
}

export interface HuaweiCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly securityToken?: string;
}

export async function huaweiCredentials(secretId: string): Promise<HuaweiCredentials> {
  let parsed: Partial<HuaweiCredentials>;
  try {
    parsed = JSON.parse(await secretString(secretId)) as Partial<HuaweiCredentials>;
  } catch {
    throw new Error(`secret ${secretId} is not JSON {"accessKey","secretKey"}`);
  }
  if (!parsed.accessKey || !parsed.secretKey) throw new Error(`secret ${secretId} lacks accessKey or secretKey`);
  return {
    accessKey: parsed.accessKey,
    secretKey: parsed.secretKey,
    ...(parsed.securityToken ? { securityToken: parsed.securityToken } : {}),
  };
}
