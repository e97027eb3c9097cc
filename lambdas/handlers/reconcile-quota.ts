import type { Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { reconcileQuota, type ReconcileReport } from '../use-cases/reconcile-quota';
import { clock, modelArts, policy, quotas, requests } from '../wiring';

/** Scheduled (EventBridge on AWS, a timer locally): recompute the quotas from the node pools in ModelArts. */
export const handler = async (_event: unknown, context?: Context): Promise<ReconcileReport> => {
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
  return report;
};
