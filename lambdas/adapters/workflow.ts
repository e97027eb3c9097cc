/**
 * The Step Functions side: start one execution per request (named after it, so a second start is
 * harmless) and answer the approval task token.
 */
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ApprovalOutcome, ExecutionInput, Resumption } from '../../contracts/workflow';
import type { StartOutcome, TaskAnswer, WorkflowRuns } from '../use-cases/ports';
import type { RequestKind } from '../../contracts/api-values';

export type { StartOutcome, TaskAnswer };

/** A start date this much before the call is an execution that was running already (clocks differ a little). */
const EARLIER_START_MS = 2_000;

/** Errors meaning the task no longer waits: it timed out, was answered already, or its execution ended. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

let client: SFNClient | undefined;
const sfn = () => (client ??= new SFNClient({}));

export class Workflow implements WorkflowRuns {
  constructor(private readonly stateMachineArn: string) {}

  /**
   * Starts the request's execution (named after it; a retry's `<id>-retry-<attempt>`). Step Functions
   * answers the same name and input again while that execution runs (with its own start date), and
   * ExecutionAlreadyExists once it has ended: `running` and `ended`, both counting as started.
   */
  async start(requestId: string, resume?: Resumption, kind: RequestKind = 'create'): Promise<StartOutcome> {
    const input: ExecutionInput = {
      requestId,
      kind,
      approval: null,
      error: null,
      attempt: resume?.attempt ?? 0,
      created: resume?.created ?? null,
    };
    const name = resume ? `${requestId}-retry-${resume.attempt}` : requestId;
    const asked = Date.now();
    try {
      const { startDate } = await sfn().send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return startDate && startDate.getTime() < asked - EARLIER_START_MS ? 'running' : 'started';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') return 'ended';
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
    return this.whenStillWaiting(() =>
      sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(outcome) })),
    );
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
