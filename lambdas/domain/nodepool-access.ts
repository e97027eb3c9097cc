/**
 * Who may do what with a node pool poolgate created (its record names the owning team):
 *   read    whoever may read the team's requests: its members, approvers and escalation contacts, admins
 *   change  (delete, and scale to come) the owning team's members and admins
 * Anyone else is told the node pool does not exist (404); someone who may read it but not change it, 403.
 * Cancelling or retrying a change stays its requester's or an admin's (as for every request).
 */
import type { Policy } from '../config/policy';
import { mayListTeam } from './list-query';
import { teamNamed } from './teams';

export type NodePoolAccess = 'none' | 'read' | 'change';

export function nodePoolAccess(policy: Policy, team: string, email: string): NodePoolAccess {
  const who = email.toLowerCase();
  if (policy.admins.includes(who)) return 'change';
  const owning = teamNamed(policy, team);
  if (owning?.members.some((m) => m.email === who)) return 'change';
  return mayListTeam(policy, team, who) ? 'read' : 'none';
}
