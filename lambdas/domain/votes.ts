/** N-of-M counting: the first rejection decides; otherwise enough approvals decide. */
export type Vote = 'approve' | 'reject';
export type StageOutcome = 'approved' | 'rejected' | 'pending';

export function tallyVotes(votes: Readonly<Record<string, Vote>>, requiredApprovals: number): StageOutcome {
  const cast = Object.values(votes);
  if (cast.includes('reject')) return 'rejected';
  return cast.filter((v) => v === 'approve').length >= requiredApprovals ? 'approved' : 'pending';
}
