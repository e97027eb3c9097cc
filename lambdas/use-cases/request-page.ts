/**
 * The read-only request page: the signed link is the only proof asked (no bearer token: it is opened
 * from e-mails, Slack and the ModelArts console). A link whose signature does not match is refused
 * before anything is read.
 */
import { InvalidLinkError, NotFoundError } from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import { verifyRequestPageSignature } from '../domain/request-link';
import type { RequestStore } from './ports';

export async function openRequestPage(
  requestId: string,
  signature: string,
  deps: { requests: Pick<RequestStore, 'get'>; linkKey: string },
): Promise<PoolRequestRecord> {
  if (!verifyRequestPageSignature(requestId, signature, deps.linkKey)) {
    throw new InvalidLinkError('this request link is not valid (its signature does not match)');
  }
  const request = await deps.requests.get(requestId);
  if (!request) throw new NotFoundError(`request ${requestId} not found`);
  return request;
}
