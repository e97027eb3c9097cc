/**
 * Huawei Cloud API Gateway AK/SK signing, `SDK-HMAC-SHA256` (shared/reference/modelarts-api-notes.md
 * §1a): canonical request -> string to sign -> HMAC-SHA256 with the SK, no key derivation. Pure;
 * node:crypto only, so the Lambda bundle stays small. The simulator verifies with the same code.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'SDK-HMAC-SHA256';
/** API Gateway refuses a request whose X-Sdk-Date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface Credentials {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly securityToken?: string;
}

export interface RequestToSign {
  readonly method: string;
  readonly url: URL;
  /** Headers to send besides the ones signing adds; all are signed. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The exact body bytes that will be sent. */
  readonly body?: string;
}

/** RFC 3986 encoding: everything but `A-Z a-z 0-9 - _ . ~`, uppercase hex. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `YYYYMMDDTHHMMSSZ` in UTC. */
export function sdkDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function parseSdkDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Number.NaN;
}

function canonicalUri(pathname: string): string {
  const encoded = pathname
    .split('/')
    .map((segment) => rfc3986(safeDecode(segment)))
    .join('/');
  // Signed with a trailing slash whether or not the request has one.
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([an, av], [bn, bv]) => (an === bn ? compare(av, bv) : compare(an, bn)))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** The string whose HMAC is the signature; exposed for tests and for verification. */
export function stringToSign(method: string, url: URL, headers: Readonly<Record<string, string>>, signedHeaders: readonly string[], body: string): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${lower[name] ?? ''}\n`).join('');
  const payloadHash = lower['x-sdk-content-sha256'] === 'UNSIGNED-PAYLOAD' ? 'UNSIGNED-PAYLOAD' : sha256Hex(body);
  const canonicalRequest = [method.toUpperCase(), canonicalUri(url.pathname), canonicalQuery(url.searchParams), canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
  return `${ALGORITHM}\n${lower['x-sdk-date']}\n${sha256Hex(canonicalRequest)}`;
}

function hostHeader(url: URL): string {
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  return url.port && url.port !== defaultPort ? `${url.hostname}:${url.port}` : url.hostname;
}

/**
 * Returns the headers to send: the given ones plus `Host`, `X-Sdk-Date`, `X-Project-Id` (when
 * given), `X-Security-Token` (temporary credentials) and `Authorization`.
 */
export function signRequest(request: RequestToSign, credentials: Credentials, options: { date?: Date; projectId?: string } = {}): Record<string, string> {
  const headers: Record<string, string> = {
    ...request.headers,
    host: hostHeader(request.url),
    'x-sdk-date': sdkDate(options.date ?? new Date()),
    ...(options.projectId ? { 'x-project-id': options.projectId } : {}),
    ...(credentials.securityToken ? { 'x-security-token': credentials.securityToken } : {}),
  };
  const signedHeaders = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const signature = createHmac('sha256', credentials.secretKey)
    .update(stringToSign(request.method, request.url, headers, signedHeaders, request.body ?? ''))
    .digest('hex');
  return { ...headers, authorization: `${ALGORITHM} Access=${credentials.accessKey}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}` };
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: URL;
  /** Header names lowercased, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export type Verification = { ok: true; accessKey: string } | { ok: false; reason: string };

/** Verifies a received request's signature and date, as API Gateway does. */
export function verifySignature(request: ReceivedRequest, secretKeyOf: (accessKey: string) => string | undefined, now = new Date()): Verification {
  const match = /^SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]+)$/.exec(request.headers.authorization ?? '');
  if (!match) return { ok: false, reason: 'missing or malformed Authorization header' };
  const [, accessKey, signedList, signature] = match;
  const secretKey = secretKeyOf(accessKey);
  if (!secretKey) return { ok: false, reason: 'unknown access key' };
  const date = request.headers['x-sdk-date'] ?? '';
  const signedAt = parseSdkDate(date);
  if (Number.isNaN(signedAt)) return { ok: false, reason: 'missing or malformed X-Sdk-Date' };
  if (Math.abs(now.getTime() - signedAt) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'X-Sdk-Date is more than 15 minutes off' };
  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('x-sdk-date')) return { ok: false, reason: 'X-Sdk-Date must be signed' };
  const headers = Object.fromEntries(signedHeaders.map((h) => [h, request.headers[h] ?? '']));
  const expected = createHmac('sha256', secretKey).update(stringToSign(request.method, request.url, headers, signedHeaders, request.body)).digest('hex');
  const ok = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return ok ? { ok: true, accessKey } : { ok: false, reason: 'signature mismatch' };
}
