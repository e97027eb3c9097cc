import type { Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { sweepSubmitted, type SweepReport } from '../use-cases/sweep-submitted';
import { requests, workflow } from '../wiring';

/** Scheduled every minute: start the execution of any request left SUBMITTED for more than a minute. */
export const handler = async (_event: unknown, context?: Context): Promise<SweepReport> => {
  startInvocationLog(context, {});
  const report = await sweepSubmitted({ requests: requests(), workflow: workflow() });
  if (report.started.length || report.failed.length) logger.warn('requests left SUBMITTED were started', { ...report });
  return report;
};
