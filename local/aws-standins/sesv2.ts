/**
 * SESv2 stand-in: `SendEmail` (REST-JSON `POST <prefix>/v2/email/outbound-emails`, reached through
 * AWS_ENDPOINT_URL_SESV2 = `<api url><prefix>`) writes each message as an RFC 822 file
 * `<outbox>/<ISO time>-<message id>.eml`, so mail can be read, opened in a mail client and tested
 * offline. `Content.Simple` is rendered (text and/or HTML); `Content.Raw` is written byte for byte.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathBelow, type Mount } from '../http-api';
import { awsError, awsReply } from './reply';
import { renderMessage, type SimpleMessage } from './rfc822';

const CONTENT_TYPE = 'application/json';
const SEND_EMAIL_PATH = '/v2/email/outbound-emails';

/** What was sent, for a console line (the local stack prints links so a user can click them). */
export interface SentMail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly links: readonly string[];
  readonly file: string;
  readonly messageId: string;
}

class BadRequest extends Error {}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalObject(parent: Json, key: string, path: string): Json | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new BadRequest(`${path}${key} must be an object`);
  return value;
}

function optionalString(parent: Json | undefined, key: string, path: string): string | undefined {
  const value = parent?.[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${path}${key} must be a string`);
  return value;
}

/** One mailbox (`a@b` or `Name <a@b>`): no control characters, so no header injection. */
function address(value: unknown, path: string): string {
  if (
    typeof value !== 'string' ||
    value.length > 320 ||
    // eslint-disable-next-line no-control-regex -- control characters are what it refuses
    /[\x00-\x1f\x7f]/.test(value) ||
    !/[^\s@<>]+@[^\s@<>]+/.test(value)
  ) {
    throw new BadRequest(`${path} is not a valid e-mail address: ${JSON.stringify(value)}`);
  }
  return value;
}

function addressList(parent: Json | undefined, key: string, path: string): string[] {
  const value = parent?.[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new BadRequest(`${path}${key} must be a list`);
  return value.map((item, i) => address(item, `${path}${key}[${i}]`));
}

function customHeaders(simple: Json): Array<{ name: string; value: string }> {
  const headers = simple.Headers;
  if (headers === undefined || headers === null) return [];
  if (!Array.isArray(headers)) throw new BadRequest('Content.Simple.Headers must be a list');
  return headers.map((header: unknown, i) => {
    const name = isObject(header) ? header.Name : undefined;
    const value = isObject(header) ? header.Value : undefined;
    if (
      typeof name !== 'string' ||
      !/^[\x21-\x39\x3b-\x7e]+$/.test(name) ||
      typeof value !== 'string' ||
      /[\r\n]/.test(value)
    ) {
      throw new BadRequest(`Content.Simple.Headers[${i}] needs a header Name and a one-line Value`);
    }
    return { name, value };
  });
}

interface Recipients {
  readonly to: string[];
  readonly cc: string[];
  readonly bcc: string[];
}

function recipients(request: Json): Recipients {
  const destination = optionalObject(request, 'Destination', '');
  return {
    to: addressList(destination, 'ToAddresses', 'Destination.'),
    cc: addressList(destination, 'CcAddresses', 'Destination.'),
    bcc: addressList(destination, 'BccAddresses', 'Destination.'),
  };
}

function simpleMessage(request: Json, simple: Json, messageId: string, date: Date): SimpleMessage {
  const from = optionalString(request, 'FromEmailAddress', '');
  if (from === undefined) throw new BadRequest('FromEmailAddress is required for Content.Simple');
  const { to, cc, bcc } = recipients(request);
  if (to.length + cc.length + bcc.length === 0) throw new BadRequest('Destination needs at least one address');
  const subject = optionalString(
    optionalObject(simple, 'Subject', 'Content.Simple.'),
    'Data',
    'Content.Simple.Subject.',
  );
  if (subject === undefined) throw new BadRequest('Content.Simple.Subject.Data is required');
  const body = optionalObject(simple, 'Body', 'Content.Simple.');
  const text = optionalString(
    optionalObject(body ?? {}, 'Text', 'Content.Simple.Body.'),
    'Data',
    'Content.Simple.Body.Text.',
  );
  const html = optionalString(
    optionalObject(body ?? {}, 'Html', 'Content.Simple.Body.'),
    'Data',
    'Content.Simple.Body.Html.',
  );
  if (text === undefined && html === undefined) throw new BadRequest('Content.Simple.Body needs Text or Html');
  return {
    from: address(from, 'FromEmailAddress'),
    to,
    cc,
    bcc,
    replyTo: addressList(request, 'ReplyToAddresses', ''),
    subject,
    text,
    html,
    headers: customHeaders(simple),
    date,
    messageId: `${messageId}@poolgate.local`,
  };
}

function rawBytes(raw: Json): Buffer {
  const data = raw.Data;
  // Blobs travel base64-encoded in JSON; Buffer.from ignores junk, so check the alphabet first.
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(data.replace(/\s/g, '')))
    throw new BadRequest('Content.Raw.Data must be base64');
  return Buffer.from(data, 'base64');
}

/** Reads a header of a raw message for the console line (unfolded, not decoded). */
function rawHeader(raw: Buffer, name: string): string | undefined {
  const head = raw
    .toString('utf8')
    .split(/\r?\n\r?\n/)[0]
    .replace(/\r?\n[ \t]+/g, ' ');
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head)?.[1];
}

/** Looks like an SES message id: a hex timestamp, a UUID, and a constant suffix. */
function newMessageId(date: Date): string {
  return `${date.getTime().toString(16).padStart(16, '0')}-${randomUUID()}-000000`;
}

/** Written beside the target and renamed, so a reader of the outbox never sees half a message. */
async function writeAtomically(file: string, content: Buffer): Promise<void> {
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, content, { flag: 'wx' });
  await rename(temp, file);
}

interface PreparedMail {
  readonly content: Buffer;
  readonly mail: Omit<SentMail, 'file'>;
}

/** Validates a SendEmail request and renders its message; throws BadRequest for bad input. */
function prepare(body: Buffer, messageId: string, date: Date): PreparedMail {
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequest('the request body is not JSON');
  }
  if (!isObject(request)) throw new BadRequest('the request body must be a JSON object');
  const content = optionalObject(request, 'Content', '');
  if (content && 'Template' in content) throw new BadRequest('Content.Template is not served by the local stand-in');
  const simple = content && optionalObject(content, 'Simple', 'Content.');
  const raw = content && optionalObject(content, 'Raw', 'Content.');
  if (simple && !raw) {
    const message = simpleMessage(request, simple, messageId, date);
    // Links as a reader would click them: from the text part, else from the HTML (unescaped).
    const source = message.text ?? (message.html ?? '').replace(/&amp;/g, '&');
    const links = source.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
    return {
      content: Buffer.from(renderMessage(message), 'utf8'),
      mail: { to: message.to, subject: message.subject, links: [...new Set(links)], messageId },
    };
  }
  if (raw && !simple) {
    const bytes = rawBytes(raw);
    const to = recipients(request).to;
    return {
      content: bytes,
      mail: {
        to: to.length ? to : [rawHeader(bytes, 'To') ?? ''],
        subject: rawHeader(bytes, 'Subject') ?? '',
        links: [],
        messageId,
      },
    };
  }
  throw new BadRequest('Content needs exactly one of Simple or Raw');
}

/**
 * @param prefix where the mount lives on the HTTP API, e.g. `/_aws/sesv2`
 * @param outboxDir where the `.eml` files go (created if missing)
 * @param onMail told about each message once its file is written
 */
export function sesv2Mount(prefix: string, outboxDir: string, onMail?: (mail: SentMail) => void): Mount {
  return {
    prefix,
    handle: async (req, res, body) => {
      if (req.method !== 'POST' || pathBelow(prefix, req.url) !== SEND_EMAIL_PATH) {
        return awsError(
          res,
          404,
          CONTENT_TYPE,
          'UnknownOperationException',
          `${req.method} ${req.url} is not served by the local stand-in (SendEmail only)`,
        );
      }
      const date = new Date();
      const messageId = newMessageId(date);
      let prepared: PreparedMail;
      try {
        prepared = prepare(body, messageId, date);
      } catch (error) {
        if (error instanceof BadRequest) return awsError(res, 400, CONTENT_TYPE, 'BadRequestException', error.message);
        throw error;
      }
      await mkdir(outboxDir, { recursive: true });
      const file = join(outboxDir, `${date.toISOString().replace(/:/g, '-')}-${messageId}.eml`);
      await writeAtomically(file, prepared.content);
      onMail?.({ ...prepared.mail, file });
      awsReply(res, 200, CONTENT_TYPE, { MessageId: messageId });
    },
  };
}
