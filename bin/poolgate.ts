/**
 * The CDK app. It validates the policy file first (the same loader the handlers use at cold start),
 * so a wrong file fails synth with the file, the field path and the rule, and then builds the two
 * stacks from it: `<name>Data` (table, secrets) and `<name>` (the service). cdk-nag's AwsSolutions
 * checks run as a synth-time validation: an unacknowledged finding fails synth.
 *
 *   POOLGATE_CONFIG                 the policy file (default: poolgate.config.json at the repository root)
 *   -c poolgate:stackName=...       the service stack's name; the data stack is `<name>Data` (default: Poolgate)
 *   -c poolgate:publicBaseUrl=...   base of the links sent, e.g. a custom domain (default: the API's URL)
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { join, resolve } from 'node:path';
import { ENV } from '../contracts/environment';
import { loadPolicyFile, modelArtsProjectSecretArns, PolicyError, type Policy } from '../lambdas/config/policy';
import { addPoolgate } from '../lib/poolgate-app';
import { REPOSITORY_ROOT } from '../lib/poolgate-stack';

const DEFAULT_STACK_NAME = 'Poolgate';

/** A wrong context value given on the command line. */
class UsageError extends Error {}

/** What the stack needs from the policy file; `auth` and `mail` are optional locally, required on AWS. */
function deploymentSettings(policy: Policy, policyFile: string) {
  const missing = [
    ...(policy.auth ? [] : ['auth: required to deploy (issuer and audience of the bearer tokens)']),
    ...(policy.mail ? [] : ['mail.from: required to deploy (the SES sender address)']),
  ];
  if (!policy.auth || !policy.mail) throw new PolicyError(`${policyFile} is invalid:\n  ${missing.join('\n  ')}`);
  const reconciliation = policy.quotaReconciliation;
  return {
    auth: policy.auth,
    mailFrom: policy.mail.from,
    alarmEmail: policy.alarms?.email,
    reconcileEverySeconds: reconciliation.enabled ? reconciliation.intervalSeconds : undefined,
    modelArtsProjectSecretArns: modelArtsProjectSecretArns(policy),
  };
}

function main(): void {
  const policyFile = resolve(process.env[ENV.policyFile] || join(REPOSITORY_ROOT, 'poolgate.config.json'));
  const { auth, mailFrom, alarmEmail, reconcileEverySeconds, modelArtsProjectSecretArns } = deploymentSettings(
    loadPolicyFile(policyFile),
    policyFile,
  );

  const app = new App();
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(`poolgate:${key}`);
    if (value !== undefined && typeof value !== 'string')
      throw new UsageError(`context poolgate:${key} must be a string`);
    return value;
  };
  addPoolgate(app, context('stackName') ?? DEFAULT_STACK_NAME, {
    description: 'poolgate: approval gate in front of Huawei Cloud ModelArts node-pool creation',
    policyFile,
    // jwksUri absent: the stack uses `<issuer>/.well-known/jwks.json` (PoolgateAuthProps.jwksUri).
    auth: {
      issuer: auth.issuer,
      audience: auth.audience,
      jwksUri: auth.jwksUri,
      algorithms: auth.algorithms,
      requireVerifiedEmail: auth.requireVerifiedEmail,
    },
    mailFrom,
    alarmEmail,
    reconcileEverySeconds,
    modelArtsProjectSecretArns,
    publicBaseUrl: context('publicBaseUrl'),
    // Environment-agnostic unless the CLI knows the account and region: synth needs no AWS access.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
}

try {
  main();
} catch (error) {
  // The operator's mistake to fix: the message says where, a stack trace would not help.
  if (!(error instanceof PolicyError || error instanceof UsageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
