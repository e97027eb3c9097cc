import type { Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { backfillNodePoolRecords } from '../use-cases/backfill-records';
import { listingOncePerPool } from '../use-cases/listing-once';
import { reconcileQuota, type ReconcileReport } from '../use-cases/reconcile-quota';
import { reportDrift, type DriftNotifier, type DriftReport } from '../use-cases/report-drift';
import { claims, clock, modelArts, notifier, policy, quotas, requests } from '../wiring';

/**
 * Scheduled (EventBridge on AWS, a timer locally): recompute the quotas from the node pools in ModelArts,
 * report node pools changed outside poolgate (use-cases/report-drift.ts), then give node pools created
 * before node-pool records their record (use-cases/backfill-records.ts). The first two list each pool once per run.
 */
export const handler = async (
  _event: unknown,
  context?: Context,
): Promise<ReconcileReport & { readonly drift: DriftReport; readonly recordsBackfilled: readonly string[] }> => {
  startInvocationLog(context, {});
  const listing = listingOncePerPool(modelArts());
  const report = await reconcileQuota({
    policy: policy(),
    requests: requests(),
    now: clock,
    quotas: quotas(),
    modelArts: listing,
  });
  if (report.corrections.length || report.unreadable.length || report.ambiguous.length)
    logger.info('quota reconciled', { ...report });
  // The notifier (and its link key) only when something is to be told.
  const tell: DriftNotifier = {
    tellUnapprovedChange: async (...args) => (await notifier()).tellUnapprovedChange(...args),
  };
  const drift = await reportDrift({
    policy: policy(),
    requests: requests(),
    claims: claims(),
    modelArts: listing,
    notifier: tell,
    recordMetric,
    now: clock,
  });
  if (drift.recorded.length || drift.unreadable.length)
    logger.warn('node pools changed outside poolgate', { ...drift });
  if (drift.unmailed.length) logger.error('unapproved changes recorded but not mailed', { unmailed: drift.unmailed });
  const recordsBackfilled = await backfillNodePoolRecords({
    policy: policy(),
    requests: requests(),
    quotas: quotas(),
    claims: claims(),
    modelArts: modelArts(),
  });
  if (recordsBackfilled.length) logger.info('node-pool records backfilled', { recordsBackfilled });
  return { ...report, drift, recordsBackfilled };
};
