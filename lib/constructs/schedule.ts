import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface PoolgateScheduleProps {
  readonly fn: IFunction;
  /** Rounded up to whole minutes (EventBridge's finest rate is one minute). */
  readonly everySeconds: number;
  readonly description: string;
}

/**
 * An EventBridge rule that invokes one function at a fixed rate. The target retries twice and gives
 * up on an event older than the rate: a missed run is replaced by the next one, never queued.
 */
export class PoolgateSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: PoolgateScheduleProps) {
    super(scope, id);
    const minutes = Math.max(1, Math.ceil(props.everySeconds / 60));
    this.rule = new Rule(this, 'Rule', {
      description: props.description,
      schedule: Schedule.rate(Duration.minutes(minutes)),
      targets: [
        new LambdaFunction(props.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(Math.max(minutes, 1)) }),
      ],
    });
  }
}
