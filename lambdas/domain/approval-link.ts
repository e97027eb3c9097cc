/**
 * Personal approval links: `<base>/approvals/<approvalId>?approver=<email>&sig=<hmac>`.
 * The HMAC binds the approval (itself bound to one request and one stage) to one approver. The
 * task token never appears in a link.
 */
import { hmac, sameSignature } from './signing';

export interface ApprovalLinkParts {
  readonly approvalId: string;
  readonly approver: string;
}

export function linkSignature(parts: ApprovalLinkParts, key: string): string {
  return hmac(key, `approval-link:v1\n${parts.approvalId}\n${parts.approver.toLowerCase()}`);
}

export function verifyLinkSignature(parts: ApprovalLinkParts, signature: string, key: string): boolean {
  return sameSignature(linkSignature(parts, key), signature);
}

export function approvalLink(baseUrl: string, parts: ApprovalLinkParts, key: string): string {
  const query = new URLSearchParams({ approver: parts.approver.toLowerCase(), sig: linkSignature(parts, key) });
  return `${baseUrl.replace(/\/$/, '')}/approvals/${encodeURIComponent(parts.approvalId)}?${query.toString()}`;
}

/**
 * The confirmation form's anti-forgery token: only a page poolgate served can post a decision, and
 * only for a while. Bound to the approval and the approver; time-limited.
 */
export const FORM_TOKEN_TTL_SECONDS = 12 * 3600;

export function formToken(parts: ApprovalLinkParts, key: string, issuedAt: Date): string {
  const issued = Math.floor(issuedAt.getTime() / 1000);
  const mac = hmac(key, `approval-form:v1\n${parts.approvalId}\n${parts.approver.toLowerCase()}\n${issued}`);
  return `${issued}.${mac}`;
}

export function verifyFormToken(parts: ApprovalLinkParts, token: string, key: string, now: Date): boolean {
  const issued = Number(token.split('.')[0]);
  if (
    !Number.isInteger(issued) ||
    now.getTime() / 1000 - issued > FORM_TOKEN_TTL_SECONDS ||
    issued > now.getTime() / 1000 + 60
  )
    return false;
  return sameSignature(formToken(parts, key, new Date(issued * 1000)), token);
}
