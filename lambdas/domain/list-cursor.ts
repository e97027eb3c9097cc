/**
 * List cursors: opaque to clients, tamper-proof. A cursor is the index position where the next page
 * starts (DynamoDB's last evaluated key), base64url JSON, followed by an HMAC (the link-signing key,
 * domain `list-cursor:v1`) over that position and the query it belongs to (viewer, scope, filter).
 * A changed cursor, or one replayed with another query or by another user, is refused with 400.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BadQueryError } from './errors';

export type IndexPosition = Readonly<Record<string, string>>;

const MAX_CURSOR_CHARS = 2048;

function mac(body: string, queryIdentity: string, key: string): string {
  return createHmac('sha256', key).update(`list-cursor:v1\n${queryIdentity}\n${body}`).digest('base64url');
}

export function encodeCursor(position: IndexPosition, queryIdentity: string, key: string): string {
  const body = Buffer.from(JSON.stringify(position)).toString('base64url');
  return `${body}.${mac(body, queryIdentity, key)}`;
}

export function decodeCursor(cursor: string, queryIdentity: string, key: string): IndexPosition {
  const invalid = () =>
    new BadQueryError(
      'cursor: not a cursor poolgate issued for this query (use nextCursor as it was returned, with the same filters)',
    );
  if (cursor.length > MAX_CURSOR_CHARS) throw invalid();
  const [body, signature, ...rest] = cursor.split('.');
  if (!body || !signature || rest.length) throw invalid();
  const expected = Buffer.from(mac(body, queryIdentity, key));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
  const position = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
  if (
    !position ||
    typeof position !== 'object' ||
    Array.isArray(position) ||
    !Object.values(position).every((v) => typeof v === 'string')
  )
    throw invalid();
  return position as IndexPosition;
}
