/** Secrets from Secrets Manager, cached by Powertools; never logged, never put in the environment. */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';

const MAX_AGE_SECONDS = 300;

/**
 * The secret's string value. A failed read (access denied, throttling, no such secret, no network)
 * is reported as a read failure naming the secret and Secrets Manager's own error (kept as `cause`),
 * never as something wrong with the value.
 */
export async function secretString(secretId: string): Promise<string> {
  let value: unknown;
  try {
    value = await getSecret(secretId, { maxAge: MAX_AGE_SECONDS });
  } catch (error) {
    // Powertools wraps the SDK's error (GetParameterError); its cause names what Secrets Manager said.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    throw new Error(`secret ${secretId} could not be read (${what})`, { cause: error });
  }
  if (typeof value !== 'string' || value.length === 0) throw new Error(`secret ${secretId} has no string value`);
  return value;
}

export interface HuaweiCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly securityToken?: string;
}

export async function huaweiCredentials(secretId: string): Promise<HuaweiCredentials> {
  // Read first, outside the parse: a read that fails says so, and only a value that is not JSON is called that.
  const text = await secretString(secretId);
  let parsed: Partial<HuaweiCredentials> | null;
  try {
    parsed = JSON.parse(text) as Partial<HuaweiCredentials> | null;
  } catch {
    throw new Error(`secret ${secretId} is not JSON {"accessKey","secretKey"}`);
  }
  if (typeof parsed !== 'object' || !parsed?.accessKey || !parsed.secretKey)
    throw new Error(`secret ${secretId} lacks accessKey or secretKey`);
  return {
    accessKey: parsed.accessKey,
    secretKey: parsed.secretKey,
    ...(parsed.securityToken ? { securityToken: parsed.securityToken } : {}),
  };
}
