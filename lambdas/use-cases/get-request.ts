import { teamNamed } from '../domain/teams';
import type { Policy } from '../config/policy';
import { NotFoundError } from '../domain/errors';
import { canView, toRequestView, type RequestView } from '../domain/pool-request';
import { requestPageLink } from '../domain/request-link';
import type { RequestStore } from './ports';

export interface GetRequestDeps {
  readonly policy: Policy;
  readonly requests: RequestStore;
  /** With both, the view links the request's signed page. */
  readonly linkKey?: string;
  readonly publicBaseUrl?: string;
}

/** A request as its viewer may see it; one they may not see is reported as not found. */
export async function getRequest(requestId: string, viewer: string, deps: GetRequestDeps): Promise<RequestView> {
  const request = await deps.requests.get(requestId);
  const team = teamNamed(deps.policy, request?.team);
  const members = team?.members.map((m) => m.email) ?? [];
  if (!request || !canView(request, viewer, members, deps.policy.admins))
    throw new NotFoundError(`request ${requestId} not found`);
  const pageUrl =
    deps.linkKey && deps.publicBaseUrl ? requestPageLink(deps.publicBaseUrl, requestId, deps.linkKey) : undefined;
  return toRequestView(request, { nodeTracking: deps.policy.nodeTracking.enabled, pageUrl });
}
