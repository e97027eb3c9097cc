/**
 * Runs poolgate's Lambda handlers in this process, the way the Lambda service would: the event and
 * the result cross a JSON boundary, each call gets a context with a deadline, and a thrown error
 * keeps its name (Step Functions matches Retry and Catch on it).
 */
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { FUNCTION_ENTRIES, type FunctionId } from '../contracts/functions';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const DEFAULT_TIMEOUT_MS = 30_000;
const loaded = new Map<FunctionId, Promise<Handler>>();

function load(functionId: FunctionId): Promise<Handler> {
  let handler = loaded.get(functionId);
  if (!handler) {
    handler = import(`../${FUNCTION_ENTRIES[functionId]}`).then(
      (module: { handler?: Handler; default?: { handler?: Handler } }) => {
        // A CommonJS module imported from ESM may expose its exports only under `default`.
        const exported = module.handler ?? module.default?.handler;
        if (typeof exported !== 'function') throw new Error(`${FUNCTION_ENTRIES[functionId]} exports no handler`);
        return exported;
      },
    );
    loaded.set(functionId, handler);
  }
  return handler;
}

export function isFunctionId(value: string): value is FunctionId {
  return Object.hasOwn(FUNCTION_ENTRIES, value);
}

export async function invokeFunction(
  functionId: FunctionId,
  event: unknown,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<unknown> {
  const handler = await load(functionId);
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName: `poolgate-${functionId}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:poolgate-${functionId}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/poolgate-${functionId}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } satisfies Context;
  const result = await handler(JSON.parse(JSON.stringify(event ?? null)), context);
  return result === undefined ? null : JSON.parse(JSON.stringify(result));
}
