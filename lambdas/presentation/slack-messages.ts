/**
 * Block Kit messages. A button carries only the approval id: who clicked comes from Slack's signed
 * payload, and the task token never leaves the table.
 */
import type { KnownBlock } from '@slack/web-api';
import type { SlackMessage } from '../adapters/slack';
import type { ApprovalRecord } from '../domain/approval';
import { describeChange } from '../domain/scale-change';
import type { PoolRequestRecord } from '../domain/pool-request';
import { decisionContext, decisionLine } from './decision-context';
import { requestFacts, type Price } from './request-summary';
import { readableTime } from './time';

export const SLACK_ACTIONS = { approve: 'poolgate_approve', reject: 'poolgate_reject' } as const;

/** Slack mrkdwn treats `&`, `<` and `>` as control characters. */
export function escapeMrkdwn(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value a message shows is printed as String() prints it
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** How messages present a request: price, time zone, the link to its page. */
export interface SlackContext {
  readonly price?: Price;
  readonly timeZone?: string;
  readonly requestPage?: string;
}

/** Slack caps a section's text at 3,000 characters. */
const MAX_SECTION_TEXT = 2900;

function clip(text: string): string {
  return text.length > MAX_SECTION_TEXT ? `${text.slice(0, MAX_SECTION_TEXT)}…` : text;
}

/**
 * The request's facts as section fields (Slack allows ten per section), then what the decision means
 * (quota before and after, price, decisions so far with comments), the justification, and the link
 * to the request's page.
 */
function summary(request: PoolRequestRecord, context: SlackContext): KnownBlock[] {
  // Slack shows at most ten fields: the project id (on the request's page) gives way to the lease.
  const fields = requestFacts(request, context.price)
    .filter(
      ([label, value]) =>
        value !== undefined &&
        ![
          'Request id',
          'Justification',
          'Estimated price',
          'Max count',
          ...(request.lease || request.extend ? ['Project'] : []),
        ].includes(label),
    )
    .map(([label, value]) => ({ type: 'mrkdwn' as const, text: `*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}` }));
  const blocks: KnownBlock[] = [{ type: 'section', fields: fields.slice(0, 10) }];
  const meaning = decisionContext(request, context.price);
  const when = (iso: string) => readableTime(iso, context.timeZone ?? 'UTC');
  const lines = [
    meaning.quota ? `*Quota*: ${escapeMrkdwn(meaning.quota)}` : undefined,
    meaning.price ? `*Estimated price*: ${escapeMrkdwn(meaning.price)}` : undefined,
    ...meaning.earlier.map((d) => `• ${escapeMrkdwn(decisionLine(d, when))}`),
  ].filter((line): line is string => line !== undefined);
  if (lines.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n')) } });
  if (request.justification)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Justification*\n${escapeMrkdwn(request.justification)}`) },
    });
  if (context.requestPage)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `<${context.requestPage}|The request's page>: its status and every step` }],
    });
  return blocks;
}

export function approvalRequestMessage(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  context: SlackContext = {},
  reminder = false,
): SlackMessage {
  const text = `${reminder ? 'Reminder: approval' : 'Approval'} needed (${approval.stageName}): ${request.change ? `scale node pool ${request.nodePoolName} ${describeChange(request.change)}, ${request.flavor}` : `node pool ${request.nodePoolName}, ${request.count} x ${request.flavor}`}, requested by ${request.requester}`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(text)}*` } },
    ...summary(request, context),
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
  context: SlackContext = {},
): SlackMessage {
  const votes = Object.entries(approval.votes).map(
    ([who, v]) =>
      `${who} ${v.vote === 'approve' ? 'approved' : 'rejected'} at ${readableTime(v.at, context.timeZone ?? 'UTC')}${v.comment ? `: "${v.comment}"` : ''}`,
  );
  const text = `Node pool ${request.nodePoolName} (${approval.stageName}): ${outcome}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(text)}*` } },
      ...summary(request, context),
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(escapeMrkdwn(votes.join('\n') || outcome)) }] },
    ],
  };
}
