/**
 * GET /requests/{id}: a request as its viewer may see it. The id may be a unique prefix (at least
 * 8 characters) of a full id, as people copy them from tables:
 *  1. a full id (or a short string) is read directly; one the viewer may not see is "not found";
 *  2. a prefix is looked up among the requests the viewer may see: their own (byRequester) and those
 *     of every team they may list (byTeam: member, approver, escalation contact, admin);
 *  3. one match is that request; several are answered 400 `PoolGate.1400` naming each match.
 */
import { teamNamed } from '../domain/teams';
import type { Policy } from '../config/policy';
import { AmbiguousIdError, NotFoundError } from '../domain/errors';
import { mayListTeam } from '../domain/list-query';
import { canView, toRequestView, type PoolRequestRecord, type RequestView } from '../domain/pool-request';
import { requestPageLink } from '../domain/request-link';
import type { Claims, RequestStore } from './ports';

/** The shortest prefix of a request id that is looked up. */
export const MIN_ID_PREFIX = 8;
const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Items per index read while looking up a prefix. */
const PREFIX_PAGE = 100;

export interface GetRequestDeps {
  readonly policy: Policy;
  readonly requests: Pick<RequestStore, 'get' | 'page'>;
  /** With both, the view links the request's signed page. */
  readonly linkKey?: string;
  readonly publicBaseUrl?: string;
  /** With it, a leased create's view shows the lease's end from its node-pool record. */
  readonly claims?: Pick<Claims, 'record'>;
}

function visible(request: PoolRequestRecord | undefined, viewer: string, policy: Policy): boolean {
  if (!request) return false;
  const members = teamNamed(policy, request.team)?.members.map((m) => m.email) ?? [];
  return canView(request, viewer, members, policy.admins);
}

/** A request as its viewer may see it; one they may not see is reported as not found. */
export async function getRequest(requestId: string, viewer: string, deps: GetRequestDeps): Promise<RequestView> {
  const request = await findRequest(requestId, viewer, deps);
  const pageUrl =
    deps.linkKey && deps.publicBaseUrl
      ? requestPageLink(deps.publicBaseUrl, request.requestId, deps.linkKey)
      : undefined;
  const record = request.lease && deps.claims ? await deps.claims.record(request) : undefined;
  return toRequestView(request, {
    nodeTracking: deps.policy.nodeTracking.enabled,
    pageUrl,
    ...(record ? { record } : {}),
  });
}

async function findRequest(idOrPrefix: string, viewer: string, deps: GetRequestDeps): Promise<PoolRequestRecord> {
  const direct = await deps.requests.get(idOrPrefix);
  if (visible(direct, viewer, deps.policy)) return direct!;
  const prefix = idOrPrefix.toLowerCase();
  if (direct || FULL_ID.test(prefix)) throw new NotFoundError(`request ${idOrPrefix} not found`);
  if (prefix.length < MIN_ID_PREFIX)
    throw new NotFoundError(
      `request ${idOrPrefix} not found (the start of an id needs at least ${MIN_ID_PREFIX} characters)`,
    );

  const matches = new Map<string, PoolRequestRecord>();
  const partitions: Array<['byRequester' | 'byTeam', string]> = [
    ['byRequester', viewer],
    ...deps.policy.teams
      .filter((t) => mayListTeam(deps.policy, t.name, viewer))
      .map((t): ['byTeam', string] => ['byTeam', t.name]),
  ];
  for (const [index, partition] of partitions) {
    let startAt;
    do {
      const page = await deps.requests.page(index, partition, { limit: PREFIX_PAGE, startAt });
      for (const r of page.requests)
        if (r.requestId.startsWith(prefix) && visible(r, viewer, deps.policy)) matches.set(r.requestId, r);
      startAt = page.next;
    } while (startAt);
  }
  const found = [...matches.values()];
  if (found.length === 1) return found[0];
  if (found.length === 0) throw new NotFoundError(`request ${idOrPrefix} not found`);
  throw new AmbiguousIdError(
    `${idOrPrefix} is the start of ${found.length} request ids; give more of the id: ${found
      .map((r) => `${r.requestId} (${r.nodePoolName}, ${r.status})`)
      .join(', ')}`,
  );
}
