import type { Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { sweepLeases, type SweepLeasesReport } from '../use-cases/sweep-leases';
import { approvals, claims, clock, notifier, policy, quotas, requests, workflow } from '../wiring';

/**
 * Scheduled (every minute on AWS; POOLGATE_SWEEP_SECONDS locally): the lease events that are due:
 * reminders, end notices, deletions claimed and submitted, failed deletions submitted again.
 */
export const handler = async (_event: unknown, context?: Context): Promise<SweepLeasesReport> => {
  startInvocationLog(context, {});
  const report = await sweepLeases({
    policy: policy(),
    leases: claims(),
    claims: claims(),
    requests: requests(),
    approvals: approvals(),
    quotas: quotas(),
    workflow: workflow(),
    notifier: await notifier(),
    recordMetric,
    now: clock,
  });
  if (report.deletions.length || report.cancelled.length) logger.info('leases ended', { ...report });
  if (report.notOurs.length)
    logger.error("leases ended on node pools that are not poolgate's any more: not deleted", {
      notOurs: report.notOurs,
    });
  if (report.retried.length)
    logger.error('lease deletions failed and were submitted again', { retried: report.retried });
  if (report.errors.length) logger.error('lease sweep errors (tried again next run)', { errors: report.errors });
  return report;
};
