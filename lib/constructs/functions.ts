import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { ENV } from '../../contracts/environment';
import { FUNCTION_ENTRIES, WORKFLOW_FUNCTIONS, type FunctionId, type WorkflowFunctionId } from '../../contracts/functions';
import type { PoolgateSecrets } from './secrets';
import { PoolgateFunction } from './poolgate-function';

/** What a function needs besides its code; each need grants exactly what it names. */
type Need =
  | 'table'
  | 'auth' // verifies bearer tokens: issuer, audience, JWKS
  | 'links' // builds or checks links: the public base URL and the link key
  | 'notify' // e-mail (SES) and Slack
  | 'slackSignature'
  | 'modelArts'
  | 'startExecution'
  | 'answerTasks'
  | 'stopExecution';

/** The least each function needs, read as the function's intent. */
export const FUNCTION_NEEDS: Record<FunctionId, readonly Need[]> = {
  health: [],
  submit: ['table', 'auth', 'startExecution'],
  getRequest: ['table', 'auth'],
  cancelRequest: ['table', 'auth', 'links', 'notify', 'stopExecution'],
  approvals: ['table', 'links', 'notify', 'answerTasks'],
  slackInteractions: ['table', 'links', 'notify', 'slackSignature', 'answerTasks'],
  checkRequest: ['table', 'modelArts'],
  requestApproval: ['table', 'links', 'notify', 'answerTasks'],
  approvalTimedOut: ['table', 'links', 'notify'],
  createNodePool: ['table', 'links', 'modelArts'],
  checkNodes: ['table', 'modelArts'],
  finalize: ['table', 'links', 'notify'],
};

export interface PoolgateFunctionsProps {
  /** Repository root (entries in contracts/functions.ts are relative to it). */
  readonly root: string;
  readonly policyFile: string;
  readonly table: ITableV2;
  readonly secrets: PoolgateSecrets;
  /** ARN of the state machine (known before it exists: its name is fixed). */
  readonly stateMachineArn: string;
  readonly publicBaseUrl: string;
  readonly auth: { readonly issuer: string; readonly audience: string; readonly jwksUri: string };
  /** The SES identity e-mails are sent from. */
  readonly mailFrom: string;
}

export class PoolgateFunctions extends Construct {
  readonly byId: Record<FunctionId, PoolgateFunction>;

  constructor(scope: Construct, id: string, props: PoolgateFunctionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const executionArns = Arn.format(
      { service: 'states', resource: 'execution', resourceName: `${Arn.split(props.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
      stack,
    );
    const sesIdentity = stack.formatArn({ service: 'ses', resource: 'identity', resourceName: props.mailFrom.split('@')[1], arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const sesAddress = stack.formatArn({ service: 'ses', resource: 'identity', resourceName: props.mailFrom, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    const grant: Record<Need, (fn: PoolgateFunction) => void> = {
      table: (fn) => fn.bindTable(props.table),
      auth: (fn) => {
        fn.addEnvironment(ENV.jwtIssuer, props.auth.issuer);
        fn.addEnvironment(ENV.jwtAudience, props.auth.audience);
        fn.addEnvironment(ENV.jwksUri, props.auth.jwksUri);
      },
      links: (fn) => {
        fn.bindSecret(props.secrets.linkKey, ENV.linkKeySecretId);
        fn.addEnvironment(ENV.publicBaseUrl, props.publicBaseUrl);
      },
      notify: (fn) => {
        fn.addEnvironment(ENV.mailFrom, props.mailFrom);
        fn.addToRolePolicy(new PolicyStatement({ actions: ['ses:SendEmail'], resources: [sesIdentity, sesAddress] }));
        fn.bindSecret(props.secrets.slackBotToken, ENV.slackBotTokenSecretId);
      },
      slackSignature: (fn) => fn.bindSecret(props.secrets.slackSigningSecret, ENV.slackSigningSecretId),
      modelArts: (fn) => fn.bindSecret(props.secrets.modelArtsCredentials, ENV.modelArtsCredentialsSecretId),
      startExecution: (fn) => fn.addToRolePolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [props.stateMachineArn] })),
      answerTasks: (fn) =>
        fn.addToRolePolicy(new PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [props.stateMachineArn] })),
      stopExecution: (fn) => fn.addToRolePolicy(new PolicyStatement({ actions: ['states:StopExecution'], resources: [executionArns] })),
    };

    const workflowFunctions: readonly string[] = WORKFLOW_FUNCTIONS;
    this.byId = Object.fromEntries(
      (Object.keys(FUNCTION_ENTRIES) as FunctionId[]).map((functionId) => {
        const fn = new PoolgateFunction(this, pascal(functionId), {
          entry: join(props.root, FUNCTION_ENTRIES[functionId]),
          policyFile: props.policyFile,
          // Workflow tasks time out after 60 s in the definition; HTTP handlers answer within API Gateway's 30 s.
          timeout: Duration.seconds(workflowFunctions.includes(functionId) ? 60 : 15),
          environment: { [ENV.stateMachineArn]: props.stateMachineArn },
        });
        for (const need of FUNCTION_NEEDS[functionId]) grant[need](fn);
        return [functionId, fn];
      }),
    ) as Record<FunctionId, PoolgateFunction>;
  }

  workflowFunctions(): Record<WorkflowFunctionId, PoolgateFunction> {
    return Object.fromEntries(WORKFLOW_FUNCTIONS.map((id) => [id, this.byId[id]])) as Record<WorkflowFunctionId, PoolgateFunction>;
  }
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
