/**
 * The Step Functions side: start one execution per request (named after it, so a second start is
 * harmless) and answer the approval task token.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';

/** The input every execution starts with: all the paths the definition reads exist from the start. */
export interface ExecutionInput {
  readonly requestId: string;
  readonly approval: null;
  readonly error: null;
  readonly created: null;
}

/** What a decided approval hands back to the workflow (the `$.approval` of the definition). */
export interface ApprovalOutcome {
  readonly status: 'approved' | 'rejected' | 'pending' | 'refused' | 'expired';
  readonly stageIndex: number;
  readonly waitSeconds: number;
  readonly reason?: string;
}

export type TaskAnswer = 'delivered' | 'gone';

/** Errors meaning the task no longer waits: it timed out, was answered already, or its execution ended. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

let client: SFNClient | undefined;
const sfn = () => (client ??= new SFNClient({}));

export class Workflow {
  constructor(private readonly stateMachineArn: string) {}

  /** Starts the request's execution; an execution of that name already running counts as started. */
  async start(requestId: string): Promise<void> {
    const input: ExecutionInput = { requestId, approval: null, error: null, created: null };
    try {
      await sfn().send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name: requestId, input: JSON.stringify(input) }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') return;
      throw error;
    }
  }

  /** Stops the request's execution at once (cancellation); one that already ended is left as it is. */
  async stop(requestId: string, cause: string): Promise<void> {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
    try {
      await sfn().send(new StopExecutionCommand({ executionArn, error: 'Cancelled', cause }));
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return;
      throw error;
    }
  }

  async answer(taskToken: string, outcome: ApprovalOutcome): Promise<TaskAnswer> {
    return this.whenStillWaiting(() => sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(outcome) })));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<TaskAnswer> {
    return this.whenStillWaiting(() => sfn().send(new SendTaskFailureCommand({ taskToken, error, cause })));
  }

  private async whenStillWaiting(send: () => Promise<unknown>): Promise<TaskAnswer> {
    try {
      await send();
      return 'delivered';
    } catch (error) {
      if (error instanceof Error && GONE.has(error.name)) return 'gone';
      throw error;
    }
  }
}
