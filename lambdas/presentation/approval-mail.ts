/** The e-mail that asks one approver to decide one stage. */
import type { MailMessage } from '../adapters/mailer';
import type { PoolRequestRecord } from '../domain/pool-request';
import { escapeHtml, factsTable } from './html';
import { requestFacts, type Price } from './request-summary';

export function approvalRequestMail(
  request: PoolRequestRecord,
  stageName: string,
  approver: string,
  link: string,
  expiresAt: string,
  price?: Price,
): MailMessage {
  const facts = requestFacts(request, price);
  const subject = `Approval needed: node pool ${request.nodePoolName} (${request.count} x ${request.flavor}) for ${request.team}`;
  const text = [
    `${request.requester} asks to create node pool ${request.nodePoolName} in pool ${request.poolName}.`,
    `You are asked as ${stageName} approver.`,
    '',
    ...facts.filter(([, v]) => v !== undefined).map(([label, value]) => `${label}: ${value}`),
    '',
    `Review and decide (this link is personal to ${approver}; it expires ${expiresAt}):`,
    link,
  ].join('\n');
  const html = `<p>${escapeHtml(request.requester)} asks to create node pool <strong>${escapeHtml(request.nodePoolName)}</strong> in pool ${escapeHtml(
    request.poolName,
  )}. You are asked as <strong>${escapeHtml(stageName)}</strong> approver.</p>
${factsTable(facts)}
<p><a href="${escapeHtml(link)}">Review and decide</a> (personal link for ${escapeHtml(approver)}; expires ${escapeHtml(expiresAt)}).</p>`;
  return { to: [approver], subject, text, html };
}
