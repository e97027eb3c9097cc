import type { RequestRepository } from '../adapters/dynamodb/request-repository';
import type { Policy } from '../config/policy';
import { NotFoundError } from '../domain/errors';
import { canView, toRequestView, type RequestView } from '../domain/pool-request';

/** A request as its viewer may see it; one they may not see is reported as not found. */
export async function getRequest(requestId: string, viewer: string, deps: { policy: Policy; requests: RequestRepository }): Promise<RequestView> {
  const request = await deps.requests.get(requestId);
  const team = deps.policy.teams.find((t) => t.name === request?.team);
  const members = team?.members.map((m) => m.email) ?? [];
  if (!request || !canView(request, viewer, members, deps.policy.admins)) throw new NotFoundError(`request ${requestId} not found`);
  return toRequestView(request);
}
