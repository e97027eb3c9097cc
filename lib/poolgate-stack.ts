import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_JWT_ALGORITHMS, isJwtAlgorithm, JWT_ALGORITHMS } from '../contracts/auth';
import { FUNCTION_ENTRIES, SWEEP_LEASES_EVERY_SECONDS, SWEEP_SUBMITTED_EVERY_SECONDS } from '../contracts/functions';
import { PoolgateAlarms } from './constructs/alarms';
import { PoolgateApi } from './constructs/api';
import { PoolgateFunctions } from './constructs/functions';
import { PoolgateSchedule } from './constructs/schedule';
import { LOCK_FILE, metricsNamespace } from './constructs/poolgate-function';
import type { PoolgateSecrets } from './constructs/secrets';
import { PoolgateWorkflow } from './constructs/workflow';

/** The repository root: contracts/functions.ts lists the handler entries relative to it. */
export const REPOSITORY_ROOT = resolve(__dirname, '..');

/** Bearer-token verification, as in the policy file's `auth` block. */
export interface PoolgateAuthProps {
  /** Expected `iss` claim; an https URL. */
  readonly issuer: string;
  /** Expected `aud` claim. */
  readonly audience: string;
  /**
   * Where the issuer publishes its signing keys; an https URL.
   * @default `<issuer>/.well-known/jwks.json` (the issuer with one trailing slash, then `.well-known/jwks.json`),
   *   the OpenID Connect convention used by Cognito, Auth0, Okta and Keycloak
   */
  readonly jwksUri?: string;
  /**
   * The JWS algorithms a token may be signed with, whatever the key set allows; asymmetric ones
   * (contracts/auth.ts).
   * @default ['ES256', 'RS256']
   */
  readonly algorithms?: readonly string[];
  /**
   * Refuse tokens without an `email_verified` claim (a token saying `false` is always refused).
   * @default false
   */
  readonly requireVerifiedEmail?: boolean;
}

export interface PoolgateStackProps extends StackProps {
  /** The table, from PoolgateDataStack. */
  readonly table: ITableV2;
  /** The secrets, from PoolgateDataStack. */
  readonly secrets: PoolgateSecrets;
  /** The policy file, already validated (bin/ does it with lambdas/config/policy.ts); absolute path. */
  readonly policyFile: string;
  readonly auth: PoolgateAuthProps;
  /** The SES sender address (policy `mail.from`); the address or its domain must be verified in SES. */
  readonly mailFrom: string;
  /**
   * Base of the links poolgate sends (approval links, request pages), e.g. a custom domain in front of
   * the API; an https URL without query or fragment.
   * @default - the HTTP API's own URL
   */
  readonly publicBaseUrl?: string;
  /**
   * Directory the entry files of contracts/functions.ts are resolved against; it must hold
   * `package-lock.json`. Tests point it at a directory of stub handlers to bundle in a moment.
   * @default REPOSITORY_ROOT
   */
  readonly handlersRoot?: string;
  /** Stage throttling of the HTTP API. @default - PoolgateApi's default, 50 requests/s, bursts of 100 */
  readonly throttle?: ThrottleSettings;
  /** Retention of the functions' log groups. @default - PoolgateFunction's default, one month */
  readonly functionLogRetention?: RetentionDays;
  /** Subscribed to the alarm topic (policy file `alarms.email`). @default - no subscription */
  readonly alarmEmail?: string;
  /**
   * How often the quota reconciliation runs (policy `quotaReconciliation`), rounded up to whole minutes.
   * @default - never (no schedule)
   */
  readonly reconcileEverySeconds?: number;
  /** Complete ARNs of the per-project ModelArts credential secrets (policy `modelArts.projects`). @default - none */
  readonly modelArtsProjectSecretArns?: readonly string[];
}

/** The OpenID Connect location of an issuer's key set. */
export function defaultJwksUri(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

/**
 * poolgate's service on AWS: the functions, the workflow, the API and the alarms. It holds no data:
 * the table and the secrets come from PoolgateDataStack, so this stack can be rolled back, replaced
 * or deleted without putting them at risk (docs/deploy.md, "Two stacks").
 * Dependencies run one way, so CloudFormation can order them:
 *   API (id only) <- functions (PUBLIC_BASE_URL from the API id) <- routes;
 *   functions <- state machine (task ARNs); grants and STATE_MACHINE_ARN use the ARN built from the
 *   state machine's fixed name, not a reference to it (see PoolgateWorkflow).
 */
export class PoolgateStack extends Stack {
  readonly api: PoolgateApi;
  readonly functions: PoolgateFunctions;
  readonly workflow: PoolgateWorkflow;
  readonly alarms: PoolgateAlarms;

  constructor(scope: Construct, id: string, props: PoolgateStackProps) {
    super(scope, id, props);
    const settings = validate(id, props);

    this.api = new PoolgateApi(this, 'Api', { throttle: props.throttle });
    this.functions = new PoolgateFunctions(this, 'Functions', {
      handlersRoot: settings.handlersRoot,
      policyFile: props.policyFile,
      table: props.table,
      secrets: props.secrets,
      publicBaseUrl: settings.publicBaseUrl ?? this.api.url,
      auth: {
        issuer: props.auth.issuer,
        audience: props.auth.audience,
        jwksUri: settings.jwksUri,
        algorithms: settings.algorithms,
        requireVerifiedEmail: props.auth.requireVerifiedEmail ?? false,
      },
      mailFrom: props.mailFrom,
      logRetention: props.functionLogRetention,
      modelArtsProjectSecretArns: props.modelArtsProjectSecretArns,
    });
    this.workflow = new PoolgateWorkflow(this, 'Workflow', {
      // Fixed and derived from the stack name: one state machine per stack, ARN known in advance.
      stateMachineName: `${this.stackName}-workflow`,
      functions: this.functions.workflowFunctions,
    });
    for (const fn of this.functions.withNeed('startExecution')) this.workflow.grantStartExecution(fn);
    for (const fn of this.functions.withNeed('answerTasks')) this.workflow.grantTaskResponse(fn);
    for (const fn of this.functions.withNeed('stopExecution')) this.workflow.grantStopExecution(fn);
    this.api.addRoutes(this.functions.httpFunctions);
    new PoolgateSchedule(this, 'SubmittedSweep', {
      fn: this.functions.byId.sweepSubmitted,
      everySeconds: SWEEP_SUBMITTED_EVERY_SECONDS,
      description: 'poolgate: start the execution of any request left SUBMITTED for more than a minute',
    });
    new PoolgateSchedule(this, 'LeaseSweep', {
      fn: this.functions.byId.sweepLeases,
      everySeconds: SWEEP_LEASES_EVERY_SECONDS,
      description: 'poolgate: lease reminders, and the deletion of node pools whose lease ran out',
    });
    if (props.reconcileEverySeconds !== undefined) {
      new PoolgateSchedule(this, 'QuotaReconciliation', {
        fn: this.functions.byId.reconcileQuota,
        everySeconds: props.reconcileEverySeconds,
        description: 'poolgate: recompute team quotas from the node pools in ModelArts',
      });
    }
    this.alarms = new PoolgateAlarms(this, 'Alarms', {
      functions: this.functions.byId,
      stateMachine: this.workflow.stateMachine,
      api: this.api.httpApi,
      metricsNamespace: metricsNamespace(this),
      email: props.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the poolgate API', value: this.api.url });
    new CfnOutput(this, 'TableName', { value: props.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'SlackInteractivityUrl', {
      description: 'Request URL of the Slack app interactivity',
      value: `${this.api.url}/slack/interactions`,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Every alarm, and its return to OK, is published here',
      value: this.alarms.topic.topicArn,
    });
  }
}

interface Settings {
  readonly handlersRoot: string;
  readonly jwksUri: string;
  readonly algorithms: readonly string[];
  readonly publicBaseUrl?: string;
}

/** Checks every input before any construct is made, so a mistake reads as one clear sentence. */
function validate(id: string, props: PoolgateStackProps): Settings {
  const problems: string[] = [];
  const httpsUrl = (field: string, value: string): URL | undefined => {
    try {
      const url = new URL(value);
      if (url.protocol === 'https:') return url;
      problems.push(`${field} must be an https URL, got ${value}`);
    } catch {
      problems.push(`${field} is not a URL: ${value}`);
    }
    return undefined;
  };

  httpsUrl('auth.issuer', props.auth.issuer);
  if (props.auth.audience.trim() === '') problems.push('auth.audience must not be empty');
  const jwksUri = props.auth.jwksUri ?? defaultJwksUri(props.auth.issuer);
  httpsUrl('auth.jwksUri', jwksUri);
  const algorithms = props.auth.algorithms ?? DEFAULT_JWT_ALGORITHMS;
  if (algorithms.length === 0) problems.push('auth.algorithms must name at least one algorithm');
  const unknown = algorithms.filter((a) => !isJwtAlgorithm(a));
  if (unknown.length > 0)
    problems.push(`auth.algorithms must be among ${JWT_ALGORITHMS.join(', ')}, got ${unknown.join(', ')}`);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.mailFrom))
    problems.push(`mailFrom must be an e-mail address, got ${props.mailFrom}`);
  let publicBaseUrl: string | undefined;
  if (props.publicBaseUrl !== undefined) {
    const url = httpsUrl('publicBaseUrl', props.publicBaseUrl);
    if (url && (url.search || url.hash))
      problems.push(`publicBaseUrl must have no query or fragment, got ${props.publicBaseUrl}`);
    publicBaseUrl = props.publicBaseUrl.replace(/\/+$/, '');
  }
  if (!isAbsolute(props.policyFile) || !existsSync(props.policyFile))
    problems.push(`policyFile must be an existing file given by an absolute path, got ${props.policyFile}`);
  const handlersRoot = resolve(props.handlersRoot ?? REPOSITORY_ROOT);
  if (!existsSync(join(handlersRoot, LOCK_FILE))) problems.push(`handlersRoot ${handlersRoot} has no ${LOCK_FILE}`);
  const missing = Object.values(FUNCTION_ENTRIES).filter((entry) => !existsSync(join(handlersRoot, entry)));
  if (missing.length > 0) problems.push(`handler entries missing under ${handlersRoot}: ${missing.join(', ')}`);

  if (problems.length > 0) throw new Error(`PoolgateStack ${id}: invalid props:\n  ${problems.join('\n  ')}`);
  return { handlersRoot, jwksUri, algorithms, publicBaseUrl };
}
