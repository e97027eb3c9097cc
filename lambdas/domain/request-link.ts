/**
 * The read-only request page: `<base>/requests/<requestId>/page?sig=<hmac>`. The HMAC (key: the
 * link-signing secret, as for approval links, in its own domain `request-page:v1`) binds the link to
 * one request; whoever holds the link may read that request's page, nothing else. It does not
 * expire: ModelArts keeps it as the node pool's `os.modelarts/service.console.url`.
 */
import { hmac, sameSignature } from './signing';

export function requestPageSignature(requestId: string, key: string): string {
  return hmac(key, `request-page:v1\n${requestId}`);
}

export function verifyRequestPageSignature(requestId: string, signature: string, key: string): boolean {
  return sameSignature(requestPageSignature(requestId, key), signature);
}

export function requestPageLink(baseUrl: string, requestId: string, key: string): string {
  return `${baseUrl.replace(/\/$/, '')}/requests/${encodeURIComponent(requestId)}/page?sig=${requestPageSignature(requestId, key)}`;
}
