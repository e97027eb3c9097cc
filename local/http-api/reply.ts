import type { ServerResponse } from 'node:http';

export type ResponseHeaders = Record<string, string | number | readonly string[]>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: ResponseHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** poolgate's error body (`{"error_code", "error_msg"}`, as ModelArts answers), used for the gateway's own errors too. */
export function sendError(res: ServerResponse, status: number, message: string, headers: ResponseHeaders = {}): void {
  sendJson(res, status, { error_code: `PoolGate.0${status}`, error_msg: message }, headers);
}
