/**
 * SESv2 stand-in: `SendEmail` (REST-JSON `POST /v2/email/outbound-emails`) writes each message as an
 * RFC 822 file to the outbox, so mail can be read, opened in a mail client, and tested offline.
 */
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Mount } from '../http-api';

export interface SentMail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly links: readonly string[];
  readonly file: string;
}

interface SendEmailRequest {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  ReplyToAddresses?: string[];
  Content?: {
    Simple?: { Subject?: { Data?: string }; Body?: { Text?: { Data?: string }; Html?: { Data?: string } } };
    Raw?: { Data?: string };
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** RFC 2047 encoded-word for a header value that is not plain ASCII. */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function base64Lines(text: string): string {
  return (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

export function renderRfc822(messageId: string, request: SendEmailRequest, date = new Date()): string {
  const simple = request.Content?.Simple;
  const boundary = `poolgate-${randomUUID()}`;
  const headers = [
    `From: ${request.FromEmailAddress ?? ''}`,
    `To: ${(request.Destination?.ToAddresses ?? []).join(', ')}`,
    ...(request.Destination?.CcAddresses?.length ? [`Cc: ${request.Destination.CcAddresses.join(', ')}`] : []),
    ...(request.ReplyToAddresses?.length ? [`Reply-To: ${request.ReplyToAddresses.join(', ')}`] : []),
    `Subject: ${encodeHeader(simple?.Subject?.Data ?? '')}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${messageId}@poolgate.local>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const parts = [
    ['text/plain', simple?.Body?.Text?.Data],
    ['text/html', simple?.Body?.Html?.Data],
  ]
    .filter((part): part is [string, string] => typeof part[1] === 'string')
    .map(([type, data]) => `--${boundary}\r\nContent-Type: ${type}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(data)}\r\n`);
  return `${headers.join('\r\n')}\r\n\r\n${parts.join('')}--${boundary}--\r\n`;
}

export function sesv2Mount(prefix: string, outboxDir: string, onMail?: (mail: SentMail) => void): Mount {
  return {
    prefix,
    handle: async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      if (req.method !== 'POST' || !req.url?.endsWith('/v2/email/outbound-emails')) {
        return reply(res, 404, { message: `${req.method} ${req.url} is not served locally` });
      }
      let request: SendEmailRequest;
      try {
        request = JSON.parse(body.toString('utf8')) as SendEmailRequest;
      } catch {
        return reply(res, 400, { message: 'body is not JSON' });
      }
      const to = request.Destination?.ToAddresses ?? [];
      if (!request.FromEmailAddress || to.length === 0 || !(request.Content?.Simple || request.Content?.Raw)) {
        res.setHeader('x-amzn-errortype', 'BadRequestException');
        return reply(res, 400, { message: 'FromEmailAddress, Destination.ToAddresses and Content are required' });
      }
      const messageId = randomUUID();
      const raw = request.Content.Raw?.Data ? Buffer.from(request.Content.Raw.Data, 'base64').toString('utf8') : renderRfc822(messageId, request);
      const file = join(outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${messageId}.eml`);
      writeFileSync(`${file}.tmp`, raw);
      renameSync(`${file}.tmp`, file);
      const text = request.Content.Simple?.Body?.Text?.Data ?? '';
      onMail?.({ to, subject: request.Content.Simple?.Subject?.Data ?? '', links: text.match(/https?:\/\/\S+/g) ?? [], file });
      reply(res, 200, { MessageId: messageId });
    },
  };
}
