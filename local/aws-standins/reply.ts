import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * A JSON reply as AWS services send it. Errors carry their type both in `x-amzn-errortype` and in
 * the body's `__type`: the SDK reads either, for the JSON and the REST-JSON protocols alike, and
 * raises the modelled exception class of that name.
 */
export function awsReply(res: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (typeof body === 'object' && body !== null && '__type' in body && typeof body.__type === 'string')
    headers['x-amzn-errortype'] = body.__type;
  res.writeHead(status, headers);
  res.end(text);
}

export function awsError(
  res: ServerResponse,
  status: number,
  contentType: string,
  type: string,
  message: string,
): void {
  awsReply(res, status, contentType, { __type: type, message });
}
