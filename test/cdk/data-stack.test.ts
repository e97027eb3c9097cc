/**
 * The data stack: the table and the secrets, and only them, kept whatever happens to the stacks;
 * and how the service stack reads them.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TABLE_INDEXES, TABLE_KEYS, TABLE_TTL_ATTRIBUTE } from '../../contracts/table';
import { type CfnResource, synthesizePoolgate, type SynthesizedPoolgate } from './support';

jest.setTimeout(60_000);

let synth: SynthesizedPoolgate;
beforeAll(() => {
  synth = synthesizePoolgate({ cfnValidation: false });
});
afterAll(() => synth.cleanUp());

const resources = (type: string) =>
  Object.entries(synth.dataTemplate.findResources(type)) as Array<[string, CfnResource]>;
const manifest = () =>
  JSON.parse(readFileSync(join(synth.app.outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<
      string,
      { type: string; properties?: { terminationProtection?: boolean }; dependencies?: string[] }
    >;
  };

describe('the stack', () => {
  it('holds the table and the four secrets, nothing else, under termination protection', () => {
    const types = Object.values(synth.dataTemplate.toJSON().Resources as Record<string, CfnResource>).map(
      (r) => r.Type,
    );
    expect(types.sort()).toEqual(['AWS::DynamoDB::GlobalTable', ...Array(4).fill('AWS::SecretsManager::Secret')]);
    expect(manifest().artifacts[synth.data.artifactId].properties?.terminationProtection).toBe(true);
    expect(manifest().artifacts[synth.service.artifactId].properties?.terminationProtection ?? false).toBe(false);
  });

  it('keeps every resource if the stack is deleted or a resource replaced', () => {
    for (const [id, resource] of Object.entries(synth.dataTemplate.toJSON().Resources as Record<string, CfnResource>)) {
      expect([id, resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
    }
  });

  it('pins the logical ids, so that moving a construct never creates a new table or new secrets', () => {
    expect(resources('AWS::DynamoDB::GlobalTable').map(([id]) => id)).toEqual(['Table']);
    expect(
      resources('AWS::SecretsManager::Secret')
        .map(([id]) => id)
        .sort(),
    ).toEqual(['LinkSigningKey', 'ModelArtsCredentials', 'SlackBotToken', 'SlackSigningSecret']);
  });

  it('is deployed before the service, which reads its outputs when it deploys (no export to lock it)', () => {
    expect(manifest().artifacts[synth.service.artifactId].dependencies).toContain(synth.data.artifactId);
    const service = JSON.stringify(synth.serviceTemplate.toJSON());
    expect(service).not.toContain('Fn::ImportValue');
    expect(service).toContain(`"Fn::GetStackOutput":{"StackName":"${synth.data.stackName}"`);
  });

  it('outputs the table name and the ARN (never the value) of each secret the operator fills in', () => {
    const outputs = synth.dataTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.TableName.Value).toEqual({ Ref: 'Table' });
    for (const [output, secret] of [
      ['ModelArtsCredentialsSecretArn', 'ModelArtsCredentials'],
      ['SlackBotTokenSecretArn', 'SlackBotToken'],
      ['SlackSigningSecretArn', 'SlackSigningSecret'],
      ['LinkSigningKeySecretArn', 'LinkSigningKey'],
    ]) {
      expect([output, outputs[output]?.Value]).toEqual([output, { Ref: secret }]);
    }
  });
});

describe('the table', () => {
  it('has four indexes: requests by team, requester and status, and the sparse index of the next lease event', () => {
    expect(TABLE_INDEXES.map((i) => [i.indexName, i.partitionKey, i.sortKey])).toEqual([
      ['byTeam', 'gsiTeam', 'createdAt'],
      ['byRequester', 'gsiRequester', 'createdAt'],
      ['byStatus', 'gsiStatus', 'createdAt'],
      ['byLease', 'gsiLease', 'leaseNextAt'],
    ]);
  });

  it('is on demand, with PITR, deletion protection, encryption, TTL, and the keys and GSIs of contracts/table.ts', () => {
    synth.dataTemplate.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: TABLE_TTL_ATTRIBUTE, Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: true,
          }),
        ],
        GlobalSecondaryIndexes: TABLE_INDEXES.map((i) =>
          Match.objectLike({
            IndexName: i.indexName,
            KeySchema: [
              { AttributeName: i.partitionKey, KeyType: 'HASH' },
              { AttributeName: i.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ),
      }),
    });
  });
});

describe('the secrets', () => {
  it('generates the link key, shapes the ModelArts credentials for the operator, and holds no value in the template', () => {
    const secret = (id: string) => synth.dataTemplate.toJSON().Resources[id] as CfnResource;
    expect(secret('LinkSigningKey').Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64 });
    expect(secret('ModelArtsCredentials').Properties.GenerateSecretString).toMatchObject({
      SecretStringTemplate: '{"accessKey":""}',
      GenerateStringKey: 'secretKey',
    });
    for (const [id, s] of resources('AWS::SecretsManager::Secret'))
      expect([id, s.Properties.SecretString]).toEqual([id, undefined]);
  });
});
