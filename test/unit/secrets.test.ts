import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { huaweiCredentials, secretString } from '../../lambdas/adapters/secrets';

const secrets = mockClient(SecretsManagerClient);
beforeEach(() => secrets.reset());

function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

// Powertools caches each secret for a while: every test reads a secret id of its own.
describe('secrets adapter', () => {
  it('reports an access-denied read as a read failure naming the secret and the error, not as "not JSON"', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(awsError('AccessDeniedException', 'User is not authorized to perform secretsmanager:GetSecretValue'));
    const error = await huaweiCredentials('poolgate/denied').then(
      () => new Error('read'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toBe(
      'secret poolgate/denied could not be read (AccessDeniedException: User is not authorized to perform secretsmanager:GetSecretValue)',
    );
    expect(error.message).not.toMatch(/JSON/);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'poolgate/denied' });
  });

  it('reports throttling as a read failure too', async () => {
    secrets.on(GetSecretValueCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    await expect(secretString('poolgate/throttled')).rejects.toThrow(
      'secret poolgate/throttled could not be read (ThrottlingException: Rate exceeded)',
    );
  });

  it('calls a value that was read but is not JSON what it is', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'AK:SK' });
    await expect(huaweiCredentials('poolgate/plain')).rejects.toThrow(
      'secret poolgate/plain is not JSON {"accessKey","secretKey"}',
    );
  });

  it('names the missing key of a JSON value, and reads a complete one', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: 'poolgate/partial' })
      .resolves({ SecretString: '{"accessKey":"AK"}' })
      .on(GetSecretValueCommand, { SecretId: 'poolgate/null' })
      .resolves({ SecretString: 'null' })
      .on(GetSecretValueCommand, { SecretId: 'poolgate/full' })
      .resolves({ SecretString: '{"accessKey":"AK","secretKey":"SK"}' });
    await expect(huaweiCredentials('poolgate/partial')).rejects.toThrow(
      'secret poolgate/partial lacks accessKey or secretKey',
    );
    await expect(huaweiCredentials('poolgate/null')).rejects.toThrow(
      'secret poolgate/null lacks accessKey or secretKey',
    );
    await expect(huaweiCredentials('poolgate/full')).resolves.toEqual({ accessKey: 'AK', secretKey: 'SK' });
  });
});
