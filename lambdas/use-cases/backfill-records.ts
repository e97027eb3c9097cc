/**
 * Backfill of node-pool records (run with every quota reconciliation, and by `poolgate backfill-records`
 * through the same handler): node pools poolgate created before records existed have only a name claim.
 *  1. every counted share (`use#<id>`) names a create whose node pool poolgate counts;
 *  2. those whose record has no state yet (one BatchGetItem per 100) are read in ModelArts;
 *  3. a node pool that still carries the request's label (and flavor) gets its record: present, with
 *     the creating request's facts, in the team's inventory. Conditional on the claim still being that
 *     request's (or absent), so a record written since is never overwritten.
 * Once every record has a state, a run costs the share reads the reconciliation makes anyway and one batch read.
 */
import type { Policy } from '../config/policy';
import { OWNER_LABEL } from '../domain/modelarts';
import { kindOf } from '../domain/request-kind';
import { nodePoolFacts } from './create-node-pool';
import type { Claims, NodePoolApi, QuotaStore, RequestStore } from './ports';

export interface BackfillDeps {
  readonly policy: Policy;
  readonly requests: Pick<RequestStore, 'getMany'>;
  readonly quotas: Pick<QuotaStore, 'shares'>;
  readonly claims: Pick<Claims, 'records' | 'markPresent'>;
  readonly modelArts: Pick<NodePoolApi, 'showNodePool'>;
}

/** The creating request ids whose record was written. */
export async function backfillNodePoolRecords(deps: BackfillDeps): Promise<string[]> {
  const shares = (await Promise.all(deps.policy.teams.map((team) => deps.quotas.shares(team.name)))).flat();
  const counted = await deps.requests.getMany(shares.filter((s) => s.kind === 'use').map((s) => s.requestId));
  const creates = [...counted.values()].filter((r) => kindOf(r) === 'create');
  if (creates.length === 0) return [];
  const recorded = new Set(
    (await deps.claims.records(creates)).filter((r) => r.state !== undefined).map((r) => r.creatingRequestId),
  );
  const written: string[] = [];
  for (const request of creates) {
    if (recorded.has(request.requestId)) continue;
    const nodePool = await deps.modelArts.showNodePool(request.projectId, request.poolName, request.nodePoolName);
    const resources = nodePool?.spec?.resources;
    if (resources?.labels?.[OWNER_LABEL] !== request.requestId || resources.flavor !== request.flavor) continue;
    const createdAt = request.steps.find((s) => s.step === 'node_pool_created')?.at ?? request.updatedAt;
    if (await deps.claims.markPresent(nodePoolFacts(request), createdAt, true)) written.push(request.requestId);
  }
  return written;
}
