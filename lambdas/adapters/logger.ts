import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/** One structured JSON logger per process (service name from POWERTOOLS_SERVICE_NAME). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'poolgate' });

/**
 * Starts an invocation's log context: Lambda's request id (`function_request_id`, from the context)
 * and, when the handler knows it, poolgate's `requestId`, on every line of this invocation. The keys
 * of the previous invocation are dropped first. A handler that learns the request id later adds it
 * with `logger.appendKeys({ requestId })`.
 */
export function startInvocationLog(context: Context | undefined, keys: { readonly requestId?: string } = {}): void {
  logger.resetKeys();
  if (context) logger.addContext(context);
  if (keys.requestId) logger.appendKeys({ requestId: keys.requestId });
}
