/**
 * The Step Functions operations the local service answers, with AWS's request checks and response
 * shapes: StartExecution, SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat, StopExecution,
 * DescribeExecution, GetExecutionHistory, ListExecutions.
 */
import { randomUUID } from 'node:crypto';
import type { Executions } from './executions';
import type { Json, JsonObject } from './json';
import { SfnServiceError, timestamp, type Operation } from './protocol';
import type { ExecutionRecord, HistoryEvent } from './store';

/** AWS's limit on execution input and task output: 256 KiB of UTF-8. */
const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Characters AWS refuses in an execution name (also keeps the name a safe file name). */
// eslint-disable-next-line no-control-regex -- control characters are among the refused ones
const FORBIDDEN_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

export function operations(executions: Executions, stateMachineArn: string): Record<string, Operation> {
  const checkStateMachine = (request: JsonObject) => {
    const arn = requiredString(request, 'stateMachineArn');
    if (arn !== stateMachineArn)
      throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  };

  return {
    StartExecution: async (request) => {
      checkStateMachine(request);
      const name = optionalString(request, 'name') ?? randomUUID();
      if (name.length < 1 || name.length > 80 || FORBIDDEN_NAME_CHARACTERS.test(name))
        throw new SfnServiceError('InvalidName', `Invalid Name: '${name}'`);
      const input = optionalString(request, 'input') ?? '{}';
      parsePayload(input, 'InvalidExecutionInput', 'input');
      const record = await executions.start(name, input);
      return { executionArn: record.executionArn, startDate: timestamp(record.startDate) };
    },

    SendTaskSuccess: async (request) => {
      const taskToken = token(request);
      const output = parsePayload(requiredString(request, 'output'), 'InvalidOutput', 'output');
      await executions.sendTaskSuccess(taskToken, output);
      return {};
    },

    SendTaskFailure: async (request) => {
      const taskToken = token(request);
      await executions.sendTaskFailure(
        taskToken,
        optionalString(request, 'error') ?? '',
        optionalString(request, 'cause') ?? '',
      );
      return {};
    },

    SendTaskHeartbeat: (request) => {
      executions.sendTaskHeartbeat(token(request));
      return {};
    },

    StopExecution: async (request) => {
      const record = await executions.stop(
        requiredString(request, 'executionArn'),
        optionalString(request, 'error'),
        optionalString(request, 'cause'),
      );
      return { stopDate: timestamp(record.stopDate ?? Date.now()) };
    },

    DescribeExecution: (request) => describeExecution(executions.byArn(requiredString(request, 'executionArn'))),

    GetExecutionHistory: (request) => {
      const record = executions.byArn(requiredString(request, 'executionArn'));
      const includeData = request.includeExecutionData !== false;
      const events = request.reverseOrder === true ? [...record.history].reverse() : record.history;
      // `stateTransitions` is a local extension (the SDK ignores unknown members): states entered plus
      // retries, which the history itself does not show (a retry enters no state).
      return {
        ...page(events, request, (event) => historyEvent(event, includeData), 'events'),
        stateTransitions: record.stateTransitions,
      };
    },

    ListExecutions: (request) => {
      checkStateMachine(request);
      const status = optionalString(request, 'statusFilter');
      const records = executions
        .all()
        .filter((record) => status === undefined || record.status === status)
        .sort((a, b) => b.startDate - a.startDate);
      return page(records, request, executionListItem, 'executions');
    },
  };
}

export function describeExecution(record: ExecutionRecord): object {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: timestamp(record.startDate),
    ...(record.stopDate !== undefined ? { stopDate: timestamp(record.stopDate) } : {}),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

function executionListItem(record: ExecutionRecord): object {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: timestamp(record.startDate),
    ...(record.stopDate !== undefined ? { stopDate: timestamp(record.stopDate) } : {}),
  };
}

/** A history event in the API's shape: the details member its type calls for. */
function historyEvent(event: HistoryEvent, includeData: boolean): object {
  const data = (key: string) => (includeData && event.data !== undefined ? { [key]: JSON.stringify(event.data) } : {});
  const failure = {
    ...(event.error !== undefined ? { error: event.error } : {}),
    ...(event.cause !== undefined ? { cause: event.cause } : {}),
  };
  const base = { id: event.id, previousEventId: event.id - 1, type: event.type, timestamp: timestamp(event.timestamp) };
  if (event.type.endsWith('StateEntered'))
    return { ...base, stateEnteredEventDetails: { name: event.stateName, ...data('input') } };
  if (event.type.endsWith('StateExited'))
    return { ...base, stateExitedEventDetails: { name: event.stateName, ...data('output') } };
  switch (event.type) {
    case 'ExecutionStarted':
      return { ...base, executionStartedEventDetails: { ...data('input') } };
    case 'ExecutionSucceeded':
      return { ...base, executionSucceededEventDetails: { ...data('output') } };
    case 'ExecutionFailed':
      return { ...base, executionFailedEventDetails: failure };
    case 'ExecutionAborted':
      return { ...base, executionAbortedEventDetails: failure };
    case 'ExecutionTimedOut':
      return { ...base, executionTimedOutEventDetails: failure };
    case 'TaskFailed':
      return { ...base, taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', ...failure } };
    case 'TaskTimedOut':
      return { ...base, taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke', ...failure } };
    default:
      return base;
  }
}

/** `maxResults` (1-1000, default 100) and `nextToken` (the offset, as this service hands it out). */
function page<T>(items: readonly T[], request: JsonObject, shape: (item: T) => object, key: string): object {
  const maxResults =
    typeof request.maxResults === 'number' && request.maxResults > 0 ? Math.min(request.maxResults, 1000) : 100;
  const nextToken = optionalString(request, 'nextToken');
  const offset = nextToken === undefined ? 0 : Number(nextToken);
  if (!Number.isInteger(offset) || offset < 0 || offset > items.length)
    throw new SfnServiceError('InvalidToken', 'Invalid nextToken');
  const end = offset + maxResults;
  return { [key]: items.slice(offset, end).map(shape), ...(end < items.length ? { nextToken: String(end) } : {}) };
}

function token(request: JsonObject): string {
  const value = requiredString(request, 'taskToken');
  if (value.length < 1 || value.length > 2048) throw new SfnServiceError('InvalidToken', 'Invalid Token');
  return value;
}

function parsePayload(text: string, errorCode: string, field: string): Json {
  if (Buffer.byteLength(text, 'utf8') > MAX_PAYLOAD_BYTES)
    throw new SfnServiceError(errorCode, `${field} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new SfnServiceError(errorCode, `${field} is not valid JSON`);
  }
}

function requiredString(request: JsonObject, field: string): string {
  const value = request[field];
  if (typeof value !== 'string')
    throw new SfnServiceError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function optionalString(request: JsonObject, field: string): string | undefined {
  const value = request[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SfnServiceError('ValidationException', `'${field}' must be a string`);
  return value;
}
