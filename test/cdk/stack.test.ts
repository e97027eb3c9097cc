/**
 * The synthesized stack, asserted for intent (not a snapshot). Built once, with real bundling by
 * the local esbuild, as `npm run synth` does.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FUNCTION_ENTRIES, WORKFLOW_FUNCTIONS } from '../../contracts/functions';
import { ROUTES } from '../../contracts/routes';
import { TABLE_INDEXES } from '../../contracts/table';
import { FUNCTION_NEEDS } from '../../lib/constructs/functions';
import { PoolgateStack } from '../../lib/poolgate-stack';

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');
let template: Template;

type Resource = { Type: string; Properties: Record<string, unknown> };

beforeAll(() => {
  const app = new App();
  const stack = new PoolgateStack(app, 'PoolgateTest', {
    root: ROOT,
    policyFile: join(ROOT, 'poolgate.config.json'),
    auth: { issuer: 'https://login.example.com/', audience: 'poolgate', jwksUri: 'https://login.example.com/.well-known/jwks.json' },
    mailFrom: 'poolgate@example.com',
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  template = Template.fromStack(stack);
});

const resources = (type: string): Array<[string, Resource]> => Object.entries(template.findResources(type)) as Array<[string, Resource]>;
const functionIdOf = (logicalId: string) => Object.keys(FUNCTION_ENTRIES).find((id) => logicalId.startsWith(`Functions${id.charAt(0).toUpperCase()}${id.slice(1)}`) && !logicalId.includes('ServiceRole'));

describe('functions', () => {
  it('has one Node 22 arm64 function per handler, traced, with its log group', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions).toHaveLength(Object.keys(FUNCTION_ENTRIES).length);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, LoggingConfig: { LogGroup: expect.anything() } });
    }
    for (const [, group] of resources('AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).toEqual(expect.any(Number));
  });

  it('puts no secret value in any environment variable, only secret ARNs', () => {
    for (const [, fn] of resources('AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const [name, value] of Object.entries(variables)) {
        if (name.endsWith('_SECRET_ID')) expect(value).toEqual({ Ref: expect.stringMatching(/^Secrets/) });
        expect(JSON.stringify(value)).not.toMatch(/SecretString|xox[bp]-/);
      }
    }
  });
});

describe('HTTP API', () => {
  it('exposes exactly the routes of contracts/routes.ts, without an authorizer', () => {
    const routes = resources('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of routes) expect(route.AuthorizationType ?? 'NONE').toBe('NONE');
  });

  it('wires each route to its own function', () => {
    const integrations = Object.fromEntries(resources('AWS::ApiGatewayV2::Integration').map(([id, r]) => [id, JSON.stringify(r.Properties.IntegrationUri)]));
    for (const [, route] of resources('AWS::ApiGatewayV2::Route')) {
      const expected = ROUTES.find((r) => `${r.method} ${r.path}` === route.Properties.RouteKey)!.functionId;
      const integrationId = ((route.Properties.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1] as { Ref: string }).Ref;
      const target = integrations[integrationId];
      const fnLogicalId = /"(Functions[A-Za-z0-9]+)"/.exec(target)?.[1] ?? '';
      expect(functionIdOf(fnLogicalId)).toBe(expected);
    }
  });

  it('throttles the stage and logs access without query strings or headers', () => {
    const [, stage] = resources('AWS::ApiGatewayV2::Stage')[0];
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) });
    const format = String((stage.Properties.AccessLogSettings as { Format: string }).Format);
    expect(format).toContain('$context.path');
    expect(format).not.toMatch(/querystring|authorization|header/i);
  });
});

describe('workflow', () => {
  const definition = () => {
    const [, machine] = resources('AWS::StepFunctions::StateMachine')[0];
    const raw = JSON.stringify(machine.Properties.DefinitionString);
    return { machine, json: JSON.parse((machine.Properties.DefinitionString as string) ?? raw) as { States: Record<string, Record<string, unknown>> } };
  };

  it('is a Standard state machine, logged at ERROR without execution data, traced', () => {
    const { machine } = definition();
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
      DefinitionSubstitutions: Object.fromEntries(WORKFLOW_FUNCTIONS.map((id) => [id, expect.anything()])),
    });
  });

  it('waits for approval with a task token and a timeout, and every task has a timeout and a Retry', () => {
    const { json } = definition();
    expect(json.States.RequestApproval).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSecondsPath: expect.any(String) });
    for (const [name, state] of Object.entries(json.States)) {
      if (state.Type !== 'Task') continue;
      expect([name, state.TimeoutSeconds ?? state.TimeoutSecondsPath]).toEqual([name, expect.anything()]);
      expect([name, state.Retry]).toEqual([name, expect.arrayContaining([expect.objectContaining({ ErrorEquals: expect.any(Array) })])]);
    }
    expect(JSON.stringify(json)).not.toContain('JSONata');
  });
});

describe('permissions', () => {
  function statementsOf(functionId: string) {
    const roleIds = resources('AWS::Lambda::Function')
      .filter(([id]) => functionIdOf(id) === functionId)
      .map(([, fn]) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    return resources('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => roleIds.includes(r.Ref)))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement);
  }

  it('lets only the deciding functions answer task tokens, on this state machine only', () => {
    const answering = Object.keys(FUNCTION_ENTRIES).filter((id) => statementsOf(id).some((s) => [s.Action].flat().includes('states:SendTaskSuccess')));
    expect(answering.sort()).toEqual(Object.entries(FUNCTION_NEEDS).filter(([, needs]) => needs.includes('answerTasks')).map(([id]) => id).sort());
    for (const id of answering) {
      const statement = statementsOf(id).find((s) => [s.Action].flat().includes('states:SendTaskSuccess'))!;
      expect(JSON.stringify(statement.Resource)).toContain(':stateMachine:PoolgateTest-workflow');
      expect(statement.Resource).not.toBe('*');
    }
  });

  it('grants no wildcard resource on any Step Functions action', () => {
    for (const [, policy] of resources('AWS::IAM::Policy')) {
      for (const s of (policy.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement) {
        if ([s.Action].flat().some((a) => a.startsWith('states:'))) expect(s.Resource).not.toBe('*');
      }
    }
  });
});

describe('data', () => {
  it('keeps the table: on demand, PITR, deletion protection, encryption, TTL, retained, with the GSIs of contracts/table.ts', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAtEpoch', Enabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true }),
        Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
        GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => Match.objectLike({ IndexName: i.indexName })),
      }),
    });
  });

  it('keeps the secrets, and generates the link key', () => {
    expect(resources('AWS::SecretsManager::Secret')).toHaveLength(4);
    for (const [id] of resources('AWS::SecretsManager::Secret')) expect(template.toJSON().Resources[id].DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 64 }) });
  });
});

describe('the app', () => {
  it('fails synth with a message that names the field of an invalid policy file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'poolgate-policy-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ teams: [{ name: 'x', members: [{ email: 'not-an-email' }], stages: [], quotas: {} }] }));
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/poolgate.ts')], {
      cwd: ROOT,
      env: { ...process.env, POOLGATE_CONFIG: file, CDK_OUTDIR: dir },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('teams.0.members.0.email');
    expect(result.stderr).toContain('teams.0.stages');
  });
});
