/**
 * Translates the engine's event log into Step Functions' history vocabulary, and counts state
 * transitions the way AWS bills them (every state entered, every retry).
 *
 * Mapping (engine → AWS history event type):
 *   ExecutionStarted/Succeeded/Failed → same name; ExecutionTimeout → ExecutionTimedOut
 *   StateEntered / StateExited        → <Type>StateEntered / <Type>StateExited (TaskStateEntered, ChoiceStateExited…)
 *   StateFailed of a Task             → TaskTimedOut for States.Timeout, TaskFailed otherwise
 *   StateRetried                      → no event (AWS shows the task scheduled again), but a transition
 * Other engine events (StateCaught, a non-Task StateFailed, which always ends in ExecutionFailed) add
 * nothing. ExecutionAborted is written by the emulator itself when StopExecution is called.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import type { Json } from './json';
import type { ExecutionRecord, HistoryEvent } from './store';

/** One entry of aws-local-stepfunctions' event log (the package does not export the type). */
export type EngineEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

type NewEvent = Omit<HistoryEvent, 'id'>;

export function appendEvent(record: ExecutionRecord, event: NewEvent): void {
  record.history.push({ id: record.history.length + 1, ...event });
}

/**
 * Records one engine event on the execution. `resumed`: the engine run continues an execution after a
 * restart, so its ExecutionStarted is not a new start.
 */
export function recordEngineEvent(record: ExecutionRecord, event: EngineEvent, resumed: boolean): void {
  const at = event.timestamp;
  switch (event.type) {
    case 'ExecutionStarted':
      if (!resumed) appendEvent(record, { type: 'ExecutionStarted', timestamp: at, data: asJson(event.input) });
      return;
    case 'ExecutionSucceeded':
      appendEvent(record, { type: 'ExecutionSucceeded', timestamp: at, data: asJson(event.output) });
      return;
    case 'ExecutionFailed':
      appendEvent(record, {
        type: 'ExecutionFailed',
        timestamp: at,
        error: event.Error,
        cause: causeText(event.Cause),
      });
      return;
    case 'ExecutionTimeout':
      appendEvent(record, { type: 'ExecutionTimedOut', timestamp: at });
      return;
    case 'StateEntered':
      record.stateTransitions += 1;
      record.current = { stateName: event.state.name, input: asJson(event.state.input) };
      appendEvent(record, {
        type: `${event.state.type}StateEntered`,
        timestamp: at,
        stateName: event.state.name,
        data: asJson(event.state.input),
      });
      return;
    case 'StateExited':
      appendEvent(record, {
        type: `${event.state.type}StateExited`,
        timestamp: at,
        stateName: event.state.name,
        data: asJson(event.state.output ?? null),
      });
      return;
    case 'StateFailed':
      if (event.state.type !== 'Task') return;
      appendEvent(record, {
        type: event.Error === 'States.Timeout' ? 'TaskTimedOut' : 'TaskFailed',
        timestamp: at,
        stateName: event.state.name,
        error: event.Error,
        cause: causeText(event.Cause),
      });
      return;
    case 'StateRetried':
      record.stateTransitions += 1;
      return;
    default:
      return;
  }
}

/** The engine's values are JSON already; its JSONValue type is just not exported. */
function asJson(value: unknown): Json {
  return (value ?? null) as Json;
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause ?? null);
}
