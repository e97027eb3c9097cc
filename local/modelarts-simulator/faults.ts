/**
 * Fault injection: consulted at the top of every ModelArts request (not `/_sim/*`), before the
 * signature. Two kinds:
 * - queued failures (`failNext`): the next N requests fail, whatever they are (unit tests);
 * - a plan of rate-based rules, set per run (`POOLGATE_SIMULATOR_FAULTS`, `PUT /_sim/faults`): each
 *   request draws one number and gets the first rule, among those matching its operation, whose
 *   cumulative rate covers it. So `[{status: 429, rate: 0.1}, {status: 500, rate: 0.05}]` fails 10%
 *   of the calls with 429 and another 5% with 500. A rule can also answer after serving (the create
 *   took effect, the answer is lost) and hold the answer (latency).
 */
import * as z from 'zod';

export interface InjectedFailure {
  readonly status: number;
  readonly errorCode: string;
  readonly errorMsg: string;
}

/** The ModelArts calls the simulator serves, as fault rules name them. */
export const SIM_OPERATIONS = ['create', 'show', 'list', 'pool', 'flavors', 'delete', 'patch'] as const;
export type SimOperation = (typeof SIM_OPERATIONS)[number];

const FaultRuleSchema = z.strictObject({
  /** Share of the matching calls that get this fault, 0 to 1. */
  rate: z.number().min(0).max(1),
  /** The calls it applies to; every call when absent. */
  operations: z.array(z.enum(SIM_OPERATIONS)).min(1).optional(),
  /** Answer with this status instead of the real answer; absent: the real answer (with `delayMs`: latency only). */
  status: z.number().int().min(400).max(599).optional(),
  /** Default: `APIG.0308` for 429, `ModelArts.50005000` for 5xx, `ModelArts.50004000` otherwise. */
  errorCode: z.string().min(1).optional(),
  errorMsg: z.string().optional(),
  /** Serve the call first (a create takes effect and is stored), then answer the failure. */
  afterServing: z.boolean().default(false),
  /** Hold the answer this long (after serving it, if it is served). */
  delayMs: z.number().int().min(0).max(600_000).default(0),
});

export const FaultPlanSchema = z
  .strictObject({
    rules: z.array(FaultRuleSchema),
    /** Makes the draws repeatable; random when absent. */
    seed: z.number().int().optional(),
  })
  .superRefine((plan, ctx) => {
    for (const operation of SIM_OPERATIONS) {
      const total = plan.rules
        .filter((r) => !r.operations || r.operations.includes(operation))
        .reduce((sum, r) => sum + r.rate, 0);
      if (total > 1 + 1e-9)
        ctx.addIssue({
          code: 'custom',
          path: ['rules'],
          message: `the rates of the rules for "${operation}" add up to ${total}, more than 1`,
        });
    }
  });

export type FaultRule = z.output<typeof FaultRuleSchema>;
export type FaultPlan = z.output<typeof FaultPlanSchema>;
export type FaultPlanInput = z.input<typeof FaultPlanSchema>;

/** What a call gets: a failure to answer with (before or after serving it), and how long to hold the answer. */
export interface Fault {
  readonly failure?: InjectedFailure;
  readonly afterServing: boolean;
  readonly delayMs: number;
}

export interface FaultCounts {
  /** Calls that drew against the plan since it was set. */
  readonly calls: number;
  /** Calls each rule was applied to, in the order of the rules. */
  readonly injected: readonly number[];
}

/** Parses a plan (JSON text or an object); the error names the field and the rule. */
export function parseFaultPlan(input: unknown): FaultPlan {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new Error('fault plan: not valid JSON');
    }
  }
  const result = FaultPlanSchema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `fault plan: ${result.error.issues.map((i) => `${i.path.join('.') || '(plan)'}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data;
}

export class Faults {
  private readonly pendingFailures: InjectedFailure[] = [];
  private plan: FaultPlan = { rules: [] };
  private random: () => number = Math.random;
  private calls = 0;
  private injected: number[] = [];

  /** The next `times` requests answer with this failure instead of being served. */
  failNext(failure: InjectedFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.pendingFailures.push(failure);
  }

  /** Replaces the rate-based plan (validated) and resets its counts. An empty plan injects nothing. */
  setPlan(input: unknown): FaultPlan {
    this.plan = parseFaultPlan(input);
    this.random = this.plan.seed === undefined ? Math.random : seededRandom(this.plan.seed);
    this.calls = 0;
    this.injected = this.plan.rules.map(() => 0);
    return this.plan;
  }

  currentPlan(): FaultPlan {
    return this.plan;
  }

  counts(): FaultCounts {
    return { calls: this.calls, injected: [...this.injected] };
  }

  /** The failure this request must answer with, if one is queued (each is used once). */
  takeFailure(): InjectedFailure | undefined {
    return this.pendingFailures.shift();
  }

  /** What this call gets: a queued failure first, else the plan's draw; undefined when nothing. */
  decide(operation: SimOperation | undefined): Fault | undefined {
    const queued = this.takeFailure();
    if (queued) return { failure: queued, afterServing: false, delayMs: 0 };
    if (this.plan.rules.length === 0 || operation === undefined) return undefined;
    this.calls += 1;
    const draw = this.random();
    let cumulative = 0;
    for (const [index, rule] of this.plan.rules.entries()) {
      if (rule.operations && !rule.operations.includes(operation)) continue;
      cumulative += rule.rate;
      if (draw >= cumulative) continue;
      this.injected[index] += 1;
      return {
        failure: rule.status === undefined ? undefined : failureOf(rule, rule.status),
        afterServing: rule.afterServing,
        delayMs: rule.delayMs,
      };
    }
    return undefined;
  }
}

function failureOf(rule: FaultRule, status: number): InjectedFailure {
  const errorCode =
    rule.errorCode ?? (status === 429 ? 'APIG.0308' : status >= 500 ? 'ModelArts.50005000' : 'ModelArts.50004000');
  const errorMsg =
    rule.errorMsg ??
    (status === 429
      ? 'The throttling threshold has been reached: policy user over ratelimit, limit:20, time:1 second'
      : status >= 500
        ? 'Internal error.'
        : 'Bad request.');
  return { status, errorCode, errorMsg };
}

/** mulberry32: small, fast, good enough to make a run's faults repeatable. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
