/**
 * AWS cost of requests at list prices (bench/prices.ts), from what the benchmark measured per
 * request: state transitions, Lambda invocations and durations, HTTP API requests, DynamoDB capacity
 * units (table and indexes) and e-mails.
 */
import type { UsagePerRequest } from './flows';
import { LAMBDA_MEMORY_MB, PRICES } from './prices';
import { round } from './stats';

export interface Quantities {
  readonly stateTransitions: number;
  readonly lambdaRequests: number;
  readonly lambdaGbSeconds: number;
  readonly httpRequests: number;
  readonly dynamoDbWriteUnits: number;
  readonly dynamoDbReadUnits: number;
  readonly emails: number;
}

export interface CostLine {
  readonly item: string;
  /** Per request. */
  readonly quantity: number;
  readonly unitPrice: number;
  /** USD per 1,000 requests. */
  readonly perThousand: number;
}

export interface CostFigures {
  readonly quantities: Quantities;
  readonly lines: readonly CostLine[];
  /** What the target counts: Step Functions, Lambda, DynamoDB, HTTP API. */
  readonly totalPerThousand: number;
  /** Outside the target's list, shown beside it. */
  readonly otherLines: readonly CostLine[];
}

/**
 * Per request. Lambda bills each invocation's duration rounded up to the millisecond at the
 * configured memory; `durationMs` replaces the measured durations when given (a sensitivity check).
 */
export function quantitiesOf(usage: UsagePerRequest, transitions: number, durationMs?: number): Quantities {
  let requests = 0;
  let gbSeconds = 0;
  for (const figures of Object.values(usage.lambda)) {
    if (!figures) continue;
    requests += figures.invocations;
    gbSeconds += (figures.invocations * Math.ceil(durationMs ?? figures.meanMs) * LAMBDA_MEMORY_MB) / 1024 / 1000;
  }
  return {
    stateTransitions: transitions,
    lambdaRequests: requests,
    lambdaGbSeconds: gbSeconds,
    httpRequests: usage.httpRequests,
    dynamoDbWriteUnits: usage.dynamodb.writeUnits + usage.dynamodb.indexWriteUnits,
    dynamoDbReadUnits: usage.dynamodb.readUnits,
    emails: usage.emails,
  };
}

const line = (item: string, quantity: number, unitPrice: number): CostLine => ({
  item,
  quantity: round(quantity, 4),
  unitPrice,
  perThousand: round(quantity * unitPrice * 1000, 5),
});

export function costOf(q: Quantities): CostFigures {
  const lines = [
    line('Step Functions Standard state transitions', q.stateTransitions, PRICES.stepFunctions.perStateTransition),
    line('Lambda requests', q.lambdaRequests, PRICES.lambda.perRequest),
    line(`Lambda duration (GB-s, arm64, ${LAMBDA_MEMORY_MB} MB)`, q.lambdaGbSeconds, PRICES.lambda.perGbSecondArm64),
    line('DynamoDB write request units (table + indexes)', q.dynamoDbWriteUnits, PRICES.dynamoDb.perWriteRequestUnit),
    line('DynamoDB read request units', q.dynamoDbReadUnits, PRICES.dynamoDb.perReadRequestUnit),
    line('API Gateway HTTP API requests', q.httpRequests, PRICES.httpApi.perRequest),
  ];
  return {
    quantities: q,
    lines,
    totalPerThousand: round(
      lines.reduce((sum, l) => sum + l.perThousand, 0),
      4,
    ),
    otherLines: [line('SES e-mails (approvers and requester)', q.emails, PRICES.other.sesPerEmail)],
  };
}

/** `base` plus `times` copies of `step` (node tracking: each extra poll of the node pool). */
export function addQuantities(base: Quantities, step: Quantities, times: number): Quantities {
  const keys = Object.keys(base) as Array<keyof Quantities>;
  return Object.fromEntries(keys.map((key) => [key, base[key] + step[key] * times])) as unknown as Quantities;
}
