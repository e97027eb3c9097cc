/**
 * The CDK app: validates the policy file (a wrong file fails synth with the field and the rule),
 * then builds the stack from it.
 */
import { App } from 'aws-cdk-lib';
import { resolve } from 'node:path';
import { loadPolicyFile, PolicyError } from '../lambdas/config/policy';
import { PoolgateStack } from '../lib/poolgate-stack';

const root = resolve(__dirname, '..');
const policyFile = resolve(process.env.POOLGATE_CONFIG ?? resolve(root, 'poolgate.config.json'));

try {
  const policy = loadPolicyFile(policyFile);
  if (!policy.auth) throw new PolicyError(`${policyFile}: auth (issuer, audience) is required to deploy`);
  if (!policy.mail) throw new PolicyError(`${policyFile}: mail.from (the SES sender) is required to deploy`);
  const app = new App();
  new PoolgateStack(app, process.env.POOLGATE_STACK_NAME ?? 'Poolgate', {
    root,
    policyFile,
    auth: {
      issuer: policy.auth.issuer,
      audience: policy.auth.audience,
      // The OpenID Connect convention when the policy names no key set.
      jwksUri: policy.auth.jwksUri ?? new URL('.well-known/jwks.json', policy.auth.issuer.endsWith('/') ? policy.auth.issuer : `${policy.auth.issuer}/`).toString(),
    },
    mailFrom: policy.mail.from,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  app.synth();
} catch (error) {
  if (error instanceof PolicyError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
