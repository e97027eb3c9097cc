/**
 * The one team lookup: who belongs to which team of the policy, and a team by its name. Pure (the
 * policy's types only), so a handler that looks a team up does not load the policy schema.
 */
import type { Team } from '../config/policy';

/** The team `email` is a member of (the first, if several). */
export function teamOf(policy: { readonly teams: readonly Team[] }, email: string): Team | undefined {
  const wanted = email.toLowerCase();
  return policy.teams.find((team) => team.members.some((m) => m.email === wanted));
}

/** The team of that name (undefined: none, e.g. a team removed from the policy since its request). */
export function teamNamed(policy: { readonly teams: readonly Team[] }, name: string | undefined): Team | undefined {
  return policy.teams.find((team) => team.name === name);
}
