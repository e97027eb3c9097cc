/**
 * Slack request signing (api.slack.com/authentication/verifying-requests-from-slack): `v0=` + hex
 * HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the app's signing secret. Requests older than five
 * minutes are refused, so a captured request cannot be replayed later.
 */
import { hmac, sameSignature } from './signing';

export const MAX_SLACK_REQUEST_AGE_SECONDS = 300;

export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${hmac(signingSecret, `v0:${timestamp}:${rawBody}`, 'hex')}`;
}

export type SlackVerification = { ok: true } | { ok: false; reason: string };

export function verifySlackRequest(
  signingSecret: string,
  headers: { signature?: string; timestamp?: string },
  rawBody: string,
  now: Date = new Date(),
): SlackVerification {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp || !/^\d+$/.test(timestamp))
    return { ok: false, reason: 'missing Slack signature headers' };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > MAX_SLACK_REQUEST_AGE_SECONDS)
    return { ok: false, reason: 'Slack request timestamp is too old' };
  return sameSignature(slackSignature(signingSecret, timestamp, rawBody), signature)
    ? { ok: true }
    : { ok: false, reason: 'Slack signature mismatch' };
}
