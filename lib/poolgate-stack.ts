import { ArnFormat, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { HTTP_FUNCTIONS, type HttpFunctionId } from '../contracts/functions';
import { PoolgateApi } from './constructs/api';
import { PoolgateFunctions } from './constructs/functions';
import { PoolgateSecrets } from './constructs/secrets';
import { PoolgateTable } from './constructs/table';
import { PoolgateWorkflow } from './constructs/workflow';

export interface PoolgateStackProps extends StackProps {
  /** Repository root: handler entries are relative to it. */
  readonly root: string;
  /** The validated policy file, copied into every bundle. */
  readonly policyFile: string;
  /** The bearer tokens' issuer, audience and key set (from the policy file's `auth`). */
  readonly auth: { readonly issuer: string; readonly audience: string; readonly jwksUri: string };
  /** SES sender (policy `mail.from`); its identity must be verified in SES. */
  readonly mailFrom: string;
  /** Base of the links poolgate sends. @default the HTTP API's own URL */
  readonly publicBaseUrl?: string;
}

/**
 * poolgate on AWS: the table and secrets (kept on delete), the functions, the workflow and the API.
 * Dependencies run one way: functions know the state machine's ARN from its fixed name and the API's
 * URL from its id, so neither needs the function first.
 */
export class PoolgateStack extends Stack {
  constructor(scope: Construct, id: string, props: PoolgateStackProps) {
    super(scope, id, props);
    const table = new PoolgateTable(this, 'Data');
    const secrets = new PoolgateSecrets(this, 'Secrets');
    const api = new PoolgateApi(this, 'Api');
    const stateMachineName = `${this.stackName}-workflow`;
    const stateMachineArn = this.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const publicBaseUrl = props.publicBaseUrl ?? api.api.apiEndpoint;

    const functions = new PoolgateFunctions(this, 'Functions', {
      root: props.root,
      policyFile: props.policyFile,
      table: table.table,
      secrets,
      stateMachineArn,
      publicBaseUrl,
      auth: props.auth,
      mailFrom: props.mailFrom,
    });
    const workflow = new PoolgateWorkflow(this, 'Workflow', { stateMachineName, functions: functions.workflowFunctions() });
    api.addRoutes(Object.fromEntries(HTTP_FUNCTIONS.map((fid) => [fid, functions.byId[fid]])) as Record<HttpFunctionId, (typeof functions.byId)[HttpFunctionId]>);

    new CfnOutput(this, 'ApiUrl', { value: api.api.apiEndpoint });
    new CfnOutput(this, 'TableName', { value: table.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'SlackInteractivityUrl', { value: `${api.api.apiEndpoint}/slack/interactions` });
  }
}
