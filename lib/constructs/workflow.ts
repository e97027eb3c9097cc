import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../../contracts/environment';
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionId } from '../../contracts/functions';
import { acknowledge, wildcardResource } from '../nag';
import { buildWorkflowDefinition, type WorkflowFunctionRefs } from '../workflow-definition';
import type { PoolgateFunction } from './poolgate-function';

export interface PoolgateWorkflowProps {
  /**
   * Physical name of the state machine. It is fixed so that its ARN is known before the state machine
   * exists: functions inside the definition can then be given that ARN without a dependency cycle.
   * 1 to 80 letters, digits, `-` or `_`.
   */
  readonly stateMachineName: string;
  /** The function behind each task of lib/workflow-definition.ts. */
  readonly functions: Readonly<Record<WorkflowFunctionId, IFunction>>;
  /** Retention of the execution error log. @default RetentionDays.THREE_MONTHS */
  readonly logRetention?: RetentionDays;
}

const STATE_MACHINE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The Standard state machine, from the ONE definition in lib/workflow-definition.ts (the local stack
 * runs the same object): function ARNs and the partition come in through definitionSubstitutions. Logs at ERROR without
 * execution data (task tokens and request bodies stay out of logs); X-Ray tracing on.
 *
 * Dependency cycle, and how it is avoided: the state machine depends on every task function (their
 * ARNs are in its definition), and a Lambda function depends on its role's default policy. A task
 * function that also answers task tokens (requestApproval) would close the loop with the usual
 * `stateMachine.grantTaskResponse(fn)`, whose policy references the state machine, and so would a
 * STATE_MACHINE_ARN variable taken from `stateMachine.stateMachineArn`. The name is therefore fixed
 * and the ARN built from it with `Stack.formatArn` (`stateMachineArn` below): the grants and the
 * variable use that string, which references nothing. Every grant uses it, not just the one that
 * would loop, so adding an answering task later cannot reintroduce the cycle.
 */
export class PoolgateWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  /** This state machine's ARN, built from its name: safe to use anywhere, including its own task functions. */
  readonly stateMachineArn: string;
  /** ARN pattern of this state machine's executions. */
  private readonly executionArns: string;

  constructor(scope: Construct, id: string, props: PoolgateWorkflowProps) {
    super(scope, id);
    if (!STATE_MACHINE_NAME.test(props.stateMachineName)) {
      throw new Error(
        `PoolgateWorkflow ${id}: stateMachineName must be 1 to 80 letters, digits, '-' or '_', got '${props.stateMachineName}'`,
      );
    }
    const stack = Stack.of(this);
    const arnOf = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.stateMachineArn = arnOf('stateMachine', props.stateMachineName);
    this.executionArns = arnOf('execution', `${props.stateMachineName}:*`);

    const placeholders = Object.fromEntries(
      WORKFLOW_FUNCTIONS.map((fid) => [fid, `\${${fid}}`]),
    ) as WorkflowFunctionRefs;
    const definition = JSON.stringify(buildWorkflowDefinition(placeholders, `\${${PARTITION_PLACEHOLDER}}`));
    assertEveryPlaceholderKnown(definition);

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(definition),
      definitionSubstitutions: {
        ...Object.fromEntries(WORKFLOW_FUNCTIONS.map((fid) => [fid, props.functions[fid].functionArn])),
        // `aws` in most regions, `aws-cn` in China: literal when the stack's region is known, else ${AWS::Partition}.
        [PARTITION_PLACEHOLDER]: stack.partition,
      },
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', {
          retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: LogLevel.ERROR,
        includeExecutionData: false,
      },
    });
    // The definition invokes the unqualified function ARNs: exactly those, no `:*` for versions and aliases.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: WORKFLOW_FUNCTIONS.map((fid) => props.functions[fid].functionArn),
      }),
    );

    acknowledge(
      this.stateMachine,
      'AwsSolutions-SF1',
      'Logged at ERROR on purpose: every step of a request is recorded in the table (the audit trail), so the state machine logs only failures, and without execution data (task tokens and request bodies stay out of logs).',
    );
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Added by the StateMachine construct for logging and tracing: CloudWatch Logs vended-log delivery (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and X-Ray (xray:PutTraceSegments, ...) support no resource-level permissions. test/cdk checks that no other statement of this role has a wildcard resource.',
    );
  }

  /** Lets `fn` start executions of this state machine (and only this one). */
  grantStartExecution(fn: PoolgateFunction): Grant {
    return this.grantOnStateMachine(fn, ['states:StartExecution'], this.stateMachineArn);
  }

  /**
   * Lets `fn` answer task tokens of this state machine. Only success and failure: poolgate sends no
   * heartbeats. Step Functions authorizes these calls against the state machine the token belongs to.
   */
  grantTaskResponse(fn: PoolgateFunction): Grant {
    return this.grantOnStateMachine(fn, ['states:SendTaskSuccess', 'states:SendTaskFailure'], this.stateMachineArn);
  }

  /** Lets `fn` stop executions of this state machine (cancellation). */
  grantStopExecution(fn: PoolgateFunction): Grant {
    acknowledge(
      fn.role!,
      wildcardResource(fn, this.executionArns),
      "StopExecution acts on an execution ARN, and executions are named after request ids, unknown at deploy time: the grant covers this state machine's executions (execution:<name>:*) and no other.",
    );
    return this.grantOnStateMachine(fn, ['states:StopExecution'], this.executionArns);
  }

  private grantOnStateMachine(fn: PoolgateFunction, actions: string[], resourceArn: string): Grant {
    fn.addEnvironment(ENV.stateMachineArn, this.stateMachineArn);
    return Grant.addToPrincipal({ grantee: fn, actions, resourceArns: [resourceArn] });
  }
}

const PARTITION_PLACEHOLDER = 'partition';

/** A `${name}` the substitutions do not cover would reach Step Functions verbatim and fail the deploy. */
function assertEveryPlaceholderKnown(definition: string): void {
  const known: readonly string[] = [...WORKFLOW_FUNCTIONS, PARTITION_PLACEHOLDER];
  const unknown = [...definition.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]).filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new Error(`workflow definition has placeholders without a function: ${[...new Set(unknown)].join(', ')}`);
}
