import type { Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { sweepSubmitted, type SweepReport } from '../use-cases/sweep-submitted';
import { clock, policy, requests, workflow } from '../wiring';

/** Scheduled every minute: start the run of any request left SUBMITTED, or retried, for more than a minute without one. */
export const handler = async (_event: unknown, context?: Context): Promise<SweepReport> => {
  startInvocationLog(context, {});
  const report = await sweepSubmitted({
    requests: requests(),
    now: clock,
    workflow: workflow(),
    nodeTracking: policy().nodeTracking,
  });
  if (report.started.length || report.resumed.length || report.failed.length)
    logger.warn('runs that never started were started', { ...report });
  if (report.ended.length) logger.error('runs ended while their requests still wait for them', { ended: report.ended });
  return report;
};
