/**
 * The local outbox read back: the e-mails the SESv2 stand-in wrote (`$POOLGATE_HOME/outbox/*.eml`),
 * newest first, with their bodies decoded. The files are quoted-printable (`=3D`, soft line breaks),
 * so a link copied out of a raw file is broken; these links are whole. Served at `GET /_local/outbox`
 * and shown by `poolgate outbox`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Mount } from './http-api';

export const OUTBOX_PATH = '/_local/outbox';

export interface OutboxEntry {
  /** The file under the outbox directory. */
  readonly file: string;
  /** ISO 8601, from the file name (the stand-in names files by the time they were sent). */
  readonly sentAt: string;
  readonly to: string;
  readonly subject: string;
  /** Every distinct link of the message, decoded (approval links, request pages). */
  readonly links: readonly string[];
  /** The plain-text body, decoded. */
  readonly text: string;
}

/** RFC 2047 `=?UTF-8?B?...?=` / `?Q?` words of a header, decoded. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

export function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Headers (unfolded) and the decoded text/plain and text/html parts of one RFC 822 message. */
export function parseMail(raw: string): { headers: Record<string, string>; text: string; html: string } {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  const body = rest.join('\n\n');
  const boundaries = body.split(/\r?\n--[^\r\n]+/);
  // A single-part message: its own headers say how the body is encoded.
  const single = `Content-Type: ${headers['content-type'] ?? ''}\nContent-Transfer-Encoding: ${
    headers['content-transfer-encoding'] ?? '7bit'
  }\n\n${body}`;
  const mimeParts = boundaries.length > 1 ? boundaries : [single];
  let text = '';
  let html = '';
  for (const part of mimeParts) {
    const split = /\r?\n\r?\n/.exec(part);
    if (!split) continue;
    const partHead = part.slice(0, split.index);
    const partBody = part.slice(split.index + split[0].length);
    const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(partHead)?.[1]?.toLowerCase();
    const decoded =
      encoding === 'quoted-printable'
        ? decodeQuotedPrintable(partBody)
        : encoding === 'base64'
          ? Buffer.from(partBody.replace(/\s/g, ''), 'base64').toString('utf8')
          : partBody;
    if (/content-type:\s*text\/html/i.test(partHead)) html += decoded;
    else if (/content-type:\s*text\/plain/i.test(partHead)) text += decoded;
  }
  return { headers, text: text.replace(/\r\n/g, '\n').trim(), html };
}

/** `2026-12-06T14-03-05.123Z-<id>.eml` -> `2026-12-06T14:03:05.123Z`. */
function sentAtOf(file: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2})[-:](\d{2})[-:](\d{2}(?:\.\d+)?Z)/.exec(file);
  return match ? `${match[1]}:${match[2]}:${match[3]}` : '';
}

/** The outbox's e-mails, newest first. */
export function readOutboxDir(dir: string): OutboxEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .reverse()
    .map((file) => {
      const { headers, text, html } = parseMail(readFileSync(join(dir, file), 'utf8'));
      const links = [
        ...new Set(`${text}\n${html}`.match(/https?:\/\/[^\s"'<>]+/g)?.map((l) => l.replace(/&amp;/g, '&')) ?? []),
      ];
      return {
        file,
        sentAt: sentAtOf(file),
        to: headers.to ?? '',
        subject: headers.subject ?? '',
        links,
        text,
      };
    });
}

/** `GET /_local/outbox[?to=<email>&limit=<n>]`: `{"mails": [...]}`, newest first (default 20). */
export function outboxMount(dir: string): Mount {
  return {
    prefix: OUTBOX_PATH,
    handle: async (req: IncomingMessage, res: ServerResponse) => {
      const query = new URL(req.url ?? '/', 'http://local').searchParams;
      const to = query.get('to')?.toLowerCase();
      const limit = Math.min(Math.max(Number(query.get('limit')) || 20, 1), 500);
      const mails = readOutboxDir(dir)
        .filter((m) => !to || m.to.toLowerCase().includes(to))
        .slice(0, limit);
      res.writeHead(req.method === 'GET' ? 200 : 405, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(
        JSON.stringify(
          req.method === 'GET'
            ? { outbox: dir, mails }
            : { error_code: 'PoolGate.0405', error_msg: `${OUTBOX_PATH} answers GET only` },
        ),
      );
      await Promise.resolve();
    },
  };
}
