/**
 * Business metrics as CloudWatch embedded metric format (EMF) lines, through Powertools Metrics.
 * They are written where POWERTOOLS_METRICS_NAMESPACE is set (the stack sets it on every function);
 * where it is not (the local stack, tests) recording a metric does nothing. Each metric is flushed
 * at once, so nothing waits for the end of the invocation and nothing is lost when a handler throws.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RecordMetric } from '../use-cases/metrics';

const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE;
const metrics = namespace
  ? new Metrics({ namespace, serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'poolgate' })
  : undefined;

export const recordMetric: RecordMetric = (name, value, unit) => {
  metrics?.singleMetric().addMetric(name, MetricUnit[unit], value);
};
