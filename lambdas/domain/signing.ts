/**
 * The one HMAC-SHA256 helper behind poolgate's signed values: approval links and form tokens, request
 * page links, list cursors, and the check of Slack's request signature. Each use signs its own
 * message (a domain prefix such as `approval-link:v1`, then its fields), so a signature made for one
 * use is worthless for another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 of `message` under `key`: base64url (links, cursors) or hex (Slack's `v0=` signature). */
export function hmac(key: string, message: string, encoding: 'base64url' | 'hex' = 'base64url'): string {
  return createHmac('sha256', key).update(message).digest(encoding);
}

/** Whether `given` equals `expected`, in time that does not depend on where they differ. */
export function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
