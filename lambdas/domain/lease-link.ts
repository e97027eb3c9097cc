/**
 * The personal extension link of a lease reminder: `<base>/requests/<createId>/extend?as=<email>&sig=<hmac>`.
 * The HMAC (the link-signing key, domain `lease-extend:v1`) binds the link to one lease and one person;
 * the page it opens shows the form, and posting it asks for an extension as that person, who must still
 * be a member of the owning team or an admin (403 otherwise). It does not expire with a reminder: the
 * lease's own end and `maxTotal` bound what it can do.
 */
import { hmac, sameSignature } from './signing';

export function extendLinkSignature(createRequestId: string, email: string, key: string): string {
  return hmac(key, `lease-extend:v1\n${createRequestId}\n${email.toLowerCase()}`);
}

export function verifyExtendLink(createRequestId: string, email: string, signature: string, key: string): boolean {
  return sameSignature(extendLinkSignature(createRequestId, email, key), signature);
}

export function extendLink(baseUrl: string, createRequestId: string, email: string, key: string): string {
  const query = new URLSearchParams({ as: email.toLowerCase(), sig: extendLinkSignature(createRequestId, email, key) });
  return `${baseUrl.replace(/\/$/, '')}/requests/${encodeURIComponent(createRequestId)}/extend?${query.toString()}`;
}
