/**
 * Maps a handler's result to the HTTP response, with API Gateway's rules for payload format 2.0:
 * a result without `statusCode` (any JSON value) is the body of a 200 `application/json` response;
 * a result with `statusCode` is a structured response whose `cookies` become `Set-Cookie` headers
 * and whose `body` is base64-decoded when `isBase64Encoded` is set.
 */
import type { ResponseHeaders } from './reply';

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: ResponseHeaders;
  readonly body: Buffer;
}

/** A structured result API Gateway could not use; it answers 500 and the error is in the logs. */
export class InvalidResultError extends Error {
  override readonly name = 'InvalidResultError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function structuredHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined || headers === null) return {};
  if (!isRecord(headers)) throw new InvalidResultError('headers must be an object');
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!['string', 'number', 'boolean'].includes(typeof value))
      throw new InvalidResultError(`header ${name} must be a string, number or boolean`);
    result[name.toLowerCase()] = String(value);
  }
  return result;
}

function structuredCookies(cookies: unknown): string[] {
  if (cookies === undefined || cookies === null) return [];
  if (!Array.isArray(cookies) || !cookies.every((c) => typeof c === 'string'))
    throw new InvalidResultError('cookies must be an array of strings');
  return cookies;
}

export function toHttpResponse(result: unknown): HttpResponse {
  if (!isRecord(result) || !('statusCode' in result)) {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(result ?? null)),
    };
  }
  const { statusCode, body, isBase64Encoded } = result;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new InvalidResultError(`statusCode must be an integer from 100 to 599, got ${JSON.stringify(statusCode)}`);
  }
  if (body !== undefined && body !== null && typeof body !== 'string')
    throw new InvalidResultError('body must be a string');
  const headers: ResponseHeaders = structuredHeaders(result.headers);
  const cookies = structuredCookies(result.cookies);
  if (cookies.length) {
    const fromHeaders = headers['set-cookie'];
    headers['set-cookie'] = [...cookies, ...(typeof fromHeaders === 'string' ? [fromHeaders] : [])];
  }
  return { statusCode, headers, body: Buffer.from(body ?? '', isBase64Encoded === true ? 'base64' : 'utf8') };
}
