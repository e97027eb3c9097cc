/**
 * Huawei Cloud API Gateway AK/SK signing, `SDK-HMAC-SHA256`
 * (https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-algorithm-003.html and the pages
 * beside it), and its verification. Pure functions on node:crypto only, so the Lambda bundle stays small;
 * the local ModelArts simulator verifies with the same code.
 *
 *   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n hex(sha256(body))
 *   string to sign    = SDK-HMAC-SHA256 \n <X-Sdk-Date> \n hex(sha256(canonical request))
 *   signature         = hex(HMAC-SHA256(SK, string to sign))   (no key derivation, unlike AWS SigV4)
 *
 * This follows the documented algorithm. The official Node SDK's `AKSKSigner` agrees with it except
 * in edge cases that poolgate's own calls never produce (project ids, pool and node pool names are
 * plain; no query string); test/unit/modelarts-signer.test.ts pins each one:
 * - path: the SDK encodes the path as its URL parser leaves it, so a space or an already-encoded
 *   character (`%20`, `%2F`) is encoded twice (`%2520`). Here each segment is decoded, then encoded
 *   once, as API Gateway's own signers do: the wire form of the path does not change the signature.
 * - query: the SDK sorts raw names and raw values; here the encoded ones are sorted, as documented
 *   (they differ for characters such as `{` or `é`, whose encoded form sorts before letters).
 * - header values: the SDK signs them untrimmed; here they are trimmed, since HTTP drops surrounding
 *   whitespace on the way and the receiver can only see the trimmed value.
 * - header order: the SDK sorts canonical headers with `localeCompare` but SignedHeaders by code
 *   unit, which disagree for names with `_`; here both use code-unit order.
 * - host: the SDK keeps an explicit default port (`host:443`); here it is dropped, as documented.
 * `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` is not supported: the body is always hashed.
 */
import { createHash, createHmac } from 'node:crypto';
import { sameSignature } from '../../domain/signing';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';
/** API Gateway refuses a request whose X-Sdk-Date is further than this from its own clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** Headers that signing sets itself; a caller passing one of them is a bug. */
const SIGNING_HEADERS = new Set(['authorization', 'host', 'x-sdk-date', 'x-project-id', 'x-security-token']);

export interface SigningCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  /** Set for temporary credentials (IAM agency / STS); sent and signed as `X-Security-Token`. */
  readonly securityToken?: string;
}

export interface SignRequestInput extends SigningCredentials {
  /** Upper case, as sent (`fetch` does not upper-case `PATCH`). */
  readonly method: string;
  readonly url: URL | string;
  /** Headers to send besides the ones signing adds; every one is signed. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The exact body that will be sent: sign the same string (or bytes) you send. */
  readonly body?: string | Uint8Array;
  /** Sent and signed as `X-Project-Id` (sub-projects need it; the official SDK always sends it). */
  readonly projectId?: string;
  /** Signing time; now by default. */
  readonly date?: Date;
}

/**
 * The headers to send, names in lower case: the given ones (values trimmed) plus `host`,
 * `x-sdk-date`, `x-project-id` and `x-security-token` when given, and `authorization`.
 * `host` equals `new URL(url).host`, which is what fetch and node:http send by themselves.
 */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const url = new URL(input.url);
  const headers = callerHeaders(input.headers ?? {});
  headers.host = url.host;
  headers['x-sdk-date'] = formatSdkDate(input.date ?? new Date());
  if (input.projectId !== undefined) headers['x-project-id'] = input.projectId;
  if (input.securityToken !== undefined) headers['x-security-token'] = input.securityToken;

  const signedHeaders = Object.keys(headers).sort(compareCodeUnits);
  const canonical = canonicalRequest({
    method: input.method,
    path: url.pathname,
    query: url.search,
    headers,
    signedHeaders,
    body: input.body ?? '',
  });
  const signature = hmacHex(input.secretKey, stringToSign(headers['x-sdk-date'], canonical));
  return {
    ...headers,
    authorization: `${SIGNING_ALGORITHM} Access=${input.accessKey}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`,
  };
}

/** A request as the server received it, before any decoding. */
export interface ReceivedRequest {
  readonly method: string;
  /** The path as on the wire (percent-encoded), without the query. */
  readonly path: string;
  /** The query as on the wire, with or without the leading `?`; empty when there is none. */
  readonly query: string;
  /** Names in lower case, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: string | Uint8Array;
}

export type SignatureVerdict =
  { readonly ok: true; readonly accessKey: string } | { readonly ok: false; readonly reason: string };

const AUTHORIZATION = /^SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]{64})$/;

/**
 * Checks a received request as API Gateway does: a well-formed Authorization header, a known access
 * key, a signed X-Sdk-Date within 15 minutes of `now`, and the signature over what was received.
 * The reason never contains a key or a signature.
 */
export function verifySignature(
  request: ReceivedRequest,
  secretKeyFor: (accessKey: string) => string | undefined,
  now: Date = new Date(),
): SignatureVerdict {
  const match = AUTHORIZATION.exec(headerValue(request.headers.authorization) ?? '');
  if (!match) return { ok: false, reason: 'missing or malformed Authorization header' };
  const [, accessKey, signedList, signature] = match;
  const secretKey = secretKeyFor(accessKey);
  if (secretKey === undefined) return { ok: false, reason: 'unknown access key' };

  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('x-sdk-date')) return { ok: false, reason: 'X-Sdk-Date is not signed' };
  const headers = emptyRecord();
  for (const name of signedHeaders) {
    const value = headerValue(Object.hasOwn(request.headers, name) ? request.headers[name] : undefined);
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    headers[name] = value;
  }
  const signedAt = parseSdkDate(headers['x-sdk-date']);
  if (signedAt === undefined) return { ok: false, reason: 'X-Sdk-Date is not YYYYMMDDTHHMMSSZ' };
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS)
    return { ok: false, reason: 'X-Sdk-Date is more than 15 minutes off' };

  const canonical = canonicalRequest({ ...request, headers, signedHeaders });
  const expected = hmacHex(secretKey, stringToSign(headers['x-sdk-date'], canonical));
  return sameSignature(expected, signature) ? { ok: true, accessKey } : { ok: false, reason: 'signature mismatch' };
}

export interface CanonicalRequestInput {
  readonly method: string;
  /** Percent-encoded or not: each segment is decoded, then encoded once. */
  readonly path: string;
  /** With or without the leading `?`; `+` is a space (form encoding, as URLSearchParams reads it). */
  readonly query: string;
  /** Lower-case names; only the signed ones are read. */
  readonly headers: Readonly<Record<string, string>>;
  /** Lower-case names in the order they are listed in the Authorization header. */
  readonly signedHeaders: readonly string[];
  readonly body: string | Uint8Array;
}

/** The canonical request (step 1 of the algorithm), exported so tests can check each part. */
export function canonicalRequest(input: CanonicalRequestInput): string {
  const canonicalHeaders = input.signedHeaders
    .map((name) => `${name}:${(input.headers[name] ?? '').trim()}\n`)
    .join('');
  return [
    input.method,
    canonicalUri(input.path),
    canonicalQuery(input.query),
    canonicalHeaders,
    input.signedHeaders.join(';'),
    sha256Hex(input.body),
  ].join('\n');
}

/** `YYYYMMDDTHHMMSSZ` in UTC, the X-Sdk-Date format. */
export function formatSdkDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

function parseSdkDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  // Date.UTC rolls 20240231 over to March: only a date that formats back to itself is real.
  return formatSdkDate(date) === value ? date : undefined;
}

function stringToSign(sdkDate: string, canonical: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

/** Each segment decoded then RFC 3986-encoded; always ends with `/` (the sent path need not). */
function canonicalUri(path: string): string {
  const encoded = path
    .split('/')
    .map((segment) => rfc3986(decodeSegment(segment)))
    .join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/** Names and values encoded, sorted by name then value; an empty value keeps its `=`. */
function canonicalQuery(query: string): string {
  return [...new URLSearchParams(query)]
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) => compareCodeUnits(nameA, nameB) || compareCodeUnits(valueA, valueB))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** Everything but `A-Z a-z 0-9 - _ . ~` as `%XY` of its UTF-8 bytes, upper-case hex. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A segment that is not valid percent-encoding (a lone `%`) is taken literally, as URL parsers do. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Node joins repeated request headers; join lists the same way. */
function headerValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : undefined;
}

/** No prototype: header names come from the request, and `__proto__` must stay a plain key. */
function emptyRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function callerHeaders(given: Readonly<Record<string, string>>): Record<string, string> {
  const headers = emptyRecord();
  for (const [name, value] of Object.entries(given)) {
    const lower = name.toLowerCase();
    if (SIGNING_HEADERS.has(lower)) throw new TypeError(`header ${name} is set by signing, not by the caller`);
    if (lower in headers) throw new TypeError(`header ${name} is given twice`);
    headers[lower] = value.trim();
  }
  return headers;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmacHex(key: string, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}
