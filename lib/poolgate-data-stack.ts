import { CfnOutput, type CfnResource, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PoolgateSecrets } from './constructs/secrets';
import { PoolgateTable } from './constructs/table';

/**
 * What poolgate keeps: the table (every request, approval and quota counter: the audit trail) and
 * the secrets. A stack of its own, with termination protection, so the service stack beside it can
 * be rolled back, replaced or deleted without putting data at risk (docs/deploy.md, "Two stacks").
 * Each resource is also retained if this stack is ever deleted, and the table has deletion protection.
 */
export class PoolgateDataStack extends Stack {
  readonly table: PoolgateTable;
  readonly secrets: PoolgateSecrets;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'poolgate: data (the table and the secrets), retained',
      ...props,
      terminationProtection: true,
    });
    this.table = new PoolgateTable(this, 'Data');
    this.secrets = new PoolgateSecrets(this, 'Secrets');

    // Fixed logical ids: moving these constructs in a refactor must never make CloudFormation create
    // a new table or new secrets (and leave the retained ones behind).
    const pin = (resource: { node: { defaultChild?: unknown } }, logicalId: string) =>
      (resource.node.defaultChild as CfnResource).overrideLogicalId(logicalId);
    pin(this.table.table, 'Table');
    pin(this.secrets.linkKey, 'LinkSigningKey');
    pin(this.secrets.modelArtsCredentials, 'ModelArtsCredentials');
    pin(this.secrets.slackBotToken, 'SlackBotToken');
    pin(this.secrets.slackSigningSecret, 'SlackSigningSecret');

    new CfnOutput(this, 'TableName', {
      value: this.table.table.tableName,
      description: 'The DynamoDB table: requests, approvals, quotas',
    });
    new CfnOutput(this, 'ModelArtsCredentialsSecretArn', {
      value: this.secrets.modelArtsCredentials.secretArn,
      description: 'Put the Huawei AK/SK here: {"accessKey","secretKey"}',
    });
    new CfnOutput(this, 'SlackBotTokenSecretArn', {
      value: this.secrets.slackBotToken.secretArn,
      description: 'Put the Slack bot token (xoxb-...) here',
    });
    new CfnOutput(this, 'SlackSigningSecretArn', {
      value: this.secrets.slackSigningSecret.secretArn,
      description: "Put the Slack app's signing secret here",
    });
    new CfnOutput(this, 'LinkSigningKeySecretArn', {
      value: this.secrets.linkKey.secretArn,
      description: 'Generated: the key that signs approval links (rotating it invalidates every link sent)',
    });
  }
}
