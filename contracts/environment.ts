/**
 * Environment variables the Lambda handlers read. The stack sets them on AWS; the local stack
 * sets them on its own process before it imports the handlers.
 */
export const ENV = {
  tableName: 'TABLE_NAME',
  stateMachineArn: 'STATE_MACHINE_ARN',
  policyFile: 'POOLGATE_CONFIG',
  publicBaseUrl: 'PUBLIC_BASE_URL',
  linkKeySecretId: 'LINK_KEY_SECRET_ID',
  modelArtsCredentialsSecretId: 'MODELARTS_CREDENTIALS_SECRET_ID',
  modelArtsEndpoint: 'MODELARTS_ENDPOINT',
  mailFrom: 'MAIL_FROM',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwksUri: 'JWKS_URI',
} as const;
