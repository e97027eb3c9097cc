/**
 * Slack Web API through @slack/web-api. The bot token comes from Secrets Manager; SLACK_API_URL
 * points the client at another server (the local stack's stand-in), nothing else changes.
 */
import type { KnownBlock, WebClient } from '@slack/web-api';
import type { SlackMessageRef } from '../domain/approval';

export interface SlackMessage {
  readonly text: string;
  readonly blocks: KnownBlock[];
}

export class Slack {
  private client: WebClient | undefined;

  constructor(
    private readonly botToken: () => Promise<string>,
    private readonly apiUrl?: string,
  ) {}

  /** Posts to a channel, or as a direct message when `channel` is a user id. */
  async post(channel: string, message: SlackMessage): Promise<SlackMessageRef> {
    const result = await (await this.web()).chat.postMessage({ channel, text: message.text, blocks: message.blocks });
    return { channel: String(result.channel ?? channel), ts: String(result.ts) };
  }

  async update(ref: SlackMessageRef, message: SlackMessage): Promise<void> {
    await (
      await this.web()
    ).chat.update({ channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks });
  }

  /** A message only `user` sees, in the channel where they clicked. */
  async ephemeral(channel: string, user: string, text: string): Promise<void> {
    await (await this.web()).chat.postEphemeral({ channel, user, text });
  }

  private async web(): Promise<WebClient> {
    if (this.client) return this.client;
    // Loaded on first use: @slack/web-api is CommonJS, which a bundler cannot tree-shake, so a
    // static import would put it into every handler that merely imports the wiring.
    const { WebClient } = await import('@slack/web-api');
    this.client = new WebClient(await this.botToken(), {
      ...(this.apiUrl ? { slackApiUrl: this.apiUrl.endsWith('/') ? this.apiUrl : `${this.apiUrl}/` } : {}),
      // A Lambda has seconds, not minutes: retry briefly, then let the caller decide.
      retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1000 },
      timeout: 5000,
    });
    return this.client;
  }
}
