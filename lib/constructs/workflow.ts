import { RemovalPolicy } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowFunctionId } from '../../contracts/functions';
import { buildWorkflowDefinition, type WorkflowFunctionRefs } from '../workflow-definition';
import type { PoolgateFunction } from './poolgate-function';

export interface PoolgateWorkflowProps {
  /** Fixed, so the functions can know the state machine's ARN before it exists (no dependency cycle). */
  readonly stateMachineName: string;
  readonly functions: Record<WorkflowFunctionId, PoolgateFunction>;
}

/**
 * The Standard state machine, from the ONE definition in lib/workflow-definition.ts (also run by
 * the local stack). Function ARNs come in through definitionSubstitutions. Logs at ERROR without
 * execution data (task tokens and request bodies stay out of logs); X-Ray tracing on.
 */
export class PoolgateWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: PoolgateWorkflowProps) {
    super(scope, id);
    const ids = Object.keys(props.functions) as WorkflowFunctionId[];
    const placeholders = Object.fromEntries(ids.map((fid) => [fid, `\${${fid}}`])) as WorkflowFunctionRefs;
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(JSON.stringify(buildWorkflowDefinition(placeholders))),
      definitionSubstitutions: Object.fromEntries(ids.map((fid) => [fid, props.functions[fid].functionArn])),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
        level: LogLevel.ERROR,
        includeExecutionData: false,
      },
    });
    for (const fn of Object.values(props.functions)) fn.grantInvoke(this.stateMachine);
  }
}
