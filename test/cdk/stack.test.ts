/**
 * The synthesized service stack, asserted for intent (not a snapshot). Built once, with the feature
 * flags of cdk.json, from stub handlers and without bundling (CDK's `aws:cdk:bundling-stacks`);
 * app.test.ts synthesizes the real handlers, bundled, through the CLI. The data stack (table,
 * secrets) is data-stack.test.ts; least privilege, alarms and cdk-nag have their own files.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../contracts/environment';
import {
  FUNCTION_ENTRIES,
  HTTP_FUNCTIONS,
  SCHEDULED_FUNCTIONS,
  WORKFLOW_FUNCTIONS,
  type FunctionId,
} from '../../contracts/functions';
import { ROUTES } from '../../contracts/routes';
import { FUNCTION_NEEDS } from '../../lib/constructs/functions';
import { BUNDLED_POLICY_PATH } from '../../lib/constructs/poolgate-function';
import { addPoolgate, type PoolgateAppProps } from '../../lib/poolgate-app';
import { defaultJwksUri, type PoolgateStack } from '../../lib/poolgate-stack';
import { WORKFLOW_STATES } from '../../lib/workflow-definition';
import {
  ACCOUNT,
  actionsOf,
  appWithCdkContext,
  type CfnResource,
  cdkContext,
  logicalIdOf,
  POLICY_FILE,
  REGION,
  resourcesOf,
  type Statement,
  synthesizePoolgate,
  type SynthesizedPoolgate,
} from './support';

jest.setTimeout(60_000);

const STACK_NAME = 'PoolgateTest';
const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STACK_NAME}-workflow`;
const ALL_FUNCTIONS = Object.keys(FUNCTION_ENTRIES) as FunctionId[];

let synth: SynthesizedPoolgate;
let stack: PoolgateStack;
let template: Template;
/** Lambda logical id -> function id, and back. */
let functionIdByLogicalId: Map<string, FunctionId>;
let logicalIdOfFunction: (fid: FunctionId) => string;

beforeAll(() => {
  synth = synthesizePoolgate({ name: STACK_NAME });
  stack = synth.service;
  template = synth.serviceTemplate;
  logicalIdOfFunction = (fid) => logicalIdOf(stack, stack.functions.byId[fid].functionArn);
  functionIdByLogicalId = new Map(ALL_FUNCTIONS.map((fid) => [logicalIdOfFunction(fid), fid]));
});

afterAll(() => synth.cleanUp());

const resources = (type: string): Array<[string, CfnResource]> =>
  Object.entries(template.findResources(type)) as Array<[string, CfnResource]>;
const lambda = (fid: FunctionId): CfnResource => template.toJSON().Resources[logicalIdOfFunction(fid)] as CfnResource;
const variablesOf = (fid: FunctionId): Record<string, unknown> =>
  (lambda(fid).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

/** Every statement of every policy attached to the function's role. */
function statementsOf(fid: FunctionId): Statement[] {
  const roleId = logicalIdOf(stack, stack.functions.byId[fid].role!.roleArn);
  return resources('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
/** How the service reads a value of the data stack: its output, resolved when the service deploys (a weak reference, no export). */
const dataStackOutput = (logicalId: string) => ({
  'Fn::GetStackOutput': {
    StackName: `${STACK_NAME}Data`,
    Region: REGION,
    OutputName: expect.stringMatching(new RegExp(`^PublishOutputRef${logicalId}[0-9A-F]{8}$`)),
  },
});
const functionsAllowedTo = (action: string): FunctionId[] =>
  ALL_FUNCTIONS.filter((fid) => statementsOf(fid).some((s) => actionsOf(s).includes(action))).sort();

describe('resources', () => {
  it('has exactly what the service needs: one function per handler, one state machine, one API, and no data', () => {
    template.resourceCountIs('AWS::Lambda::Function', ALL_FUNCTIONS.length);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    // The table and the secrets live in the data stack (data-stack.test.ts).
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('is synthesized with CloudFormation Validate findings as errors, which refuses a dependency cycle', () => {
    // This flag makes synth (here and in `npm run synth`) fail on circular dependencies (rule F3004),
    // e.g. if STATE_MACHINE_ARN were taken from the state machine's Ref; without it, only a deploy would.
    expect(cdkContext()['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
  });

  it('sets a retention on every log group', () => {
    const groups = resources('AWS::Logs::LogGroup');
    // One per function, the state machine's and the API's access log.
    expect(groups).toHaveLength(ALL_FUNCTIONS.length + 2);
    for (const [id, group] of groups) expect([id, group.Properties.RetentionInDays]).toEqual([id, expect.any(Number)]);
  });

  it('outputs the API URL, the Slack interactivity URL, the table name, the state machine ARN and the alarm topic', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ApiUrl.Value).toEqual(stack.resolve(stack.api.httpApi.apiEndpoint));
    expect(JSON.stringify(outputs.SlackInteractivityUrl.Value)).toContain('/slack/interactions');
    expect(outputs.TableName.Value).toEqual(dataStackOutput('Table'));
    expect(outputs.StateMachineArn.Value).toEqual({
      Ref: logicalIdOf(stack, stack.workflow.stateMachine.stateMachineArn),
    });
    expect(outputs.AlarmTopicArn.Value).toEqual({ Ref: logicalIdOf(stack, stack.alarms.topic.topicArn) });
  });
});

describe('functions', () => {
  it('runs every function on Node 22, arm64, traced, ESM, with its own log group', () => {
    for (const fid of ALL_FUNCTIONS) {
      expect([fid, lambda(fid).Properties]).toEqual([
        fid,
        expect.objectContaining({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          Handler: 'index.handler',
          LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
        }),
      ]);
    }
  });

  it('gives every function the house environment merged with its own', () => {
    for (const fid of ALL_FUNCTIONS) {
      expect([fid, variablesOf(fid)]).toEqual([
        fid,
        expect.objectContaining({
          POWERTOOLS_SERVICE_NAME: 'poolgate',
          NODE_OPTIONS: '--enable-source-maps',
          [ENV.policyFile]: BUNDLED_POLICY_PATH,
        }),
      ]);
    }
    // Merged, not replaced: the table binding adds to the defaults.
    expect(variablesOf('submit')).toEqual(
      expect.objectContaining({ [ENV.tableName]: expect.anything(), POWERTOOLS_SERVICE_NAME: 'poolgate' }),
    );
  });

  it('answers HTTP within API Gateway 30 s limit, and workflow tasks within their 60 s task timeout', () => {
    const within = (fid: FunctionId, limit: number) => {
      const timeout = lambda(fid).Properties.Timeout as number;
      expect([fid, timeout > 0 && timeout < limit]).toEqual([fid, true]);
    };
    for (const fid of HTTP_FUNCTIONS) within(fid, 30);
    for (const fid of WORKFLOW_FUNCTIONS) within(fid, 60);
    for (const fid of SCHEDULED_FUNCTIONS) within(fid, 901);
  });

  it('puts no secret value in any environment variable, only secret ARNs', () => {
    const secretIds = new Set(Object.keys(synth.dataTemplate.findResources('AWS::SecretsManager::Secret')));
    for (const fid of ALL_FUNCTIONS) {
      for (const [name, value] of Object.entries(variablesOf(fid))) {
        const rendered = JSON.stringify(value);
        expect([fid, name, rendered]).not.toEqual([
          fid,
          name,
          expect.stringMatching(/resolve:secretsmanager|SecretString|xox[bp]-/),
        ]);
        if (name.endsWith('_SECRET_ID')) {
          // The Ref (the ARN) of one of the data stack's secrets, read from that stack's outputs.
          const secretId = (value as { 'Fn::GetStackOutput'?: { OutputName: string } })[
            'Fn::GetStackOutput'
          ]?.OutputName.match(/^PublishOutputRef([A-Za-z]+?)[0-9A-F]{8}$/)?.[1];
          expect([fid, name, secretIds.has(secretId ?? '')]).toEqual([fid, name, true]);
          expect(value).toEqual(dataStackOutput(secretId!));
          // And it may read that secret, and only with GetSecretValue/DescribeSecret.
          const reads = statementsOf(fid).filter((s) => resourcesOf(s).some((r) => JSON.stringify(r) === rendered));
          expect(reads.flatMap(actionsOf).sort()).toEqual([
            'secretsmanager:DescribeSecret',
            'secretsmanager:GetSecretValue',
          ]);
        }
      }
    }
  });

  it('names the table, and grants it, only to the functions that store data; health and openapi get nothing', () => {
    for (const fid of ALL_FUNCTIONS) {
      const hasTableName = ENV.tableName in variablesOf(fid);
      const mayWrite = statementsOf(fid).some((s) => actionsOf(s).includes('dynamodb:PutItem'));
      expect([fid, hasTableName]).toEqual([fid, mayWrite]);
    }
    for (const fid of ['health', 'openapi'] as const) {
      // Nothing but tracing and writing their own log (least-privilege.test.ts).
      expect([
        fid,
        statementsOf(fid).filter((s) => !actionsOf(s).every((a) => a.startsWith('xray:') || a.startsWith('logs:'))),
      ]).toEqual([fid, []]);
    }
  });

  it('verifies tokens with the policy issuer, audience and the OIDC key set by default', () => {
    expect(variablesOf('submit')).toEqual(
      expect.objectContaining({
        [ENV.jwtIssuer]: 'https://login.example.com/',
        [ENV.jwtAudience]: 'poolgate',
        [ENV.jwksUri]: 'https://login.example.com/.well-known/jwks.json',
        [ENV.jwtAlgorithms]: 'ES256,RS256',
        [ENV.jwtRequireVerifiedEmail]: 'false',
      }),
    );
    expect(defaultJwksUri('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc')).toBe(
      'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json',
    );
  });

  it('links to the API URL, an attribute of the API resource alone (no cycle through the routes)', () => {
    const apiId = logicalIdOf(stack, stack.api.httpApi.apiId);
    expect(variablesOf('requestApproval')[ENV.publicBaseUrl]).toEqual({ 'Fn::GetAtt': [apiId, 'ApiEndpoint'] });
  });

  it('lets the notifying functions send mail only as the configured sender', () => {
    for (const fid of ALL_FUNCTIONS) {
      const sends = statementsOf(fid).filter((s) => actionsOf(s).some((a) => a.startsWith('ses:')));
      if (!(ENV.mailFrom in variablesOf(fid))) {
        expect([fid, sends]).toEqual([fid, []]);
        continue;
      }
      expect(sends.map((st) => ({ ...st, Resource: resourcesOf(st).sort() }))).toEqual([
        expect.objectContaining({
          Action: 'ses:SendEmail',
          Resource: [
            `arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.com`,
            `arn:aws:ses:${REGION}:${ACCOUNT}:identity/poolgate@example.com`,
          ],
          Condition: { StringEquals: { 'ses:FromAddress': 'poolgate@example.com' } },
        }),
      ]);
    }
    expect(functionsAllowedTo('ses:SendEmail')).toEqual(expect.arrayContaining(['finalize', 'requestApproval']));
  });
});

describe('HTTP API', () => {
  const routes = () => resources('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);

  it('exposes exactly the routes of contracts/routes.ts, without an authorizer (tokens are verified in the handlers)', () => {
    expect(
      routes()
        .map((r) => r.RouteKey)
        .sort(),
    ).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of routes()) expect(route.AuthorizationType ?? 'NONE').toBe('NONE');
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
  });

  it('sends each route to its function, in payload format 2.0', () => {
    const integrations = new Map(resources('AWS::ApiGatewayV2::Integration'));
    for (const route of routes()) {
      const expected = ROUTES.find((r) => `${r.method} ${r.path}` === route.RouteKey)!.functionId;
      const integrationId = (route.Target as { 'Fn::Join': [string, Array<{ Ref?: string }>] })['Fn::Join'][1].find(
        (part) => part.Ref,
      )!.Ref!;
      const integration = integrations.get(integrationId)!.Properties;
      expect(integration).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
      const target = (integration.IntegrationUri as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect([route.RouteKey, functionIdByLogicalId.get(target)]).toEqual([route.RouteKey, expected]);
    }
  });

  it('throttles the $default stage and logs access without query strings, headers or bodies', () => {
    const [, stage] = resources('AWS::ApiGatewayV2::Stage')[0];
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) },
    });
    const format = (stage.Properties.AccessLogSettings as { Format: string }).Format;
    expect(Object.values(JSON.parse(format) as Record<string, string>)).toEqual(
      expect.arrayContaining(['$context.requestId', '$context.path', '$context.status']),
    );
    expect(format).not.toMatch(
      /querystring|rawQuery|\$request\.|authorization|header|body|\$context\.identity\.(user|caller|accessKey)/i,
    );
  });
});

describe('workflow', () => {
  type State = Record<string, unknown> & { Type: string };
  const machine = () => resources('AWS::StepFunctions::StateMachine')[0][1];
  /** The definition as deployed: each `${functionId}` replaced by what its substitution points at, `${partition}` by its value. */
  function definition(): { States: Record<string, State> } {
    const { DefinitionString, DefinitionSubstitutions } = machine().Properties as {
      DefinitionString: string;
      DefinitionSubstitutions: Record<string, string | { 'Fn::GetAtt': [string, string] }>;
    };
    const text = DefinitionString.replace(/\$\{(\w+)\}/g, (_, key: string) => {
      const substitution = DefinitionSubstitutions[key];
      if (typeof substitution === 'string') return substitution;
      const logicalId = substitution?.['Fn::GetAtt'][0];
      return `function:${functionIdByLogicalId.get(logicalId ?? '') ?? `UNRESOLVED(${key})`}`;
    });
    return JSON.parse(text) as { States: Record<string, State> };
  }
  const tasks = () => Object.entries(definition().States).filter(([, state]) => state.Type === 'Task');

  it('is a Standard state machine with a fixed name, logged at ERROR without execution data, traced', () => {
    expect(machine().Properties).toMatchObject({
      StateMachineName: `${STACK_NAME}-workflow`,
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ERROR', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('waits for approval with a task token until the time in the input', () => {
    expect(definition().States[WORKFLOW_STATES.requestApproval]).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSecondsPath: expect.stringMatching(/^\$\./),
      Parameters: {
        FunctionName: 'function:requestApproval',
        Payload: expect.objectContaining({ 'taskToken.$': '$$.Task.Token' }),
      },
    });
  });

  it('bounds every task in time and retries every Lambda task', () => {
    expect(tasks().length).toBeGreaterThanOrEqual(WORKFLOW_FUNCTIONS.length);
    for (const [name, state] of tasks()) {
      expect([name, state.TimeoutSeconds ?? state.TimeoutSecondsPath]).toEqual([name, expect.anything()]);
      if (String(state.Resource).startsWith('arn:aws:states:::lambda:invoke')) {
        expect([name, state.Retry]).toEqual([
          name,
          expect.arrayContaining([
            expect.objectContaining({ ErrorEquals: expect.any(Array), MaxAttempts: expect.any(Number) }),
          ]),
        ]);
      }
    }
    expect(JSON.stringify(definition())).not.toMatch(/JSONata|UNRESOLVED/);
  });

  it("names its service integrations in the deployment's partition (aws-cn in the China regions)", () => {
    expect((machine().Properties.DefinitionSubstitutions as Record<string, unknown>).partition).toBe('aws');
    const china = synthesizePoolgate({
      name: 'PoolgateChina',
      cfnValidation: false,
      env: { account: ACCOUNT, region: 'cn-north-1' },
    });
    try {
      const [, cn] = Object.entries(china.serviceTemplate.findResources('AWS::StepFunctions::StateMachine'))[0] as [
        string,
        CfnResource,
      ];
      expect((cn.Properties.DefinitionSubstitutions as Record<string, unknown>).partition).toBe('aws-cn');
      expect(cn.Properties.DefinitionString).toContain('"Resource":"arn:${partition}:states:::lambda:invoke"');
    } finally {
      china.cleanUp();
    }
  });

  it('calls each workflow function from its task, and may invoke exactly those', () => {
    const called = tasks().map(([, state]) => (state.Parameters as { FunctionName: string }).FunctionName);
    expect([...new Set(called)].sort()).toEqual(WORKFLOW_FUNCTIONS.map((fid) => `function:${fid}`).sort());
    const roleId = logicalIdOf(stack, stack.workflow.stateMachine.role.roleArn);
    const invocable = resources('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => actionsOf(s).includes('lambda:InvokeFunction'))
      .flatMap(resourcesOf)
      .map((r) => functionIdByLogicalId.get(JSON.stringify(r).match(/"(Functions\w+)"/)?.[1] ?? ''));
    expect([...new Set(invocable)].sort()).toEqual([...WORKFLOW_FUNCTIONS].sort());
  });
});

describe('Step Functions permissions', () => {
  it('lets only the deciding functions answer task tokens, on this state machine only', () => {
    // approvals (e-mail links) and slackInteractions (buttons) record decisions; requestApproval answers
    // its own token when the stage was settled before it ran (a vote that raced a reminder).
    expect(functionsAllowedTo('states:SendTaskSuccess')).toEqual(['approvals', 'requestApproval', 'slackInteractions']);
    for (const fid of functionsAllowedTo('states:SendTaskSuccess')) {
      const statements = statementsOf(fid).filter((s) => actionsOf(s).some((a) => a.startsWith('states:SendTask')));
      expect(statements).toEqual([
        expect.objectContaining({
          Action: ['states:SendTaskFailure', 'states:SendTaskSuccess'].sort(),
          Resource: STATE_MACHINE_ARN,
        }),
      ]);
    }
  });

  it('lets only submit, deleteNodePool, patchNodePool, extendLease, retryRequest and the sweeps start executions, and only cancelRequest and the lease sweep stop them, of this state machine', () => {
    expect(functionsAllowedTo('states:StartExecution')).toEqual([
      'deleteNodePool',
      'extendLease',
      'patchNodePool',
      'retryRequest',
      'submit',
      'sweepLeases',
      'sweepSubmitted',
    ]);
    for (const fid of [
      'submit',
      'deleteNodePool',
      'patchNodePool',
      'extendLease',
      'retryRequest',
      'sweepSubmitted',
      'sweepLeases',
    ] as const) {
      expect(statementsOf(fid).find((s) => actionsOf(s).includes('states:StartExecution'))!.Resource).toBe(
        STATE_MACHINE_ARN,
      );
    }
    expect(functionsAllowedTo('states:StopExecution')).toEqual(['cancelRequest', 'sweepLeases']);
    for (const fid of ['cancelRequest', 'sweepLeases'] as const)
      expect(statementsOf(fid).find((s) => actionsOf(s).includes('states:StopExecution'))!.Resource).toBe(
        `arn:aws:states:${REGION}:${ACCOUNT}:execution:${STACK_NAME}-workflow:*`,
      );
  });

  it('gives STATE_MACHINE_ARN, the real ARN, to exactly the functions that call Step Functions', () => {
    const withArn = ALL_FUNCTIONS.filter((fid) => ENV.stateMachineArn in variablesOf(fid)).sort();
    const callers = ALL_FUNCTIONS.filter((fid) =>
      statementsOf(fid).some((s) => actionsOf(s).some((a) => a.startsWith('states:'))),
    ).sort();
    expect(withArn).toEqual(callers);
    for (const fid of withArn) expect(variablesOf(fid)[ENV.stateMachineArn]).toBe(STATE_MACHINE_ARN);
  });

  it('grants no Step Functions action on a wildcard resource', () => {
    for (const [, policy] of resources('AWS::IAM::Policy')) {
      for (const s of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (actionsOf(s).some((a) => a.startsWith('states:'))) expect(resourcesOf(s)).not.toContain('*');
      }
    }
  });
});

describe('props', () => {
  const build = (overrides: Partial<PoolgateAppProps>) => () =>
    addPoolgate(appWithCdkContext({ bundle: false }), 'Invalid', {
      policyFile: POLICY_FILE,
      auth: { issuer: 'https://login.example.com/', audience: 'poolgate' },
      mailFrom: 'poolgate@example.com',
      handlersRoot: synth.handlersRoot,
      ...overrides,
    });

  it('refuses bad inputs up front, naming each', () => {
    const bad = build({
      mailFrom: 'poolgate',
      auth: { issuer: 'http://login.example.com', audience: '' },
      publicBaseUrl: 'https://x.example.com/?a=1',
    });
    for (const message of [
      'mailFrom must be an e-mail address, got poolgate',
      'auth.issuer must be an https URL, got http://login.example.com',
      'auth.audience must not be empty',
      'publicBaseUrl must have no query or fragment',
    ]) {
      expect(bad).toThrow(message);
    }
    expect(build({ policyFile: 'poolgate.config.json' })).toThrow(
      /policyFile must be an existing file given by an absolute path/,
    );
  });

  it('passes the accepted algorithms and the e-mail rule to every function that verifies tokens', () => {
    const { service } = build({
      auth: {
        issuer: 'https://login.example.com/',
        audience: 'poolgate',
        algorithms: ['PS256', 'EdDSA'],
        requireVerifiedEmail: true,
      },
    })();
    const functions = Object.values(
      Template.fromStack(service).findResources('AWS::Lambda::Function'),
    ) as CfnResource[];
    const verifying = functions
      .map((fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables)
      .filter((variables) => ENV.jwtIssuer in variables);
    expect(verifying).toHaveLength(ALL_FUNCTIONS.filter((fid) => FUNCTION_NEEDS[fid].includes('auth')).length);
    for (const variables of verifying) {
      expect(variables).toMatchObject({ [ENV.jwtAlgorithms]: 'PS256,EdDSA', [ENV.jwtRequireVerifiedEmail]: 'true' });
    }
  });

  it('refuses algorithms poolgate cannot verify with, and an empty list', () => {
    const auth = { issuer: 'https://login.example.com/', audience: 'poolgate' };
    expect(build({ auth: { ...auth, algorithms: ['HS256', 'RS256', 'none'] } })).toThrow(
      'auth.algorithms must be among RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, got HS256, none',
    );
    expect(build({ auth: { ...auth, algorithms: [] } })).toThrow('auth.algorithms must name at least one algorithm');
  });

  it('names the handler entries that are missing', () => {
    expect(build({ handlersRoot: __dirname })).toThrow(
      /has no package-lock\.json[\s\S]*handler entries missing under .*lambdas\/handlers\/submit\.ts/,
    );
  });
});

/** Each schedule rule's rate, and the function its one target invokes. */
const schedulesOf = (synthesized: SynthesizedPoolgate) =>
  (Object.values(synthesized.serviceTemplate.findResources('AWS::Events::Rule')) as CfnResource[]).map((rule) => {
    const [target] = rule.Properties.Targets as Array<{
      Arn: { 'Fn::GetAtt': [string, string] };
      RetryPolicy: unknown;
    }>;
    const functionId = ALL_FUNCTIONS.find(
      (fid) =>
        logicalIdOf(synthesized.service, synthesized.service.functions.byId[fid].functionArn) ===
        target.Arn['Fn::GetAtt'][0],
    );
    return {
      rate: rule.Properties.ScheduleExpression,
      state: rule.Properties.State,
      functionId,
      retry: target.RetryPolicy,
    };
  });

describe('schedules', () => {
  it('sweeps requests left SUBMITTED and lease events every minute, and reconciles no quota unless the policy asks', () => {
    expect(schedulesOf(synth)).toEqual([
      {
        rate: 'rate(1 minute)',
        state: 'ENABLED',
        functionId: 'sweepSubmitted',
        retry: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
      },
      {
        rate: 'rate(1 minute)',
        state: 'ENABLED',
        functionId: 'sweepLeases',
        retry: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
      },
    ]);
  });
});

describe('settings from the policy file', () => {
  const PROJECT_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:poolgate/project-a-AbCdEf`;
  let configured: SynthesizedPoolgate;
  beforeAll(() => {
    configured = synthesizePoolgate({
      name: 'PoolgateConfigured',
      cfnValidation: false,
      reconcileEverySeconds: 90,
      modelArtsProjectSecretArns: [PROJECT_SECRET],
    });
  });
  afterAll(() => configured.cleanUp());

  it('reconciles the quotas at the policy interval rounded up to whole minutes', () => {
    expect(schedulesOf(configured)).toEqual(
      expect.arrayContaining([
        {
          rate: 'rate(2 minutes)',
          state: 'ENABLED',
          functionId: 'reconcileQuota',
          retry: { MaximumEventAgeInSeconds: 120, MaximumRetryAttempts: 2 },
        },
      ]),
    );
    expect(schedulesOf(configured)).toHaveLength(3);
  });

  it("lets exactly the ModelArts functions read a project's own AK/SK secret, by its complete ARN", () => {
    const service = configured.service;
    const roleOf = new Map(
      ALL_FUNCTIONS.map((fid) => [logicalIdOf(service, service.functions.byId[fid].role!.roleArn), fid]),
    );
    const readers = (Object.values(configured.serviceTemplate.findResources('AWS::IAM::Policy')) as CfnResource[])
      .filter((p) =>
        (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
          (st) =>
            actionsOf(st).includes('secretsmanager:GetSecretValue') && [st.Resource].flat().includes(PROJECT_SECRET),
        ),
      )
      .flatMap((p) => (p.Properties.Roles as Array<{ Ref: string }>).map((r) => roleOf.get(r.Ref)))
      .sort();
    expect(readers).toEqual([
      'applyChange',
      'checkNodes',
      'checkRequest',
      'createNodePool',
      'patchNodePool',
      'readNodePools',
      'reconcileQuota',
      'submit',
    ]);
  });
});
