/**
 * `GET /requests`: which one index partition a list reads, from the query parameters and who asks.
 * Pure: the use case queries, this decides and refuses.
 *
 *   awaiting=me     approvals waiting for my decision (byStatus AWAITING_APPROVAL, requests that may ask me)
 *   mine=true       requests I submitted (byRequester), optionally of one status
 *   team=<name>     a team's requests (byTeam): its members, its approvers and escalation contacts, admins
 *   status=<S>      alone, for admins: every team's requests in that status (byStatus)
 *   (none)          my team's requests (byTeam), optionally of one status; for someone in no team
 *                   (an approver of other teams, an admin) what awaits their decision, as awaiting=me
 */
import type { Policy } from '../config/policy';
import { BadQueryError, ForbiddenError } from './errors';
import { teamNamed, teamOf } from './teams';
import { REQUEST_KINDS, isRequestKind, type RequestKind } from './request-kind';
import { REQUEST_STATUSES, type RequestStatus } from './status';

import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../contracts/api-values';

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE };

export type ListScope =
  | { readonly kind: 'requester'; readonly email: string }
  | { readonly kind: 'team'; readonly team: string }
  | { readonly kind: 'status'; readonly status: RequestStatus }
  | { readonly kind: 'awaiting'; readonly approver: string };

export interface ListQuery {
  readonly scope: ListScope;
  /** Only requests in this status (a filter on the scope's partition; implied by a `status` scope). */
  readonly status?: RequestStatus;
  /** Only requests of this kind (a filter). */
  readonly kind?: RequestKind;
  readonly limit: number;
  readonly cursor?: string;
}

const KNOWN = ['status', 'kind', 'mine', 'team', 'awaiting', 'limit', 'cursor'] as const;

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new BadQueryError(`${name}: must be "true" or "false"`);
}

/** Whether `email` may list `team`'s requests: a member, an approver or escalation contact of it, or an admin. */
export function mayListTeam(policy: Policy, team: string, email: string): boolean {
  const t = teamNamed(policy, team);
  if (!t) return policy.admins.includes(email);
  const people = [...t.members, ...t.escalation, ...t.stages.flatMap((s) => s.approvers)];
  return policy.admins.includes(email) || people.some((p) => p.email === email);
}

export function parseListQuery(
  params: Readonly<Record<string, string | undefined>>,
  viewer: string,
  policy: Policy,
): ListQuery {
  const unknown = Object.keys(params).filter((name) => !(KNOWN as readonly string[]).includes(name));
  if (unknown.length) throw new BadQueryError(`${unknown[0]}: unknown query parameter (known: ${KNOWN.join(', ')})`);

  const status = params.status;
  if (status !== undefined && !(REQUEST_STATUSES as readonly string[]).includes(status)) {
    throw new BadQueryError(`status: must be one of ${REQUEST_STATUSES.join(', ')}`);
  }
  const kindParam = params.kind;
  if (kindParam !== undefined && !isRequestKind(kindParam))
    throw new BadQueryError(`kind: must be one of ${REQUEST_KINDS.join(', ')}`);
  const limit = params.limit === undefined ? DEFAULT_PAGE_SIZE : Number(params.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE || !/^\d+$/.test(params.limit ?? '1')) {
    throw new BadQueryError(`limit: must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  const cursor = params.cursor || undefined;
  const mine = flag('mine', params.mine);
  const team = params.team;
  const page = { limit, ...(cursor ? { cursor } : {}), ...(kindParam ? { kind: kindParam } : {}) };
  const filter = status ? { status: status as RequestStatus } : {};

  if (params.awaiting !== undefined) {
    if (params.awaiting !== 'me') throw new BadQueryError('awaiting: must be "me"');
    if (mine || team !== undefined || status !== undefined)
      throw new BadQueryError('awaiting=me cannot be combined with mine, team or status');
    return { scope: { kind: 'awaiting', approver: viewer }, ...page };
  }
  if (mine && team !== undefined) throw new BadQueryError('mine=true and team cannot be combined');
  if (mine) return { scope: { kind: 'requester', email: viewer }, ...filter, ...page };
  if (team !== undefined) {
    if (!team) throw new BadQueryError('team: must name a team');
    if (!mayListTeam(policy, team, viewer))
      throw new ForbiddenError(`${viewer} may not list the requests of team ${team}`);
    return { scope: { kind: 'team', team }, ...filter, ...page };
  }
  if (status && policy.admins.includes(viewer))
    return { scope: { kind: 'status', status: status as RequestStatus }, ...page };
  const own = teamOf(policy, viewer);
  if (own) return { scope: { kind: 'team', team: own.name }, ...filter, ...page };
  // Someone in no team (an approver, an admin) is most likely looking for what waits for them.
  if (!status) return { scope: { kind: 'awaiting', approver: viewer }, ...page };
  throw new BadQueryError(`${viewer} is in no team: a status filter needs mine=true or team=<name>`);
}

/** What a cursor is bound to: the same viewer, scope and filter must come back with it. */
export function queryIdentity(viewer: string, query: ListQuery): string {
  const scope = query.scope;
  // awaiting=me names the index it reads: a cursor of the byApprover index it read before is refused (400), not used as a byStatus position.
  const partition =
    scope.kind === 'requester'
      ? scope.email
      : scope.kind === 'team'
        ? scope.team
        : scope.kind === 'status'
          ? scope.status
          : `byStatus:${scope.approver}`;
  return [viewer, scope.kind, partition, query.status ?? '', ...(query.kind ? [query.kind] : [])].join('\n');
}
