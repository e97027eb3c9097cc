import type { Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { backfillNodePoolRecords } from '../use-cases/backfill-records';
import { reconcileQuota, type ReconcileReport } from '../use-cases/reconcile-quota';
import { claims, clock, modelArts, policy, quotas, requests } from '../wiring';

/**
 * Scheduled (EventBridge on AWS, a timer locally): recompute the quotas from the node pools in ModelArts,
 * then give node pools created before node-pool records their record (use-cases/backfill-records.ts).
 */
export const handler = async (
  _event: unknown,
  context?: Context,
): Promise<ReconcileReport & { readonly recordsBackfilled: readonly string[] }> => {
  startInvocationLog(context, {});
  const report = await reconcileQuota({
    policy: policy(),
    requests: requests(),
    now: clock,
    quotas: quotas(),
    modelArts: modelArts(),
  });
  if (report.corrections.length || report.unreadable.length || report.ambiguous.length)
    logger.info('quota reconciled', { ...report });
  const recordsBackfilled = await backfillNodePoolRecords({
    policy: policy(),
    requests: requests(),
    quotas: quotas(),
    claims: claims(),
    modelArts: modelArts(),
  });
  if (recordsBackfilled.length) logger.info('node-pool records backfilled', { recordsBackfilled });
  return { ...report, recordsBackfilled };
};
