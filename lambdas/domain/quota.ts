/** Quota arithmetic. Limits live in the policy file; reservations and use live in the table. */
import type { Team } from '../config/policy';
import { teamNamed } from './teams';

export type QuotaDecision =
  | {
      readonly ok: true;
      readonly limit: number;
      /** highest `inUse` that still leaves room for this request */ readonly maxInUseBefore: number;
    }
  | { readonly ok: false; readonly reason: 'FLAVOR_NOT_ALLOWED' | 'QUOTA_EXCEEDED'; readonly limit?: number };

export function quotaFor(team: Team, flavor: string, count: number): QuotaDecision {
  const limit = team.quotas[flavor];
  if (limit === undefined) return { ok: false, reason: 'FLAVOR_NOT_ALLOWED' };
  if (count > limit) return { ok: false, reason: 'QUOTA_EXCEEDED', limit };
  return { ok: true, limit, maxInUseBefore: limit - count };
}

/** `quotaFor` the request's team, found by name (a team no longer in the policy may use nothing). */
export function quotaForRequest(
  teams: readonly Team[],
  request: { readonly team: string; readonly flavor: string; readonly count: number },
): QuotaDecision {
  const team = teamNamed({ teams }, request.team);
  return team ? quotaFor(team, request.flavor, request.count) : { ok: false, reason: 'FLAVOR_NOT_ALLOWED' };
}

/** Whether the team may use this project and pool (`*` allows any). */
export function placementAllowed(team: Team, projectId: string, poolName: string): boolean {
  const allows = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);
  return allows(team.projects, projectId) && allows(team.pools, poolName);
}

/**
 * What `reserve` found:
 *  - `reserved`: this call reserved the nodes;
 *  - `held`: this attempt's reservation exists already (an earlier try of it, or a concurrent call);
 *  - `used`: the request's nodes are counted as used already (its node pool exists);
 *  - `busy`: another attempt of the request holds its reservation (its run has not let it go, yet or at all);
 *  - `refused`: no room under the limit.
 */
export type Reservation = 'reserved' | 'held' | 'used' | 'busy' | 'refused';

/** The request's nodes are counted after `reserve` answered this (by this call or before it). */
export const isCounted = (reservation: Reservation): boolean =>
  reservation === 'reserved' || reservation === 'held' || reservation === 'used';
