/**
 * Slack Web API stand-in (SLACK_API_URL): `chat.postMessage`, `chat.update` and `chat.postEphemeral`,
 * each call written as one JSON file (the Block Kit payload as sent) beside the e-mails in the outbox,
 * so the Slack flow can be tried and tested offline with the same code as on AWS.
 */
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

export const SLACK_STANDIN_PREFIX = '/_slack/api/';
const METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral']);

export interface SlackCall {
  readonly method: string;
  readonly payload: Record<string, unknown>;
}

function parse(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (String(req.headers['content-type'] ?? '').includes('application/json'))
    return JSON.parse(text || '{}') as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    // The SDK sends structured fields (blocks, attachments) as JSON strings.
    fields[name] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return fields;
}

export function slackStandinMount(outboxDir: string, onCall?: (call: SlackCall) => void) {
  let sequence = 0;
  return {
    prefix: SLACK_STANDIN_PREFIX,
    handle: async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      const reply = (payload: Record<string, unknown>) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      const method = (req.url ?? '').slice(SLACK_STANDIN_PREFIX.length).split('?')[0];
      if (!METHODS.has(method)) return reply({ ok: false, error: 'unknown_method' });
      if (!/^Bearer xox[bp]-/.test(String(req.headers.authorization ?? '')))
        return reply({ ok: false, error: 'not_authed' });
      let payload: Record<string, unknown>;
      try {
        payload = parse(req, body);
      } catch {
        return reply({ ok: false, error: 'invalid_json' });
      }
      if (!payload.channel) return reply({ ok: false, error: 'channel_not_found' });
      const file = join(
        outboxDir,
        `${new Date().toISOString().replace(/[:.]/g, '-')}-slack-${method}-${randomUUID()}.json`,
      );
      writeFileSync(`${file}.tmp`, JSON.stringify({ method, payload }, null, 2));
      renameSync(`${file}.tmp`, file);
      onCall?.({ method, payload });
      const ts =
        method === 'chat.update'
          ? String(payload.ts)
          : `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}`;
      reply({ ok: true, channel: payload.channel, ts, ...(method === 'chat.postEphemeral' ? { message_ts: ts } : {}) });
    },
  };
}
