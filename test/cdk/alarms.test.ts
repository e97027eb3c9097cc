/** The alarms construct: what is watched, that every alarm reaches the encrypted topic, and the optional e-mail. */
import { App, Stack } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { FUNCTION_ENTRIES, type FunctionId } from '../../contracts/functions';
import { PoolgateAlarms } from '../../lib/constructs/alarms';
import { type CfnResource, logicalIdOf, synthesizePoolgate, type SynthesizedPoolgate } from './support';

jest.setTimeout(60_000);

let synth: SynthesizedPoolgate;
beforeAll(() => {
  synth = synthesizePoolgate({ cfnValidation: false });
});
afterAll(() => synth.cleanUp());

const resources = (type: string) =>
  Object.entries(synth.serviceTemplate.findResources(type)) as Array<[string, CfnResource]>;
const alarms = () => resources('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
const byName = (name: string) => alarms().find((a) => a.AlarmName === `${synth.service.stackName}-${name}`);
const topicRef = () => ({ Ref: logicalIdOf(synth.service, synth.service.alarms.topic.topicArn) });

it('watches failed and timed-out executions, requests that ended FAILED, and 5xx answers of the API', () => {
  const machine = { Ref: logicalIdOf(synth.service, synth.service.workflow.stateMachine.stateMachineArn) };
  expect(byName('executions-failed')).toMatchObject({
    Namespace: 'AWS/States',
    MetricName: 'ExecutionsFailed',
    Dimensions: [{ Name: 'StateMachineArn', Value: machine }],
    Threshold: 1,
  });
  expect(byName('executions-timed-out')).toMatchObject({
    Namespace: 'AWS/States',
    MetricName: 'ExecutionsTimedOut',
    Dimensions: [{ Name: 'StateMachineArn', Value: machine }],
    Threshold: 1,
  });
  expect(byName('api-5xx')).toMatchObject({
    Namespace: 'AWS/ApiGateway',
    MetricName: '5xx',
    Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalIdOf(synth.service, synth.service.api.httpApi.apiId) } }],
    Threshold: 1,
  });
  // The namespace the functions publish their business metrics to (POWERTOOLS_METRICS_NAMESPACE), Powertools' service dimension.
  expect(byName('requests-failed')).toMatchObject({
    Namespace: synth.service.stackName,
    MetricName: 'failed',
    Dimensions: [{ Name: 'service', Value: 'poolgate' }],
    Threshold: 1,
  });
});

it('watches node pools changed outside poolgate: the unapprovedChange metric the reconciliation counts, one is enough', () => {
  expect(byName('unapproved-changes')).toMatchObject({
    Namespace: synth.service.stackName,
    MetricName: 'unapprovedChange',
    Dimensions: [{ Name: 'service', Value: 'poolgate' }],
    Statistic: 'Sum',
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    AlarmActions: [topicRef()],
  });
  // The reconciliation can mail who must hear of it: SES and the mail sender, the link key for the request page.
  const reconcile = resources('AWS::Lambda::Function').find(
    ([, f]) => f.Properties.Description === 'poolgate reconcileQuota',
  );
  expect(reconcile?.[1].Properties.Environment).toMatchObject({
    Variables: expect.objectContaining({ MAIL_FROM: expect.anything(), PUBLIC_BASE_URL: expect.anything() }),
  });
});

it("watches each function's errors and throttles", () => {
  for (const fid of Object.keys(FUNCTION_ENTRIES) as FunctionId[]) {
    const alarm = byName(`${fid}-errors-or-throttles`);
    expect([fid, alarm]).toEqual([fid, expect.anything()]);
    const metrics = alarm!.Metrics as Array<{
      Expression?: string;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown } };
    }>;
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('errors + throttles');
    const fn = { Ref: logicalIdOf(synth.service, synth.service.functions.byId[fid].functionName) };
    for (const name of ['Errors', 'Throttles']) {
      expect(metrics.find((m) => m.MetricStat?.Metric.MetricName === name)?.MetricStat?.Metric).toMatchObject({
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: fn }],
      });
    }
  }
});

it('sends every alarm, and its return to OK, to the topic; missing data is not an alarm; each says what it means', () => {
  expect(alarms()).toHaveLength(5 + Object.keys(FUNCTION_ENTRIES).length);
  for (const alarm of alarms()) {
    expect(alarm).toMatchObject({
      AlarmActions: [topicRef()],
      OKActions: [topicRef()],
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringMatching(/.{60}/),
    });
  }
});

it('encrypts the topic with a rotated key of its own that CloudWatch may use, and refuses publishing without TLS', () => {
  const [keyId, key] = resources('AWS::KMS::Key')[0];
  expect(key.Properties.EnableKeyRotation).toBe(true);
  expect(key.Properties.KeyPolicy).toMatchObject({
    Statement: expect.arrayContaining([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    ]),
  });
  synth.serviceTemplate.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  synth.serviceTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    },
  });
  // The repository's policy file names no alarms.email.
  synth.serviceTemplate.resourceCountIs('AWS::SNS::Subscription', 0);
});

it('subscribes the policy file e-mail when there is one', () => {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'AlarmsOnly');
  const fn = new LambdaFunction(stack, 'Fn', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => 1'),
  });
  new PoolgateAlarms(stack, 'Alarms', {
    functions: { only: fn },
    stateMachine: new StateMachine(stack, 'Machine', {
      definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Pass')),
    }),
    api: new HttpApi(stack, 'Api'),
    metricsNamespace: 'AlarmsOnly',
    email: 'ops@example.com',
  });
  Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'ops@example.com',
    TopicArn: Match.anyValue(),
  });
});
