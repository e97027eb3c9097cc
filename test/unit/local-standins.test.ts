/**
 * The Secrets Manager and SESv2 stand-ins, mounted on a real local HTTP API and called by the real
 * AWS SDK v3 clients, as the handlers call them.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { BadRequestException, SendEmailCommand, SESv2Client, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTES } from '../../contracts/routes';
import { secretsManagerMount } from '../../local/aws-standins/secrets-manager';
import { encodeWords, quotedPrintable, renderMessage } from '../../local/aws-standins/rfc822';
import { sesv2Mount, type SentMail } from '../../local/aws-standins/sesv2';
import { startHttpApi, type HttpApi } from '../../local/http-api';
import { outboxDir } from '../../local/paths';

const SECRETS_PREFIX = '/_aws/secretsmanager';
const SES_PREFIX = '/_aws/sesv2';
const SECRETS: Record<string, string> = {
  'poolgate/link-signing-key': 'k3y',
  'poolgate/modelarts-credentials': JSON.stringify({ accessKey: 'AK', secretKey: 'SK' }),
};
const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

let home: string;
let api: HttpApi;
let sent: SentMail[];

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'poolgate-standins-'));
  sent = [];
  api = await startHttpApi({
    port: 0,
    routes: ROUTES,
    invoke: async () => ({ statusCode: 500 }),
    mounts: [
      secretsManagerMount(SECRETS_PREFIX, (id) => SECRETS[id]),
      sesv2Mount(SES_PREFIX, outboxDir(home), (mail) => sent.push(mail)),
    ],
  });
});

afterEach(async () => {
  await api.close();
  rmSync(home, { recursive: true, force: true });
});

describe('Secrets Manager stand-in', () => {
  const client = () => new SecretsManagerClient({ ...clientConfig, endpoint: `${api.url}${SECRETS_PREFIX}` });

  it('answers GetSecretValue with the secret and its metadata', async () => {
    const secret = await client().send(new GetSecretValueCommand({ SecretId: 'poolgate/modelarts-credentials' }));
    expect(secret).toMatchObject({
      Name: 'poolgate/modelarts-credentials',
      SecretString: SECRETS['poolgate/modelarts-credentials'],
      VersionStages: ['AWSCURRENT'],
    });
    expect(secret.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:000000000000:secret:poolgate\/modelarts-credentials-[A-Za-z0-9]{6}$/,
    );
    expect(secret.VersionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(secret.CreatedDate).toBeInstanceOf(Date);

    // The ARN it gave names the same secret.
    const byArn = await client().send(new GetSecretValueCommand({ SecretId: secret.ARN }));
    expect(byArn.SecretString).toBe(secret.SecretString);
  });

  it('raises ResourceNotFoundException for an unknown secret', async () => {
    const error = await client()
      .send(new GetSecretValueCommand({ SecretId: 'poolgate/nope' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
  });

  it('is reached through AWS_ENDPOINT_URL_SECRETS_MANAGER, as the handlers reach it', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `${api.url}${SECRETS_PREFIX}`;
    try {
      const secret = await new SecretsManagerClient(clientConfig).send(
        new GetSecretValueCommand({ SecretId: 'poolgate/link-signing-key' }),
      );
      expect(secret.SecretString).toBe('k3y');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
    }
  });

  it('refuses other operations with the AWS JSON error shape', async () => {
    const response = await fetch(`${api.url}${SECRETS_PREFIX}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.DeleteSecret' },
      body: '{"SecretId":"poolgate/link-signing-key"}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ __type: 'UnknownOperationException', message: expect.any(String) });
  });
});

// --- a small RFC 822 / MIME reader, enough to check what a mail client would see ---------------

interface ParsedEntity {
  readonly headers: Record<string, string>;
  readonly body: string;
}

function parseEntity(raw: string): ParsedEntity {
  const end = raw.indexOf('\r\n\r\n');
  expect(end).toBeGreaterThan(0);
  const headers: Record<string, string> = {};
  // Unfolding removes the CRLF before the continuation's white space (RFC 5322 2.2.3).
  for (const line of raw
    .slice(0, end)
    .replace(/\r\n(?=[ \t])/g, '')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: raw.slice(end + 4) };
}

/** RFC 2047: white space between two encoded-words is not part of the text. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/gi, (_, data: string) => Buffer.from(data, 'base64').toString('utf8'));
}

function decodeQuotedPrintable(encoded: string): string {
  const joined = encoded.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=') {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(joined.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function multipartParts(entity: ParsedEntity): ParsedEntity[] {
  const boundary = /boundary="([^"]+)"/.exec(entity.headers['content-type'])?.[1];
  expect(boundary).toBeDefined();
  const sections = entity.body.split(`--${boundary}`);
  expect(sections.at(-1)).toBe('--\r\n');
  return sections.slice(1, -1).map((section) => parseEntity(section.replace(/^\r\n/, '').replace(/\r\n$/, '')));
}

function outboxFiles(): string[] {
  return readdirSync(outboxDir(home)).sort();
}

describe('SESv2 stand-in', () => {
  const client = () => new SESv2Client({ ...clientConfig, endpoint: `${api.url}${SES_PREFIX}` });
  const text =
    'Hello Zoë,\n\napprove: https://poolgate.example/approvals/r-1.0?approver=bob%40example.com&sig=abc=\n' +
    'long line '.repeat(20);
  const html =
    '<p>Hello Zoë, <a href="https://poolgate.example/approvals/r-1.0?approver=bob%40example.com&amp;sig=abc=">approve</a></p>';
  const subject = 'Approval needed: node pool «np-1» for team Ærø';

  const simpleMail: SendEmailCommandInput = {
    FromEmailAddress: 'poolgate <poolgate@example.com>',
    Destination: { ToAddresses: ['bob@example.com', 'Zoë Ünal <zoe@example.com>'], CcAddresses: ['audit@example.com'] },
    ReplyToAddresses: ['ops@example.com'],
    Content: {
      Simple: { Subject: { Data: subject, Charset: 'UTF-8' }, Body: { Text: { Data: text }, Html: { Data: html } } },
    },
  };

  it('writes a SendEmail message as one RFC 822 file with both parts', async () => {
    const { MessageId } = await client().send(new SendEmailCommand(simpleMail));
    expect(MessageId).toEqual(expect.any(String));

    const files = outboxFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}Z-${MessageId}\\.eml$`));
    const raw = readFileSync(join(outboxDir(home), files[0]), 'utf8');
    expect(raw.split('\r\n').every((line) => line.length <= 998 && !line.includes('\n'))).toBe(true);
    // Headers are 7-bit ASCII; the non-ASCII text is encoded.
    // eslint-disable-next-line no-control-regex -- 7-bit ASCII includes the control characters
    expect(/^[\x00-\x7f]*$/.test(raw)).toBe(true);

    const message = parseEntity(raw);
    expect(message.headers.from).toBe('poolgate <poolgate@example.com>');
    expect(decodeWords(message.headers.to)).toBe('bob@example.com, Zoë Ünal <zoe@example.com>');
    expect(message.headers.cc).toBe('audit@example.com');
    expect(message.headers['reply-to']).toBe('ops@example.com');
    expect(decodeWords(message.headers.subject)).toBe(subject);
    expect(Math.abs(Date.parse(message.headers.date) - Date.now())).toBeLessThan(60_000);
    expect(message.headers['message-id']).toBe(`<${MessageId}@poolgate.local>`);
    expect(message.headers['mime-version']).toBe('1.0');
    expect(message.headers['content-type']).toMatch(/^multipart\/alternative; boundary="/);

    const parts = multipartParts(message);
    expect(parts.map((p) => p.headers['content-type'])).toEqual([
      'text/plain; charset=UTF-8',
      'text/html; charset=UTF-8',
    ]);
    for (const part of parts) {
      expect(part.headers['content-transfer-encoding']).toBe('quoted-printable');
      expect(part.body.split('\r\n').every((line) => line.length <= 76)).toBe(true);
    }
    expect(decodeQuotedPrintable(parts[0].body)).toBe(text.replace(/\n/g, '\r\n'));
    expect(decodeQuotedPrintable(parts[1].body)).toBe(html);

    expect(sent).toEqual([
      expect.objectContaining({
        messageId: MessageId,
        subject,
        to: ['bob@example.com', 'Zoë Ünal <zoe@example.com>'],
        file: join(outboxDir(home), files[0]),
      }),
    ]);
    expect(sent[0].links).toContain('https://poolgate.example/approvals/r-1.0?approver=bob%40example.com&sig=abc=');
  });

  it('writes a text-only message as a single text/plain part', async () => {
    await client().send(
      new SendEmailCommand({
        ...simpleMail,
        Content: { Simple: { Subject: { Data: 'plain' }, Body: { Text: { Data: 'just text' } } } },
      }),
    );
    const message = parseEntity(readFileSync(join(outboxDir(home), outboxFiles()[0]), 'utf8'));
    expect(message.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(decodeQuotedPrintable(message.body)).toBe('just text\r\n');
  });

  it('writes a raw message byte for byte', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: raw\r\n\r\n'),
      Buffer.from([0xff, 0x00, 0x80]),
      Buffer.from('\r\n'),
    ]);
    await client().send(new SendEmailCommand({ Content: { Raw: { Data: raw } } }));
    const files = outboxFiles();
    expect(files).toHaveLength(1);
    expect(readFileSync(join(outboxDir(home), files[0]))).toEqual(raw);
    expect(sent[0]).toMatchObject({ to: ['b@example.com'], subject: 'raw' });
  });

  it.each<[string, SendEmailCommandInput]>([
    ['no content', { FromEmailAddress: 'a@example.com', Destination: { ToAddresses: ['b@example.com'] }, Content: {} }],
    ['no body', { ...simpleMail, Content: { Simple: { Subject: { Data: 's' }, Body: {} } } }],
    ['no sender', { ...simpleMail, FromEmailAddress: undefined }],
    ['no recipient', { ...simpleMail, Destination: { ToAddresses: [] } }],
    [
      'a header injected through an address',
      { ...simpleMail, Destination: { ToAddresses: ['b@example.com\r\nBcc: evil@example.com'] } },
    ],
  ])('raises BadRequestException for %s and writes nothing', async (_, input) => {
    const error = await client()
      .send(new SendEmailCommand(input))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(readdirSync(home)).not.toContain('outbox');
  });

  it('is reached through AWS_ENDPOINT_URL_SESV2, as the handlers reach it', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_SESV2;
    process.env.AWS_ENDPOINT_URL_SESV2 = `${api.url}${SES_PREFIX}`;
    try {
      await new SESv2Client(clientConfig).send(new SendEmailCommand(simpleMail));
      expect(outboxFiles()).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SESV2;
      else process.env.AWS_ENDPOINT_URL_SESV2 = saved;
    }
  });

  it('leaves only complete .eml files in the outbox when messages are sent at once', async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => client().send(new SendEmailCommand(simpleMail))));
    const files = outboxFiles();
    expect(files).toHaveLength(10);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    expect(new Set(ids.map((r) => r.MessageId)).size).toBe(10);
  });
});

describe('RFC 822 rendering', () => {
  it('quoted-printable round-trips any text, in lines of at most 76 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        const encoded = quotedPrintable(text);
        expect(encoded.split('\r\n').every((line) => line.length <= 76 && !/[ \t]$/.test(line))).toBe(true);
        expect(decodeQuotedPrintable(encoded)).toBe(text.replace(/\r\n|\r|\n/g, '\r\n'));
      }),
    );
  });

  it('encoded-words round-trip any header text, each word within 75 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const encoded = encodeWords(text);
        expect(encoded.split(/\r\n /).every((word) => word.length <= 75 || !word.startsWith('=?'))).toBe(true);
        // The only line breaks are folds (CRLF + space): nothing can start a new header.
        expect(/[\r\n]/.test(encoded.replace(/\r\n /g, ''))).toBe(false);
        expect(decodeWords(encoded)).toBe(text);
      }),
    );
  });

  it('cannot be broken out of by a subject with line breaks', () => {
    const raw = renderMessage({
      from: 'a@example.com',
      to: ['b@example.com'],
      subject: 'hi\r\nBcc: evil@example.com',
      text: 'x',
      date: new Date(0),
      messageId: 'm@x',
    });
    const message = parseEntity(raw);
    expect(message.headers.bcc).toBeUndefined();
    expect(decodeWords(message.headers.subject)).toBe('hi\r\nBcc: evil@example.com');
  });
});
