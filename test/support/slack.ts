/** Slack interaction requests as Slack sends them: form-encoded `payload`, signed with the app's secret. */
import { slackSignature } from '../../lambdas/domain/slack-signature';
import type { RunningStack } from '../../local/harness/stack';

export const TEST_SLACK_SIGNING_SECRET = 'test-slack-signing-secret';

export function blockAction(
  userId: string,
  action: 'approve' | 'reject',
  approvalId: string,
  channel = 'D0TEST0001',
): string {
  const payload = {
    type: 'block_actions',
    user: { id: userId },
    channel: { id: channel },
    actions: [{ action_id: action === 'approve' ? 'poolgate_approve' : 'poolgate_reject', value: approvalId }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export async function postSlack(
  stack: RunningStack,
  body: string,
  options: { secret?: string; timestamp?: number } = {},
) {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const response = await fetch(`${stack.endpoints.api}/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(options.secret ?? TEST_SLACK_SIGNING_SECRET, timestamp, body),
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}
