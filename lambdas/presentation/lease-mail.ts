/** The messages of a lease: the reminders before its end, and the last notice when it ends. */
import type { MailMessage } from '../adapters/mailer';
import type { NodePoolRecord } from '../domain/nodepool-record';
import { escapeHtml, factsTable } from './html';
import { readableTime } from './time';

export interface LeaseNotice {
  readonly record: NodePoolRecord;
  /** `remind`: the end is near; `ended`: the lease has ended, the deletion comes at `deleteAt`. */
  readonly kind: 'remind' | 'ended';
  /** A reminder's point: how long before the end (`PT2H`). */
  readonly before?: string;
  /** When the notice is sent: a reminder states the time actually left from then to the end. */
  readonly now?: string;
  readonly endsAt: string;
  readonly deleteAt: string;
  readonly timeZone: string;
  /** The holder's personal extension link (absent in a channel message). */
  readonly extendLink?: string;
  readonly estimate?: string;
}

export function leaseHeadline(n: LeaseNotice): string {
  const { nodePoolName } = n.record;
  return n.kind === 'ended'
    ? `The lease of node pool ${nodePoolName} has ended: poolgate deletes it at ${readableTime(n.deleteAt, n.timeZone)}`
    : `The lease of node pool ${nodePoolName} ends in ${timeLeft(n)} (at ${readableTime(n.endsAt, n.timeZone)}): poolgate deletes it at ${readableTime(n.deleteAt, n.timeZone)}`;
}

/**
 * The time left until the end, from when the notice is sent (a late sweep, or a reminder point passed
 * during downtime, must not say "2 hours" when one is left); the reminder's point when the time of
 * sending is not known.
 */
function timeLeft(n: LeaseNotice): string {
  if (!n.now) return n.before ?? '';
  const seconds = Math.max(0, Math.floor((Date.parse(n.endsAt) - Date.parse(n.now)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const parts = [days ? `${days} d` : '', hours ? `${hours} h` : '', minutes % 60 ? `${minutes % 60} min` : ''];
  return parts.filter(Boolean).join(' ');
}

/** The CLI command that asks for an extension. */
export function extendCommand(createRequestId: string): string {
  return `npx poolgate extend ${createRequestId} --by P7D`;
}

export function leaseNoticeMail(to: string, n: LeaseNotice): MailMessage {
  const headline = leaseHeadline(n);
  const facts: Array<[string, unknown]> = [
    ['Node pool', `${n.record.projectId}/${n.record.poolName}/${n.record.nodePoolName}`],
    ['Flavor', `${n.record.count ?? ''} x ${n.record.flavor ?? ''}`],
    ['Lease ends', `${readableTime(n.endsAt, n.timeZone)} (${n.endsAt})`],
    // The reminder's point (the policy's remindBefore) by its name: the headline says the time left.
    ['Reminder', n.kind === 'remind' ? `${n.before ?? ''} before the end` : undefined],
    ['Deleted at', readableTime(n.deleteAt, n.timeZone)],
    ['Estimated cost of the whole lease', n.estimate],
    ['Created by request', n.record.creatingRequestId],
  ];
  const command = extendCommand(n.record.creatingRequestId ?? '');
  const text = [
    headline,
    '',
    ...facts.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${String(v)}`),
    '',
    ...(n.extendLink ? [`Ask for an extension: ${n.extendLink}`] : []),
    `Or with the CLI: ${command}`,
  ].join('\n');
  const html = [
    `<p>${escapeHtml(headline)}.</p>`,
    factsTable(facts),
    ...(n.extendLink ? [`<p><a href="${escapeHtml(n.extendLink)}">Ask for an extension</a></p>`] : []),
    `<p>Or with the CLI: <code>${escapeHtml(command)}</code></p>`,
  ].join('\n');
  return { to: [to], subject: headline, text, html };
}

/** The Slack text of a notice (a DM to the holder carries their link; the team channel the command only). */
export function leaseNoticeText(n: LeaseNotice): string {
  const command = extendCommand(n.record.creatingRequestId ?? '');
  return `${leaseHeadline(n)}. ${n.extendLink ? `Extend: ${n.extendLink} or ` : 'Extend with '}\`${command}\``;
}
