/**
 * AWS list prices the cost figures use: us-east-1, on-demand, no free tier, no savings plans.
 *
 * NOT fetched: the machine that wrote this has no internet. These are the public list prices as
 * published on the AWS pricing pages named below, as known at the date given; check them against
 * the pages before quoting a figure to anyone. Change them here only: bench/cost.ts reads nothing else.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025 (public list prices as last known; not re-checked on 2026-11-26 — no internet)',
  currency: 'USD',
  stepFunctions: {
    /** Standard workflows, per state transition (retries included). https://aws.amazon.com/step-functions/pricing/ */
    perStateTransition: 0.025 / 1000,
  },
  lambda: {
    /** https://aws.amazon.com/lambda/pricing/ */
    perRequest: 0.2 / 1_000_000,
    /** Arm (Graviton), first 7.5 billion GB-s a month; the stack deploys arm64 (lib/constructs/poolgate-function.ts). */
    perGbSecondArm64: 0.0000133334,
    /** For comparison: x86_64, first 6 billion GB-s a month. */
    perGbSecondX86: 0.0000166667,
  },
  dynamoDb: {
    /** On-demand, Standard table class, after the November 2024 price cut. https://aws.amazon.com/dynamodb/pricing/on-demand/ */
    perWriteRequestUnit: 0.625 / 1_000_000,
    perReadRequestUnit: 0.125 / 1_000_000,
  },
  httpApi: {
    /** API Gateway HTTP APIs, first 300 million a month (each 512 KB counts as one request). https://aws.amazon.com/api-gateway/pricing/ */
    perRequest: 1.0 / 1_000_000,
  },
  /** Outside the target's list but real, shown separately. */
  other: {
    /** SES outbound e-mail. https://aws.amazon.com/ses/pricing/ */
    sesPerEmail: 0.1 / 1000,
    /** Secrets Manager API calls (cached 5 min per warm function, so a few per cold start). https://aws.amazon.com/secrets-manager/pricing/ */
    secretsManagerPerCall: 0.05 / 10_000,
  },
} as const;

/** What the stack deploys, for the Lambda duration charge (lib/constructs/poolgate-function.ts default). */
export const LAMBDA_MEMORY_MB = 512;
