/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles only (the esbuild alias of
 * contracts/bundling.ts): the SDK clients' default credential provider becomes the environment
 * provider. Lambda hands every function its role's credentials in AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, which the default chain reads first anyway; the rest
 * of that chain (SSO, ini files, web identity, ECS and instance metadata, with their nested STS/SSO
 * clients) is about 90 KB of bundle that never runs there. Nothing imports this file: tests and the
 * local stack run the sources with the full default chain (the local stack sets the same variables).
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
