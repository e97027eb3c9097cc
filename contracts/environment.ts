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
  /** The accepted JWS algorithms, comma-separated (policy `auth.algorithms`; contracts/auth.ts). */
  jwtAlgorithms: 'JWT_ALGORITHMS',
  /** `true` when a token must say `email_verified: true` (policy `auth.requireVerifiedEmail`), else `false`. */
  jwtRequireVerifiedEmail: 'JWT_REQUIRE_VERIFIED_EMAIL',
  /** Secrets Manager ids of the Slack app's bot token and signing secret (Slack is off when unset). */
  slackBotTokenSecretId: 'SLACK_BOT_TOKEN_SECRET_ID',
  slackSigningSecretId: 'SLACK_SIGNING_SECRET_ID',
  /** Another Slack Web API base URL (the local stand-in); Slack's own when unset. */
  slackApiUrl: 'SLACK_API_URL',
} as const;
