/**
 * Block Kit messages. A button carries only the approval id: who clicked comes from Slack's signed
 * payload, and the task token never leaves the table.
 */
import type { KnownBlock } from '@slack/web-api';
import type { SlackMessage } from '../adapters/slack';
import type { ApprovalRecord } from '../domain/approval';
import type { PoolRequestRecord } from '../domain/pool-request';
import { requestFacts, type Price } from './request-summary';

export const SLACK_ACTIONS = { approve: 'poolgate_approve', reject: 'poolgate_reject' } as const;

/** Slack mrkdwn treats `&`, `<` and `>` as control characters. */
export function escapeMrkdwn(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value a message shows is printed as String() prints it
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** The request's facts as section fields (Slack allows ten per section), the justification as text. */
function summary(request: PoolRequestRecord, price?: Price): KnownBlock[] {
  const fields = requestFacts(request, price)
    .filter(([label, value]) => value !== undefined && label !== 'Request id' && label !== 'Justification')
    .map(([label, value]) => ({ type: 'mrkdwn' as const, text: `*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}` }));
  const blocks: KnownBlock[] = [{ type: 'section', fields: fields.slice(0, 10) }];
  if (request.justification)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Justification*\n${escapeMrkdwn(request.justification)}` },
    });
  return blocks;
}

export function approvalRequestMessage(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  price?: Price,
  reminder = false,
): SlackMessage {
  const text = `${reminder ? 'Reminder: approval' : 'Approval'} needed (${approval.stageName}): node pool ${request.nodePoolName}, ${request.count} x ${request.flavor}, requested by ${request.requester}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(text)}*` } },
    ...summary(request, price),
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          action_id: SLACK_ACTIONS.approve,
          value: approval.approvalId,
        },
        {
          type: 'button',
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
          action_id: SLACK_ACTIONS.reject,
          value: approval.approvalId,
        },
      ],
    },
  ];
  return { text, blocks };
}

/** The same message once the stage is settled: who decided what and when, without buttons. */
export function approvalClosedMessage(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  outcome: string,
  price?: Price,
): SlackMessage {
  const votes = Object.entries(approval.votes).map(
    ([who, v]) =>
      `${who} ${v.vote === 'approve' ? 'approved' : 'rejected'} at ${v.at}${v.comment ? `: "${v.comment}"` : ''}`,
  );
  const text = `Node pool ${request.nodePoolName} (${approval.stageName}): ${outcome}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(text)}*` } },
      ...summary(request, price),
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(votes.join('\n') || outcome) }] },
    ],
  };
}
