/** The e-mail that asks one approver to decide one stage, with what the decision means. */
import type { MailMessage } from '../adapters/mailer';
import type { PoolRequestRecord } from '../domain/pool-request';
import { decisionContext, decisionLine } from './decision-context';
import { escapeHtml, factsTable } from './html';
import { askedAction, nodePoolHeadline, requestFacts, type Price } from './request-summary';
import { readableTime } from './time';

export interface ApprovalMailOptions {
  readonly price?: Price;
  /** The policy's displayTimeZone (default UTC). */
  readonly timeZone?: string;
  /** The signed link to the request's read-only page. */
  readonly requestPage?: string;
}

export function approvalRequestMail(
  request: PoolRequestRecord,
  stageName: string,
  approver: string,
  link: string,
  expiresAt: string,
  options: ApprovalMailOptions = {},
): MailMessage {
  const zone = options.timeZone ?? 'UTC';
  const when = (iso: string) => readableTime(iso, zone);
  const context = decisionContext(request, options.price);
  const facts = requestFacts(request, options.price).filter(([label]) => label !== 'Estimated price');
  const meaning: Array<[string, string | undefined]> = [
    ['Quota', context.quota],
    ['Estimated price', context.price],
  ];
  const decisions = context.earlier.map((d) => decisionLine(d, when));
  const subject = request.extend
    ? `Approval needed: extend the lease of node pool ${request.nodePoolName} by ${request.extend.duration} (${request.count} x ${request.flavor}) for ${request.team}`
    : `Approval needed: ${request.change ? 'scale ' : ''}node pool ${nodePoolHeadline(request)} for ${request.team}`;
  const text = [
    request.extend
      ? `${request.requester} asks to extend the lease of node pool ${request.nodePoolName} in pool ${request.poolName} by ${request.extend.duration}.`
      : `${request.requester} asks to ${askedAction(request)} in pool ${request.poolName}.`,
    `You are asked as ${stageName} approver.`,
    '',
    `Review and decide (this link is personal to ${approver}; it expires ${when(expiresAt)}):`,
    link,
    '',
    ...meaning.filter(([, v]) => v !== undefined).map(([label, value]) => `${label}: ${value}`),
    ...(decisions.length ? ['', 'Decisions so far:', ...decisions.map((d) => `- ${d}`)] : []),
    '',
    ...facts.filter(([, v]) => v !== undefined).map(([label, value]) => `${label}: ${value}`),
    ...(options.requestPage ? ['', `The request's page (status and every step): ${options.requestPage}`] : []),
  ].join('\n');
  const html = `<p>${escapeHtml(request.requester)} asks to <strong>${escapeHtml(askedAction(request))}</strong> in pool ${escapeHtml(
    request.poolName,
  )}. You are asked as <strong>${escapeHtml(stageName)}</strong> approver.</p>
<p><a href="${escapeHtml(link)}">Review and decide</a> (personal link for ${escapeHtml(approver)}; expires ${escapeHtml(when(expiresAt))}).</p>
${factsTable(meaning)}
${decisions.length ? `<p><strong>Decisions so far</strong></p>\n<ul>${decisions.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>` : ''}
${factsTable(facts)}
${options.requestPage ? `<p><a href="${escapeHtml(options.requestPage)}">The request's page</a>: its status and every step.</p>` : ''}`;
  return { to: [approver], subject, text, html };
}
