/**
 * Secrets Manager stand-in: `GetSecretValue` in the AWS JSON 1.1 protocol, so the unchanged SDK
 * (and Powertools parameters) reads local secrets through AWS_ENDPOINT_URL_SECRETS_MANAGER set to
 * `<api url><prefix>`. The SDK posts every operation to `<prefix>/` with an `X-Amz-Target` header.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pathBelow, type Mount } from '../http-api';
import { awsError, awsReply } from './reply';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const ACCOUNT_ID = '000000000000';

export type SecretSource = (secretId: string) => string | undefined;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Real secret ARNs end in `-` and six random characters; ours are derived from the name, so stable. */
function secretArn(region: string, name: string): string {
  const suffix = sha256(name).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6);
  return `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-${suffix}`;
}

/** A UUID-shaped version id that changes when the value changes, as a new version would. */
function versionId(value: string): string {
  const hex = sha256(value).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The name in a secret ARN (`arn:...:secret:<name>-XXXXXX`), or the id itself. */
function secretName(secretId: string): string {
  const arn = /^arn:aws[\w-]*:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/.exec(secretId);
  return arn ? arn[1] : secretId;
}

/** The region the client signed for (SigV4 credential scope), so ARNs look like the caller's. */
function signedRegion(req: IncomingMessage): string {
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? 'us-east-1';
}

function parseSecretId(body: Buffer): string | undefined {
  try {
    const request: unknown = JSON.parse(body.toString('utf8'));
    if (typeof request !== 'object' || request === null || !('SecretId' in request)) return undefined;
    return typeof request.SecretId === 'string' && request.SecretId !== '' ? request.SecretId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param prefix where the mount lives on the HTTP API, e.g. `/_aws/secretsmanager`
 * @param getSecret the secret string of an id (a name, or an ARN's name), undefined if unknown
 */
export function secretsManagerMount(prefix: string, getSecret: SecretSource): Mount {
  const createdDate = Date.now() / 1000;
  return {
    prefix,
    handle: async (req, res, body) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || pathBelow(prefix, req.url) !== '/') {
        return awsError(
          res,
          404,
          CONTENT_TYPE,
          'UnknownOperationException',
          `${req.method} ${req.url} is not a Secrets Manager operation`,
        );
      }
      if (target !== 'secretsmanager.GetSecretValue') {
        return awsError(
          res,
          400,
          CONTENT_TYPE,
          'UnknownOperationException',
          `${target || 'an operation without X-Amz-Target'} is not served by the local stand-in (GetSecretValue only)`,
        );
      }
      const secretId = parseSecretId(body);
      if (secretId === undefined)
        return awsError(res, 400, CONTENT_TYPE, 'InvalidParameterException', 'SecretId must be a non-empty string');
      const name = secretName(secretId);
      const value = getSecret(secretId) ?? getSecret(name);
      if (value === undefined)
        return awsError(
          res,
          400,
          CONTENT_TYPE,
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret.",
        );
      awsReply(res, 200, CONTENT_TYPE, {
        ARN: secretArn(signedRegion(req), name),
        Name: name,
        SecretString: value,
        VersionId: versionId(value),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: createdDate,
      });
    },
  };
}
