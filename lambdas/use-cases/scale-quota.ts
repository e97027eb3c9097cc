/**
 * A scale-up's reservation is held under its own request id (`hold#<scaleId>`) for the nodes it adds:
 * its count is the delta, not the request's target count, so whoever ends the scale without its nodes
 * (Finalize, a cancel) gives back whatever it holds.
 */
import type { PoolRequestRecord } from '../domain/pool-request';
import type { QuotaStore } from './ports';

/** Gives a scale-up's reservation back, whatever it holds (0 when none). */
export async function releaseScaleHold(
  request: PoolRequestRecord,
  deps: { readonly quotas: Pick<QuotaStore, 'shares' | 'release'> },
): Promise<void> {
  if (request.change?.kind !== 'scale-up') return;
  const held = (await deps.quotas.shares(request.team)).find(
    (s) => s.kind === 'hold' && s.requestId === request.requestId && s.flavor === request.flavor,
  );
  if (held) await deps.quotas.release(held);
}
