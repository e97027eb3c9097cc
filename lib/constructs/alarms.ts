import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface PoolgateAlarmsProps {
  /** Every function, by id: each gets its own errors-or-throttles alarm. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly stateMachine: IStateMachine;
  readonly api: IHttpApi;
  /** Namespace of the business metrics (POWERTOOLS_METRICS_NAMESPACE of the functions). */
  readonly metricsNamespace: string;
  /** Powertools' `service` dimension of the business metrics. @default 'poolgate' */
  readonly metricsService?: string;
  /** Subscribed to the alarm topic (policy file `alarms.email`); the address must confirm the subscription. @default no subscription */
  readonly email?: string;
}

const PERIOD = Duration.minutes(5);

/**
 * What wakes an operator, each alarm (and its return to OK) sent to one encrypted SNS topic:
 * failed or timed-out executions, requests that ended FAILED, a function's errors or throttles,
 * and 5xx answers of the API. docs/deploy.md says what each one means and where to look.
 */
export class PoolgateAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: PoolgateAlarmsProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;

    // A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS managed aws/sns key.
    const key = new Key(this, 'TopicKey', {
      description: `${prefix}: encrypts the alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', { displayName: `${prefix} alarms`, masterKey: key, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));

    const alarm = (alarmId: string, name: string, metric: IMetric, description: string) => {
      const created = new Alarm(this, alarmId, {
        alarmName: `${prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      created.addOkAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };

    alarm(
      'ExecutionsFailed',
      'executions-failed',
      props.stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
      'An execution of the poolgate workflow failed: an error that no Catch routes to Finalize (Finalize itself kept failing, or the execution input was broken). The request may be stuck in its last status and its quota reservation held. See the execution in the Step Functions console and the finalize function log.',
    );
    alarm(
      'ExecutionsTimedOut',
      'executions-timed-out',
      props.stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
      "An execution of the poolgate workflow timed out as a whole. The definition sets no overall timeout (each task has its own), so this means Step Functions' one-year limit or a changed definition. The request may be stuck in its last status. See the execution in the Step Functions console.",
    );
    alarm(
      'RequestsFailed',
      'requests-failed',
      new Metric({
        namespace: props.metricsNamespace,
        metricName: 'failed',
        dimensionsMap: { service: props.metricsService ?? 'poolgate' },
        period: PERIOD,
        statistic: 'Sum',
      }),
      'A request ended FAILED: ModelArts refused or kept failing the node-pool creation, or the nodes did not become available. The request (GET /requests/<id>) names the reason; the createNodePool and checkNodes logs say more.',
    );
    alarm(
      'UnapprovedChanges',
      'unapproved-changes',
      new Metric({
        namespace: props.metricsNamespace,
        metricName: 'unapprovedChange',
        dimensionsMap: { service: props.metricsService ?? 'poolgate' },
        period: PERIOD,
        statistic: 'Sum',
      }),
      "The quota reconciliation found a node pool poolgate created changed outside poolgate: its node count, poolgate's ownership label (poolgate/request-id) or its flavor differs from what was approved. Each observation is counted once, recorded as an unapproved_change step on the node pool's latest request and mailed to the team's approvers and the admins; the reconcileQuota log names the node pool.",
    );
    alarm(
      'Api5xx',
      'api-5xx',
      props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
      'The HTTP API answered 5xx: an unexpected error in a handler (500, logged as "unexpected error"), a workflow that could not start (503), or a function that crashed or timed out. See the API access log and the function logs.',
    );
    for (const [functionId, fn] of Object.entries(props.functions)) {
      const errorsOrThrottles = new MathExpression({
        expression: 'errors + throttles',
        usingMetrics: {
          errors: fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
          throttles: fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
        },
        label: `${functionId} errors + throttles`,
        period: PERIOD,
      });
      alarm(
        `${functionId}ErrorsOrThrottles`,
        `${functionId}-errors-or-throttles`,
        errorsOrThrottles,
        `The ${functionId} function threw an error (a crash, a timeout, or an error the workflow retries) or was throttled (the account's Lambda concurrency is exhausted). Compare its Errors and Throttles metrics and read its log.`,
      );
    }
  }
}
