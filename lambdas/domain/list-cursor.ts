/**
 * List cursors: opaque to clients, tamper-proof. A cursor is the index position where the next page
 * starts (DynamoDB's last evaluated key), base64url JSON, followed by an HMAC (the link-signing key,
 * domain `list-cursor:v1`) over that position and the query it belongs to (viewer, scope, filter).
 * A changed cursor, or one replayed with another query or by another user, is refused with 400.
 */
import { BadQueryError } from './errors';
import { hmac, sameSignature } from './signing';

export type IndexPosition = Readonly<Record<string, string>>;

const MAX_CURSOR_CHARS = 2048;

function mac(body: string, queryIdentity: string, key: string): string {
  return hmac(key, `list-cursor:v1\n${queryIdentity}\n${body}`);
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
  if (!sameSignature(mac(body, queryIdentity, key), signature)) throw invalid();
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
