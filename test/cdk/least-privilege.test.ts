/**
 * Least privilege and the public surface, across the service stack: what each role may do, on
 * which resources, and what can reach the functions from outside.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTION_ENTRIES, SCHEDULED_FUNCTIONS, type FunctionId } from '../../contracts/functions';
import { ROUTES } from '../../contracts/routes';
import { ROUTE_PROOFS } from '../../lib/constructs/api';
import { FUNCTION_NEEDS } from '../../lib/constructs/functions';
import { TABLE_DATA_ACTIONS } from '../../lib/constructs/poolgate-function';
import {
  actionsOf,
  type CfnResource,
  logicalIdOf,
  resourcesOf,
  ROOT,
  type Statement,
  synthesizePoolgate,
  type SynthesizedPoolgate,
} from './support';

jest.setTimeout(60_000);

let synth: SynthesizedPoolgate;
beforeAll(() => {
  synth = synthesizePoolgate({ cfnValidation: false });
});
afterAll(() => synth.cleanUp());

const ALL_FUNCTIONS = Object.keys(FUNCTION_ENTRIES) as FunctionId[];
const resources = (type: string) =>
  Object.entries(synth.serviceTemplate.findResources(type)) as Array<[string, CfnResource]>;
const logicalId = (token: string) => logicalIdOf(synth.service, token);
const lambda = (fid: FunctionId) =>
  synth.serviceTemplate.toJSON().Resources[logicalId(synth.service.functions.byId[fid].functionArn)] as CfnResource;
const statementsOfRole = (roleId: string): Statement[] =>
  resources('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const statementsOf = (fid: FunctionId) => statementsOfRole(logicalId(synth.service.functions.byId[fid].role!.roleArn));
const needs = (fid: FunctionId) => FUNCTION_NEEDS[fid] as readonly string[];

describe('function roles', () => {
  it('use no managed policy (no AWSLambdaBasicExecutionRole), and write logs only to their own log group', () => {
    for (const [id, role] of resources('AWS::IAM::Role'))
      expect([id, role.Properties.ManagedPolicyArns]).toEqual([id, undefined]);
    for (const fid of ALL_FUNCTIONS) {
      const logs = statementsOf(fid).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      const ownGroup = (lambda(fid).Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect([fid, logs]).toEqual([
        fid,
        [
          expect.objectContaining({
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [ownGroup, 'Arn'] },
          }),
        ],
      ]);
    }
  });

  it('have no wildcard resource but X-Ray (which has no resource-level permissions)', () => {
    for (const fid of ALL_FUNCTIONS) {
      for (const s of statementsOf(fid)) {
        if (resourcesOf(s).includes('*'))
          expect([fid, actionsOf(s).sort()]).toEqual([fid, ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']]);
      }
    }
  });

  it('grant every table call the adapters make, item calls only, on the table and its named indexes', () => {
    const adapters = join(ROOT, 'lambdas/adapters/dynamodb');
    const commands = new Set(
      readdirSync(adapters).flatMap((f) =>
        [...readFileSync(join(adapters, f), 'utf8').matchAll(/new (\w+)Command\(/g)].map((m) => m[1]),
      ),
    );
    const actionOf: Record<string, string> = {
      Get: 'GetItem',
      BatchGet: 'BatchGetItem',
      Query: 'Query',
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
    };
    // A missing grant fails only on AWS, never locally: every command the adapters send must be granted ...
    const needed = [...commands].map(
      (c) => `dynamodb:${actionOf[c] ?? `${c} (not mapped: map it to its action and grant it)`}`,
    );
    expect([...TABLE_DATA_ACTIONS]).toEqual(expect.arrayContaining(needed));
    // ... and nothing beyond single items and queries: no Scan, BatchWrite, PartiQL or table management.
    for (const action of TABLE_DATA_ACTIONS) expect(Object.values(actionOf)).toContain(action.replace('dynamodb:', ''));

    for (const fid of ALL_FUNCTIONS) {
      const dynamo = statementsOf(fid).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      if (!needs(fid).includes('table')) {
        expect([fid, dynamo]).toEqual([fid, []]);
        continue;
      }
      expect([fid, dynamo.length, actionsOf(dynamo[0]).sort()]).toEqual([fid, 1, [...TABLE_DATA_ACTIONS].sort()]);
      expect(JSON.stringify(dynamo[0].Resource)).not.toContain('*');
    }
  });

  it('read only the secrets their needs name', () => {
    const secretsOf = (s: Statement) =>
      resourcesOf(s).map(
        (r) => JSON.stringify(r).match(/PublishOutputRef([A-Za-z]+?)[0-9A-F]{8}/)?.[1] ?? JSON.stringify(r),
      );
    const expected = (fid: FunctionId) =>
      [
        ...(needs(fid).includes('links') ? ['LinkSigningKey'] : []),
        ...(needs(fid).includes('notify') ? ['SlackBotToken'] : []),
        ...(needs(fid).includes('slackSignature') ? ['SlackSigningSecret'] : []),
        ...(needs(fid).includes('modelArts') ? ['ModelArtsCredentials'] : []),
      ].sort();
    for (const fid of ALL_FUNCTIONS) {
      const read = statementsOf(fid).filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
      expect([fid, read.flatMap(secretsOf).sort()]).toEqual([fid, expected(fid)]);
    }
  });
});

describe('the state machine role', () => {
  it('may invoke the workflow functions by their unqualified ARNs only, and has no other wildcard than logs delivery and X-Ray', () => {
    const statements = statementsOfRole(logicalId(synth.service.workflow.stateMachine.role.roleArn));
    const invoke = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    for (const resource of resourcesOf(invoke[0]))
      expect(resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Functions/), 'Arn'] });
    for (const s of statements) {
      if (resourcesOf(s).includes('*'))
        expect(actionsOf(s).every((a) => a.startsWith('logs:') || a.startsWith('xray:'))).toBe(true);
    }
  });
});

describe('the public surface', () => {
  it('is the HTTP API alone: no function URL, no other API, and API Gateway may invoke only the routed functions, only through this API', () => {
    for (const type of ['AWS::Lambda::Url', 'AWS::ApiGateway::RestApi', 'AWS::ApiGatewayV2::Authorizer'])
      synth.serviceTemplate.resourceCountIs(type, 0);
    synth.serviceTemplate.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    const routed = new Set(ROUTES.map((r) => logicalId(synth.service.functions.byId[r.functionId].functionArn)));
    const apiId = logicalId(synth.service.api.httpApi.apiId);
    const permissions = resources('AWS::Lambda::Permission').map(([, p]) => p.Properties);
    const fromApi = permissions.filter((p) => p.Principal === 'apigateway.amazonaws.com');
    expect(fromApi.length).toBeGreaterThan(0);
    for (const permission of fromApi) {
      expect(JSON.stringify(permission.SourceArn)).toContain(`{"Ref":"${apiId}"}`);
      expect(routed.has((permission.FunctionName as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])).toBe(true);
    }
    // Besides the API, only EventBridge, only the scheduled functions, only from this stack's rules.
    const others = permissions.filter((p) => p.Principal !== 'apigateway.amazonaws.com');
    const scheduled = new Set(
      SCHEDULED_FUNCTIONS.map((fid) => logicalId(synth.service.functions.byId[fid].functionArn)),
    );
    const rules = new Set(resources('AWS::Events::Rule').map(([id]) => id));
    expect(others.length).toBeGreaterThan(0);
    for (const permission of others) {
      expect(permission.Principal).toBe('events.amazonaws.com');
      expect(scheduled.has((permission.FunctionName as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])).toBe(
        true,
      );
      expect(rules.has((permission.SourceArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])).toBe(true);
    }
  });

  it('says what proves the caller of every route, and a bearer token is exactly what the functions that verify one check', () => {
    const routedFunctions = [...new Set(ROUTES.map((r) => r.functionId))];
    for (const fid of routedFunctions) expect([fid, ROUTE_PROOFS[fid]]).toEqual([fid, expect.any(String)]);
    const bearer = routedFunctions.filter((fid) => ROUTE_PROOFS[fid].includes('bearer JWT'));
    expect(bearer.sort()).toEqual(routedFunctions.filter((fid) => needs(fid).includes('auth')).sort());
  });
});

describe('metrics', () => {
  it("sets the metrics namespace, the stack's name, on every function", () => {
    for (const fid of ALL_FUNCTIONS) {
      const variables = (lambda(fid).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect([fid, variables.POWERTOOLS_METRICS_NAMESPACE]).toEqual([fid, synth.service.stackName]);
    }
  });
});
