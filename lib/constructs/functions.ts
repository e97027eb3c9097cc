import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { encodeJwtAlgorithms } from '../../contracts/auth';
import { ENV } from '../../contracts/environment';
import {
  FUNCTION_ENTRIES,
  HTTP_FUNCTIONS,
  SCHEDULED_FUNCTIONS,
  WORKFLOW_FUNCTIONS,
  type FunctionId,
  type HttpFunctionId,
  type WorkflowFunctionId,
} from '../../contracts/functions';
import { PoolgateFunction } from './poolgate-function';
import type { PoolgateSecrets } from './secrets';

/** Needs granted here: each grants exactly what it names and sets the variables that go with it. */
type ResourceNeed =
  | 'table'
  | 'auth' // verifies bearer tokens: issuer, audience, JWKS, algorithms, email_verified
  | 'links' // builds or checks links: the public base URL and the link key
  | 'notify' // e-mail (SES) and Slack
  | 'slackSignature'
  | 'modelArts';

/** Needs about the state machine, granted by PoolgateWorkflow (it owns the state machine and its ARN). */
const WORKFLOW_NEEDS = ['startExecution', 'answerTasks', 'stopExecution'] as const;
export type WorkflowNeed = (typeof WORKFLOW_NEEDS)[number];

/** What a function needs besides its code. */
export type Need = ResourceNeed | WorkflowNeed;

const isWorkflowNeed = (need: Need): need is WorkflowNeed => (WORKFLOW_NEEDS as readonly Need[]).includes(need);

/** The least each function needs, read as the function's intent. */
export const FUNCTION_NEEDS: Record<FunctionId, readonly Need[]> = {
  health: [],
  // dryRun=true reads ModelArts (capacity) without recording anything.
  submit: ['table', 'auth', 'startExecution', 'modelArts'],
  // The view links the request's signed page.
  getRequest: ['table', 'auth', 'links'],
  // List cursors are signed with the link key.
  listRequests: ['table', 'auth', 'links'],
  requestPage: ['table', 'links'],
  openapi: [],
  cancelRequest: ['table', 'auth', 'links', 'notify', 'stopExecution'],
  // DELETE of a node pool: reads its record, stores the delete request, starts its run.
  deleteNodePool: ['table', 'auth', 'startExecution'],
  // PATCH of a node pool (scale, update): reads its record and ModelArts' current spec (the patch is merged
  // onto it and validated), stores the scale request, starts its run.
  patchNodePool: ['table', 'auth', 'startExecution', 'modelArts'],
  // ModelArts-shaped reads of the node pools a caller may read: their records, then ModelArts.
  readNodePools: ['table', 'auth', 'modelArts'],
  // poolgate's inventory; list cursors are signed with the link key.
  nodePoolInventory: ['table', 'auth', 'links'],
  // Starts the retried run `<id>-retry-<n>` of a FAILED request.
  retryRequest: ['table', 'auth', 'startExecution'],
  // A lease extension: bearer token, or a reminder's signed link (the link key); stores it and starts its run.
  extendLease: ['table', 'auth', 'links', 'startExecution'],
  approvals: ['table', 'links', 'notify', 'answerTasks'],
  slackInteractions: ['table', 'links', 'notify', 'slackSignature', 'answerTasks'],
  checkRequest: ['table', 'modelArts'],
  // Answers its own task token when the stage was decided before it ran (a reminder re-entering it).
  requestApproval: ['table', 'links', 'notify', 'answerTasks'],
  approvalTimedOut: ['table', 'links', 'notify'],
  createNodePool: ['table', 'links', 'modelArts'],
  // A change to an existing node pool (delete): shows it, then asks ModelArts for the change.
  applyChange: ['table', 'modelArts'],
  checkNodes: ['table', 'modelArts'],
  finalize: ['table', 'links', 'notify'],
  // Lists node pools in ModelArts and corrects the quota counters (scheduled); mails an unapproved change
  // to the team's approvers and the admins, linking the request's signed page.
  reconcileQuota: ['table', 'links', 'notify', 'modelArts'],
  // Starts the execution of a request whose own start failed (scheduled).
  sweepSubmitted: ['table', 'startExecution'],
  // Lease events (scheduled): reminders (mail, Slack, signed links), waiting requests cancelled (their runs
  // stopped), deletions submitted. No ModelArts access: the delete's own run checks and deletes.
  sweepLeases: ['table', 'links', 'notify', 'startExecution', 'stopExecution'],
};

/** How bearer tokens are verified (the policy file's `auth`, with the key set resolved). */
export interface JwtVerification {
  /** Expected `iss` claim. */
  readonly issuer: string;
  /** Expected `aud` claim. */
  readonly audience: string;
  /** Where the issuer's signing keys are published. */
  readonly jwksUri: string;
  /** The JWS algorithms a token may be signed with. */
  readonly algorithms: readonly string[];
  /** Refuse tokens without an `email_verified` claim. */
  readonly requireVerifiedEmail: boolean;
}

export interface PoolgateFunctionsProps {
  /** Directory the entry files of contracts/functions.ts are relative to; it holds `package-lock.json`. */
  readonly handlersRoot: string;
  /** The validated policy file (absolute), copied into every bundle. */
  readonly policyFile: string;
  readonly table: ITableV2;
  readonly secrets: PoolgateSecrets;
  /** Base URL of the links poolgate sends (no trailing slash). */
  readonly publicBaseUrl: string;
  readonly auth: JwtVerification;
  /** The SES sender; its identity (the address or its domain) must be verified in SES. */
  readonly mailFrom: string;
  /** @default - the house default of PoolgateFunction */
  readonly logRetention?: RetentionDays;
  /** Secrets with the AK/SK of particular ModelArts projects (policy `modelArts.projects`), read by the ModelArts functions. */
  readonly modelArtsProjectSecretArns?: readonly string[];
}

/**
 * HTTP handlers answer within API Gateway's 30 s integration limit (a ModelArts call gives up after
 * 10 s, the SDKs retry within that budget).
 */
const HTTP_TIMEOUT = Duration.seconds(20);
/**
 * Below the 60 s TimeoutSeconds of every Lambda task in lib/workflow-definition.ts, so a slow handler
 * ends as a Lambda error (with its message, retried or caught) rather than as a bare States.Timeout.
 */
const WORKFLOW_TIMEOUT = Duration.seconds(45);
/** A reconciliation lists every pool with a counted request: minutes, not seconds, at scale. */
const SCHEDULED_TIMEOUT = Duration.minutes(5);

/**
 * One PoolgateFunction per entry of contracts/functions.ts. What differs between functions is data
 * (entry, timeout by kind, FUNCTION_NEEDS), never a copied props block. Needs about the table,
 * secrets, identity and mail are granted here; the Step Functions ones by PoolgateWorkflow.
 */
export class PoolgateFunctions extends Construct {
  readonly byId: Readonly<Record<FunctionId, PoolgateFunction>>;

  constructor(scope: Construct, id: string, props: PoolgateFunctionsProps) {
    super(scope, id);
    const grant = this.grants(props);
    const workflowIds: readonly FunctionId[] = WORKFLOW_FUNCTIONS;
    const scheduledIds: readonly FunctionId[] = SCHEDULED_FUNCTIONS;
    const byId: Partial<Record<FunctionId, PoolgateFunction>> = {};
    for (const functionId of Object.keys(FUNCTION_ENTRIES) as FunctionId[]) {
      const fn = new PoolgateFunction(this, pascal(functionId), {
        projectRoot: props.handlersRoot,
        entry: FUNCTION_ENTRIES[functionId],
        policyFile: props.policyFile,
        description: `poolgate ${functionId}`,
        timeout: workflowIds.includes(functionId)
          ? WORKFLOW_TIMEOUT
          : scheduledIds.includes(functionId)
            ? SCHEDULED_TIMEOUT
            : HTTP_TIMEOUT,
        logRetention: props.logRetention,
      });
      for (const need of FUNCTION_NEEDS[functionId]) if (!isWorkflowNeed(need)) grant[need](fn);
      byId[functionId] = fn;
    }
    this.byId = byId as Record<FunctionId, PoolgateFunction>;
  }

  /** The functions with `need`, in the order of contracts/functions.ts (the stack wires the workflow needs with it). */
  withNeed(need: Need): PoolgateFunction[] {
    return (Object.keys(FUNCTION_ENTRIES) as FunctionId[])
      .filter((fid) => FUNCTION_NEEDS[fid].includes(need))
      .map((fid) => this.byId[fid]);
  }

  /** The state machine's tasks. */
  get workflowFunctions(): Readonly<Record<WorkflowFunctionId, PoolgateFunction>> {
    return pick(this.byId, WORKFLOW_FUNCTIONS);
  }

  /** The API's integrations. */
  get httpFunctions(): Readonly<Record<HttpFunctionId, PoolgateFunction>> {
    return pick(this.byId, HTTP_FUNCTIONS);
  }

  private grants(props: PoolgateFunctionsProps): Record<ResourceNeed, (fn: PoolgateFunction) => void> {
    const stack = Stack.of(this);
    const [, domain] = props.mailFrom.split('@');
    // SES authorizes SendEmail against the identity that is verified: the address or its domain.
    const sesIdentities = [props.mailFrom, domain].map((identity) =>
      stack.formatArn({
        service: 'ses',
        resource: 'identity',
        resourceName: identity,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    );
    const projectSecrets = (props.modelArtsProjectSecretArns ?? []).map((arn, i) =>
      Secret.fromSecretCompleteArn(this, `ModelArtsProjectSecret${i}`, arn),
    );
    const sendMail = new PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: sesIdentities,
      // A domain identity would allow any sender of the domain; only poolgate's address may be used.
      conditions: { StringEquals: { 'ses:FromAddress': props.mailFrom } },
    });
    return {
      table: (fn) => fn.bindTable(props.table),
      auth: (fn) => {
        fn.addEnvironment(ENV.jwtIssuer, props.auth.issuer);
        fn.addEnvironment(ENV.jwtAudience, props.auth.audience);
        fn.addEnvironment(ENV.jwksUri, props.auth.jwksUri);
        fn.addEnvironment(ENV.jwtAlgorithms, encodeJwtAlgorithms(props.auth.algorithms));
        fn.addEnvironment(ENV.jwtRequireVerifiedEmail, String(props.auth.requireVerifiedEmail));
      },
      links: (fn) => {
        fn.bindSecret(props.secrets.linkKey, ENV.linkKeySecretId);
        fn.addEnvironment(ENV.publicBaseUrl, props.publicBaseUrl);
      },
      notify: (fn) => {
        fn.addEnvironment(ENV.mailFrom, props.mailFrom);
        fn.addToRolePolicy(sendMail);
        fn.bindSecret(props.secrets.slackBotToken, ENV.slackBotTokenSecretId);
      },
      slackSignature: (fn) => fn.bindSecret(props.secrets.slackSigningSecret, ENV.slackSigningSecretId),
      modelArts: (fn) => {
        fn.bindSecret(props.secrets.modelArtsCredentials, ENV.modelArtsCredentialsSecretId);
        // The policy file names them per project; the handlers read the ARN from the bundled policy.
        for (const secret of projectSecrets) secret.grantRead(fn);
      },
    };
  }
}

function pick<K extends FunctionId>(
  all: Readonly<Record<FunctionId, PoolgateFunction>>,
  ids: readonly K[],
): Record<K, PoolgateFunction> {
  return Object.fromEntries(ids.map((fid) => [fid, all[fid]])) as Record<K, PoolgateFunction>;
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
