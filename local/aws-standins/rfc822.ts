/**
 * Renders a simple e-mail as an RFC 5322 / MIME message that any mail client opens: CRLF line
 * ends, non-ASCII header text as RFC 2047 encoded-words, bodies in UTF-8 quoted-printable, and a
 * multipart/alternative body when there is both a text and an HTML version.
 */
import { randomBytes } from 'node:crypto';

export interface SimpleMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly cc?: readonly string[];
  /** Kept in the file: the outbox is the sender's copy, which shows who else got the message. */
  readonly bcc?: readonly string[];
  readonly replyTo?: readonly string[];
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
  /** Further headers (SESv2 `Content.Simple.Headers`). */
  readonly headers?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly date: Date;
  /** Without angle brackets, e.g. `0100...@poolgate.local`. */
  readonly messageId: string;
}

const CRLF = '\r\n';
/** RFC 5322 2.1.1: a line MUST NOT be longer than 998 characters. */
const MAX_LINE = 998;
/** 39 bytes make 52 base64 characters: `Subject: ` plus one encoded-word stays under 78 columns. */
const ENCODED_WORD_BYTES = 39;

function needsEncoding(value: string): boolean {
  return !/^[\x20-\x7e]*$/.test(value) || value.includes('=?') || value.length > MAX_LINE - 100;
}

/** RFC 2047 `B` encoded-words, split between characters (never inside one), folded onto lines. */
export function encodeWords(value: string): string {
  if (!needsEncoding(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const char of value) {
    if (Buffer.byteLength(chunk + char) > ENCODED_WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk || words.length === 0) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** `Name <a@b>` with a non-ASCII display name encoded; a bare address as it is. */
export function formatAddress(address: string): string {
  const named = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(address);
  if (!named) return address.trim();
  const name = named[1].replace(/^"(.*)"$/, '$1');
  if (!name) return `<${named[2]}>`;
  return needsEncoding(name) ? `${encodeWords(name)} <${named[2]}>` : `${named[1]} <${named[2]}>`;
}

/**
 * `Name: a, b, c`. Folded only before RFC 5322's hard limit of 998 columns (not the recommended
 * 78), so that line-based readers of the outbox (grep, the e2e tests' helper) see every recipient.
 */
function addressHeader(name: string, addresses: readonly string[]): string {
  let header = `${name}:`;
  let column = header.length;
  for (const [i, address] of addresses.map(formatAddress).entries()) {
    const separator = i === 0 ? ' ' : ', ';
    if (i > 0 && column + separator.length + address.length > MAX_LINE) {
      header += `,${CRLF} ${address}`;
      column = 1 + address.length;
    } else {
      header += `${separator}${address}`;
      column += separator.length + address.length;
    }
  }
  return header;
}

/**
 * Quoted-printable (RFC 2045 6.7) of UTF-8 text: line breaks become CRLF, lines are soft-broken at
 * 76 columns without splitting an `=XX` escape, and trailing blanks are escaped.
 */
export function quotedPrintable(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      const out: string[] = [];
      let current = '';
      for (const [i, byte] of bytes.entries()) {
        const literal =
          (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && i < bytes.length - 1);
        const token = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
        if (current.length + token.length > 75) {
          out.push(`${current}=`);
          current = '';
        }
        current += token;
      }
      out.push(current);
      return out.join(CRLF);
    })
    .join(CRLF);
}

function textPart(mediaType: string, content: string): string {
  return [
    `Content-Type: ${mediaType}; charset=UTF-8`,
    'Content-Transfer-Encoding: quoted-printable',
    '',
    quotedPrintable(content),
  ].join(CRLF);
}

/** RFC 5322 date, e.g. `Thu, 26 Nov 2026 20:35:31 +0000`. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}

export function renderMessage(message: SimpleMessage): string {
  const headers = [
    `From: ${formatAddress(message.from)}`,
    addressHeader('To', message.to),
    ...(message.cc?.length ? [addressHeader('Cc', message.cc)] : []),
    ...(message.bcc?.length ? [addressHeader('Bcc', message.bcc)] : []),
    ...(message.replyTo?.length ? [addressHeader('Reply-To', message.replyTo)] : []),
    `Subject: ${encodeWords(message.subject)}`,
    `Date: ${rfc5322Date(message.date)}`,
    `Message-ID: <${message.messageId}>`,
    ...(message.headers ?? []).map((h) => `${h.name}: ${encodeWords(h.value)}`),
    'MIME-Version: 1.0',
  ];
  const parts = [
    ...(message.text !== undefined ? [textPart('text/plain', message.text)] : []),
    ...(message.html !== undefined ? [textPart('text/html', message.html)] : []),
  ];
  if (parts.length === 0) parts.push(textPart('text/plain', ''));
  if (parts.length === 1) return `${headers.join(CRLF)}${CRLF}${parts[0]}${CRLF}`;
  // "=_" never occurs in quoted-printable output, so this boundary cannot collide with a body line.
  const boundary = `=_poolgate_${randomBytes(12).toString('hex')}`;
  const body = parts.map((part) => `--${boundary}${CRLF}${part}${CRLF}`).join('');
  return `${headers.join(CRLF)}${CRLF}Content-Type: multipart/alternative; boundary="${boundary}"${CRLF}${CRLF}${body}--${boundary}--${CRLF}`;
}
