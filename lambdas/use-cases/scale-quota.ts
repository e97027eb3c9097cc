/**
 * A scale-up's reservation is held under its own request id (`hold#<scaleId>`) for the nodes it adds:
 * its count is the delta, not the request's target count, so whoever ends the scale without its nodes
 * (Finalize, a cancel) gives back what its run holds: a retried scale's reservation names its attempt,
 * and a late Finalize of an earlier run never gives back a later run's (as a create's settle).
 */
import type { PoolRequestRecord } from '../domain/pool-request';
import type { QuotaStore } from './ports';

/**
 * Gives back a scale-up's reservation if `attempt` (default: the request's latest run) holds it; one
 * another attempt holds (a retry took it over) is left alone. The release is conditional on the attempt
 * and the stamp read, so a takeover in between also leaves it alone.
 */
export async function releaseScaleHold(
  request: PoolRequestRecord,
  deps: { readonly quotas: Pick<QuotaStore, 'shares' | 'release'> },
  attempt = request.retries ?? 0,
): Promise<void> {
  if (request.change?.kind !== 'scale-up') return;
  const held = (await deps.quotas.shares(request.team)).find(
    (s) =>
      s.kind === 'hold' &&
      s.requestId === request.requestId &&
      s.flavor === request.flavor &&
      (s.attempt ?? 0) === attempt,
  );
  if (held) await deps.quotas.release(held);
}
