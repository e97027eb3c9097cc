/**
 * `poolgate outbox`: the e-mails the local stack "sent" (GET /_local/outbox), newest first, with
 * their links decoded; `--approve` / `--reject` decide from the newest approval link shown, exactly
 * as the approver's browser would (open the page, post its form).
 */
import { UnreachableError, UsageError } from './api';
import { shortTime } from './render';

export interface OutboxMail {
  readonly file: string;
  readonly sentAt: string;
  readonly to: string;
  readonly subject: string;
  readonly links: readonly string[];
}

export interface OutboxQuery {
  readonly to?: string;
  /** A request id, or the start of one: only mails whose links name it. */
  readonly request?: string;
  readonly limit: number;
}

async function fetchOrExplain(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new UnreachableError(`cannot reach ${new URL(url).origin}: ${cause}`);
  }
}

export async function readOutbox(baseUrl: string, query: OutboxQuery): Promise<OutboxMail[]> {
  const params = new URLSearchParams({ limit: '500', ...(query.to ? { to: query.to } : {}) });
  const response = await fetchOrExplain(`${baseUrl.replace(/\/+$/, '')}/_local/outbox?${params.toString()}`);
  if (response.status === 404)
    throw new UsageError(`${baseUrl} has no outbox: poolgate outbox works with the local stack (npm start) only`);
  if (!response.ok) throw new UnreachableError(`${baseUrl}/_local/outbox answered HTTP ${response.status}`);
  const { mails } = (await response.json()) as { mails: OutboxMail[] };
  const wanted = query.request?.toLowerCase();
  return mails
    .filter((m) => !wanted || m.links.some((l) => linkRequestId(l)?.startsWith(wanted)))
    .slice(0, query.limit);
}

/** The request an approval link (`/approvals/<request id>.<stage>`) or request page link (`/requests/<id>/page`) is about. */
export function linkRequestId(link: string): string | undefined {
  const path = URL.canParse(link) ? new URL(link).pathname : '';
  return (
    /^\/approvals\/([^/.]+)\.\d+$/.exec(path)?.[1] ?? /^\/requests\/([^/]+)\/page$/.exec(path)?.[1]
  )?.toLowerCase();
}

export function isApprovalLink(link: string): boolean {
  return URL.canParse(link) && new URL(link).pathname.startsWith('/approvals/');
}

export function outboxText(mails: readonly OutboxMail[]): string {
  if (mails.length === 0) return 'No mails.';
  return mails
    .map((m) =>
      [
        `${m.sentAt ? `${shortTime(m.sentAt).slice(0, 16)} UTC` : m.file}  to ${m.to}`,
        `  ${m.subject}`,
        ...m.links.map((l) => `  ${l}`),
      ].join('\n'),
    )
    .join('\n\n');
}

/** Text of an HTML fragment: tags dropped, entities of escapeHtml undone, spaces collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The page's headline and its first notice, as one line each. */
export function pageSummary(html: string): string {
  const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1];
  const notice = /<p class="notice[^"]*"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1];
  return [h1, notice]
    .filter((x): x is string => x !== undefined)
    .map(textOf)
    .join('\n');
}

export interface Decision {
  readonly decision: 'approve' | 'reject';
  readonly comment?: string;
  readonly orderId?: string;
}

/** Opens an approval link as a browser would and posts its form. Resolves with what the page says; rejects with it when refused. */
export async function decideByLink(link: string, decision: Decision): Promise<string> {
  const page = await fetchOrExplain(link, { headers: { accept: 'text/html' } });
  const html = await page.text();
  if (!page.ok) throw new DecisionRefused(pageSummary(html) || `HTTP ${page.status}`);
  const field = (name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`)
      .exec(html)?.[1]
      ?.replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"');
  const form = new URLSearchParams({
    approver: field('approver') ?? '',
    sig: field('sig') ?? '',
    formToken: field('formToken') ?? '',
    decision: decision.decision,
    ...(decision.comment ? { comment: decision.comment } : {}),
    ...(decision.orderId ? { orderId: decision.orderId } : {}),
  });
  const url = new URL(link);
  const answer = await fetchOrExplain(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', origin: url.origin },
    body: form.toString(),
  });
  const summary = pageSummary(await answer.text());
  if (!answer.ok) throw new DecisionRefused(summary || `HTTP ${answer.status}`);
  return summary;
}

/** The approval page refused the decision (already decided, expired, a missing order id ...). */
export class DecisionRefused extends Error {
  override name = 'DecisionRefused';
}
