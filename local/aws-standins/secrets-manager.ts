/**
 * Secrets Manager stand-in: `GetSecretValue` in the AWS JSON 1.1 protocol, so the unchanged SDK
 * (and Powertools parameters) reads local secrets through AWS_ENDPOINT_URL_SECRETS_MANAGER.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Mount } from '../http-api';

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

export function secretsManagerMount(prefix: string, getSecret: (secretId: string) => string | undefined): Mount {
  return {
    prefix,
    handle: async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'secretsmanager.GetSecretValue') {
        return reply(res, 400, { __type: 'InvalidRequestException', message: `${target || 'this operation'} is not served locally` });
      }
      let secretId = '';
      try {
        secretId = String((JSON.parse(body.toString('utf8')) as { SecretId?: string }).SecretId ?? '');
      } catch {
        return reply(res, 400, { __type: 'InvalidParameterException', message: 'body is not JSON' });
      }
      const value = getSecret(secretId);
      if (value === undefined) return reply(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      reply(res, 200, {
        ARN: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId}`,
        Name: secretId,
        SecretString: value,
        VersionId: 'local',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      });
    },
  };
}
