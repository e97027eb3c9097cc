/** The AWS JSON 1.0 protocol as Step Functions speaks it: targets in, `__type` errors out. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export type Operation = (request: Record<string, unknown>) => Promise<unknown> | unknown;

export async function serveJsonProtocol(req: IncomingMessage, res: ServerResponse, operations: Record<string, Operation>): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.startsWith('AWSStepFunctions.') ? operations[target.slice('AWSStepFunctions.'.length)] : undefined;
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(body));
  };
  try {
    if (!operation) throw new SfnError('UnknownOperationException', `${target || 'no target'} is not served locally`);
    const request = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    send(200, (await operation(request)) ?? {});
  } catch (error) {
    if (error instanceof SfnError) return send(400, { __type: `com.amazonaws.sfn#${error.type}`, message: error.message });
    process.stderr.write(`step functions emulator: ${(error as Error).stack}\n`);
    send(500, { __type: 'com.amazonaws.sfn#InternalFailure', message: 'internal failure' });
  }
}
