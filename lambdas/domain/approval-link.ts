/**
 * Personal approval links: `<base>/approvals/<approvalId>?approver=<email>&sig=<hmac>`.
 * The HMAC binds the approval (itself bound to one request and one stage) to one approver. The
 * task token never appears in a link.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ApprovalLinkParts {
  readonly approvalId: string;
  readonly approver: string;
}

export function linkSignature(parts: ApprovalLinkParts, key: string): string {
  return createHmac('sha256', key).update(`approval-link:v1\n${parts.approvalId}\n${parts.approver.toLowerCase()}`).digest('base64url');
}

export function verifyLinkSignature(parts: ApprovalLinkParts, signature: string, key: string): boolean {
  const expected = Buffer.from(linkSignature(parts, key));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function approvalLink(baseUrl: string, parts: ApprovalLinkParts, key: string): string {
  const query = new URLSearchParams({ approver: parts.approver.toLowerCase(), sig: linkSignature(parts, key) });
  return `${baseUrl.replace(/\/$/, '')}/approvals/${encodeURIComponent(parts.approvalId)}?${query}`;
}
