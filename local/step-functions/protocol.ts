/**
 * The AWS JSON 1.0 protocol as Step Functions speaks it: `POST /` with
 * `X-Amz-Target: AWSStepFunctions.<Operation>` and a JSON body; answers are JSON
 * (`application/x-amz-json-1.0`), timestamps are epoch seconds.
 *
 * Errors are HTTP 400 with `{"__type": "com.amazonaws.sfn#<Code>", "message": ...}`. The SDK
 * (@aws-sdk/client-sfn) takes the code after the `#` as the error's `name` and builds the modelled
 * exception class (TaskDoesNotExist, ExecutionAlreadyExists, ...) from it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonObject, type JsonObject } from './json';

const TARGET_PREFIX = 'AWSStepFunctions.';
/** Far above what a request may hold on AWS (256 KiB of input plus the envelope). */
const MAX_BODY_BYTES = 1024 * 1024;

/** An error the service answers with, by its Step Functions error code. */
export class SfnServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export type Operation = (request: JsonObject) => Promise<object> | object;

export async function serveJsonProtocol(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Readonly<Record<string, Operation>>,
): Promise<void> {
  const requestId = randomUUID();
  const send = (status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId });
    res.end(JSON.stringify(body));
  };
  try {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation =
      req.method === 'POST' && target.startsWith(TARGET_PREFIX)
        ? operations[target.slice(TARGET_PREFIX.length)]
        : undefined;
    if (!operation)
      throw new SfnServiceError(
        'UnknownOperationException',
        `${target || 'a request without X-Amz-Target'} is not served by the local Step Functions`,
      );
    send(200, await operation(parseRequest(body)));
  } catch (error) {
    if (error instanceof SfnServiceError) {
      send(error.status, { __type: `com.amazonaws.sfn#${error.code}`, message: error.message });
      return;
    }
    process.stderr.write(
      `step functions emulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    send(500, { __type: 'com.amazonaws.sfn#InternalFailure', message: 'internal failure of the local Step Functions' });
  }
}

/** Epoch milliseconds as the protocol's timestamps (epoch seconds). */
export function timestamp(epochMs: number): number {
  return epochMs / 1000;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw new SfnServiceError('ValidationException', `request body larger than ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseRequest(body: string): JsonObject {
  if (!body.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SfnServiceError('SerializationException', 'the request body is not JSON');
  }
  if (!isJsonObject(parsed))
    throw new SfnServiceError('SerializationException', 'the request body is not a JSON object');
  return parsed;
}
