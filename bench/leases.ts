/**
 * What leases cost (issue 18), on a stack of its own with a 1 s lease sweep:
 *  1. the life of a leased node pool: created with `X-Lease`, extended once (approved), reminded twice
 *     before its (new) end, deleted at the end by the lease sweep. Everything the stack consumed from the
 *     first submission until the last deletion, minus what the idle sweeps consume in as long (measured
 *     just before, with no lease due), divided by the number of leases; state transitions from the
 *     executions' histories (create, extend, delete);
 *  2. one sweep run with 10,000 live leases in the index, none due (seeded straight into the table):
 *     its Lambda time and its DynamoDB reads, measured over a few runs, then multiplied out to a month at
 *     EventBridge's rate of one run a minute (43,200 runs). The work on due events (reminders, deletion
 *     claims) is in (1), per lease.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { rmSync } from 'node:fs';
import { LOCAL_TABLE_NAME } from '../local/main';
import type { UsageSnapshot } from '../local/usage-meter';
import { OutboxIndex } from '../local/harness/outbox';
import { eventually } from '../local/harness/poll';
import { decide, exampleBody, submit } from '../local/harness/requests';
import { startStack, type RunningStack } from '../local/harness/stack';
import { describeExecution, executionHistory } from '../local/harness/step-functions';
import { addQuantities, costOf, quantitiesOf, type CostFigures, type Quantities } from './cost';
import { APPROVER, usage, usagePerRequest, type UsagePerRequest } from './flows';
import { LAMBDA_MEMORY_MB, PRICES } from './prices';
import { round } from './stats';

const FLAVOR = 'modelarts.vm.2u4g.dcc';
/**
 * Live leases seeded for the sweep measurement. dynalite answers an index query by scanning the whole table
 * (several seconds a query at 10,000 items, on every sweep of both indexes), so the local measurement seeds
 * 1,000; DynamoDB reads only the index entries the key condition selects (none due: the 0.5-unit minimum), so
 * the per-run figure holds for 10,000 (docs/performance.md, "Leases").
 */
const SEEDED_LEASES = 1_000;
/** The month is multiplied out for this many live leases. */
const LIVE_LEASES = 10_000;
const RUNS_PER_MONTH = 43_200;
/** Idle sweeps measured for this long before the leases start (the baseline subtracted from their life). */
const IDLE_MS = 8_000;

export interface LeaseFigures {
  readonly leases: number;
  /** One lease's life: create, one extension, two reminders, the deletion; idle sweeps subtracted. */
  readonly life: { readonly usage: UsagePerRequest; readonly transitions: number; readonly cost: CostFigures };
  /** One sweep run with 10,000 live leases, none due, and a month of them (43,200 runs). */
  readonly sweep: {
    readonly liveLeases: number;
    /** Seeded locally (dynalite scans the table for an index query: see SEEDED_LEASES). */
    readonly seeded: number;
    readonly runs: number;
    readonly perRun: {
      readonly lambdaMs: number;
      readonly readUnits: number;
      readonly reads: number;
      /** What DynamoDB bills for the lease sweep's Query: at least 0.5 unit. */
      readonly billedReadUnits: number;
    };
    readonly perMonth: { readonly usd: number; readonly lambdaUsd: number; readonly dynamoDbUsd: number };
  };
}

const policy = {
  nodeTracking: { enabled: true, pollIntervalSeconds: 1, timeoutSeconds: 120 },
  quotaReconciliation: { enabled: false, intervalSeconds: 900 },
  teams: [
    {
      name: 'bench',
      members: [{ email: 'alice@example.com' }],
      stages: [{ name: 'manager', approvers: [{ email: APPROVER }] }],
      quotas: { [FLAVOR]: 1_000_000 },
      // Two reminder points, no grace (so no end notice): exactly two reminders per lease.
      lease: { max: 'P1D', remindBefore: ['PT8S', 'PT4S'] },
    },
  ],
};

/** The lease sweep's finished runs and their total time between two snapshots (local timers, metered apart). */
function sweepRuns(before: UsageSnapshot, after: UsageSnapshot): { runs: number; ms: number } {
  return {
    runs: (after.scheduledRuns.sweepLeases ?? 0) - (before.scheduledRuns.sweepLeases ?? 0),
    ms: (after.scheduledMs.sweepLeases ?? 0) - (before.scheduledMs.sweepLeases ?? 0),
  };
}

export async function leaseBench(options: { count: number; log: (line: string) => void }): Promise<LeaseFigures> {
  const { count, log } = options;
  const stack = await startStack({
    policy,
    env: {
      POOLGATE_SWEEP_SECONDS: '1',
      POOLGATE_NODE_READY_DELAY_MS: '300',
      POOLGATE_NODE_DELETE_DELAY_MS: '300',
      POOLGATE_LOG_LEVEL: 'ERROR',
    },
  });
  try {
    const token = await stack.token('alice@example.com');
    const outbox = new OutboxIndex(stack.endpoints.outbox);

    log(`leases: idle sweeps for ${IDLE_MS / 1000} s (baseline)`);
    const idle0 = await usage(stack);
    const idleStart = Date.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idle1 = await usage(stack);
    const idleMs = Date.now() - idleStart;

    log(`leases: ${count} leased node pools, each extended once, reminded twice, deleted at its end`);
    const before = await usage(stack);
    const mailsBefore = outbox.count();
    const lifeStart = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const response = await submit(stack, token, exampleBody(`leased-${i}`), { 'x-lease': 'PT14S' });
      if (response.status !== 202) throw new Error(`submit leased-${i}: ${response.status}`);
      ids.push(response.json.requestId as string);
    }
    const extensions: string[] = [];
    for (const id of ids) {
      const link = await eventually(() => outbox.link(id, APPROVER), `the approval link of ${id}`, 60_000, 50);
      await decide(link, 'approve');
      await waitFor(stack, id);
      const extended = await fetch(`${stack.endpoints.api}/requests/${id}/extend`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ duration: 'PT6S' }),
      });
      const extension = ((await extended.json()) as { requestId: string }).requestId;
      const extensionLink = await eventually(() => outbox.link(extension, APPROVER), 'the extension link', 30_000, 50);
      await decide(extensionLink, 'approve');
      await waitFor(stack, extension);
      extensions.push(extension);
    }
    const deletions = ids.map((id) => `${id}-lease-1`);
    for (const id of deletions) await waitFor(stack, id, 120_000);
    const after = await usage(stack);
    const lifeMs = Date.now() - lifeStart;
    const mails = outbox.count() - mailsBefore;

    let transitions = 0;
    for (const id of [...ids, ...extensions, ...deletions])
      transitions += (await executionHistory(stack.endpoints.stepFunctions, id)).stateTransitions;
    const measured = quantitiesOf(usagePerRequest(before, after, count, mails), transitions / count);
    // The idle sweeps' DynamoDB reads in as long are not the leases' (their runs are metered apart, below).
    const idlePerLease = quantitiesOf(usagePerRequest(idle0, idle1, count, 0), 0);
    const withoutIdle = addQuantities(measured, idlePerLease, -(lifeMs / idleMs));
    // The lease sweep runs anyway (once a minute on AWS); what the leases add is the time its runs took
    // beyond idle runs: reminders, claims, submissions.
    const idleSweep = sweepRuns(idle0, idle1);
    const lifeSweep = sweepRuns(before, after);
    const extraMs = Math.max(0, lifeSweep.ms - lifeSweep.runs * (idleSweep.ms / Math.max(1, idleSweep.runs)));
    const life: Quantities = {
      ...withoutIdle,
      lambdaGbSeconds: withoutIdle.lambdaGbSeconds + (extraMs / count / 1000) * (LAMBDA_MEMORY_MB / 1024),
    };

    log(`leases: ${SEEDED_LEASES} live leases seeded, none due; five sweep runs measured`);
    await seedLiveLeases(stack, SEEDED_LEASES);
    // The first run after seeding may have started before it: measure from the next one on, at least 5 runs.
    const runsSoFar = async () => (await usage(stack)).scheduledRuns.sweepLeases ?? 0;
    const seen = await runsSoFar();
    await eventually(async () => ((await runsSoFar()) > seen ? true : undefined), 'a sweep run', 120_000, 100);
    const s0 = await usage(stack);
    const first = s0.scheduledRuns.sweepLeases ?? 0;
    await eventually(
      async () => ((await runsSoFar()) >= first + 5 ? true : undefined),
      'five sweep runs',
      300_000,
      100,
    );
    const s1 = await usage(stack);
    const swept = sweepRuns(s0, s1);
    const perSweep = usagePerRequest(s0, s1, Math.max(1, swept.runs), 0);
    const perRun = {
      lambdaMs: round(swept.ms / Math.max(1, swept.runs), 2),
      // Both sweeps share the table meter: the SUBMITTED sweep reads its own index partitions meanwhile.
      readUnits: perSweep.dynamodb.readUnits,
      reads: perSweep.dynamodb.reads,
      billedReadUnits: 0,
    };
    const lambdaUsd =
      RUNS_PER_MONTH *
      (PRICES.lambda.perRequest +
        ((Math.ceil(perRun.lambdaMs) * LAMBDA_MEMORY_MB) / 1024 / 1000) * PRICES.lambda.perGbSecondArm64);
    // DynamoDB bills a Query at least 0.5 read unit (eventually consistent) even when it returns nothing;
    // the local meter counts what dynalite reports. The lease sweep makes one Query a run.
    const billedReadUnits = Math.max(perRun.readUnits, 0.5);
    const dynamoDbUsd = RUNS_PER_MONTH * billedReadUnits * PRICES.dynamoDb.perReadRequestUnit;
    return {
      leases: count,
      life: {
        usage: usagePerRequest(before, after, count, mails),
        transitions: round(transitions / count, 2),
        cost: costOf(nonNegative(life)),
      },
      sweep: {
        liveLeases: LIVE_LEASES,
        seeded: SEEDED_LEASES,
        runs: swept.runs,
        perRun: { ...perRun, billedReadUnits },
        perMonth: {
          usd: round(lambdaUsd + dynamoDbUsd, 4),
          lambdaUsd: round(lambdaUsd, 4),
          dynamoDbUsd: round(dynamoDbUsd, 4),
        },
      },
    };
  } finally {
    await stack.stop();
    rmSync(stack.home, { recursive: true, force: true });
  }
}

function nonNegative(q: Quantities): Quantities {
  return Object.fromEntries(
    (Object.entries(q) as Array<[keyof Quantities, number]>).map(([k, v]) => [k, Math.max(0, v)]),
  ) as unknown as Quantities;
}

/** Waits for the request's execution to succeed, read from the emulator (not the API: nothing metered). */
async function waitFor(stack: RunningStack, id: string, timeoutMs = 60_000) {
  await eventually(
    async () => {
      try {
        const execution = await describeExecution(stack.endpoints.stepFunctions, id);
        if (execution.status === 'RUNNING') return undefined;
        if (execution.status !== 'SUCCEEDED') throw new Error(`${id} ended ${execution.status}`);
        return true;
      } catch (error) {
        // Not started yet (a lease deletion the sweep has not submitted).
        if (/ExecutionDoesNotExist/.test((error as Error).message)) return undefined;
        throw error;
      }
    },
    `${id} to finish`,
    timeoutMs,
    100,
  );
}

/** Node-pool records with a live lease whose next event is a year away, written straight into the table. */
async function seedLiveLeases(stack: RunningStack, n: number): Promise<void> {
  const raw = new DynamoDBClient({
    endpoint: stack.endpoints.dynamoDb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const db = DynamoDBDocumentClient.from(raw);
  const later = new Date(Date.now() + 365 * 86400_000).toISOString();
  try {
    const items = Array.from({ length: n }, (_, i) => ({
      pk: `NODEPOOL#bench#pool-bench#seeded-${i}`,
      sk: 'OPEN',
      state: 'present',
      requestId: `seeded-${i}`,
      kind: 'create',
      creatingRequestId: `seeded-${i}`,
      team: 'bench',
      flavor: FLAVOR,
      count: 1,
      billingMode: '0',
      leaseEndsAt: later,
      leaseNextAt: later,
      gsiLease: 'LEASE',
      leaseTerms: { seconds: 1209600, duration: 'P14D', graceSeconds: 0, remindBeforeSeconds: [86400] },
    }));
    const batches: Array<typeof items> = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    let next = 0;
    const worker = async () => {
      for (let b = next++; b < batches.length; b = next++) {
        let unprocessed = batches[b].map((Item) => ({ PutRequest: { Item } }));
        while (unprocessed.length) {
          const result = await db.send(new BatchWriteCommand({ RequestItems: { [LOCAL_TABLE_NAME]: unprocessed } }));
          unprocessed = (result.UnprocessedItems?.[LOCAL_TABLE_NAME] ?? []) as typeof unprocessed;
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  } finally {
    raw.destroy();
  }
}

export function renderLeases(f: LeaseFigures): string {
  const q = f.life.cost.quantities;
  return [
    `Leases (${f.leases} leased node pools: create, one extension, two reminders, deletion by the lease sweep)`,
    `  per lease: ${f.life.transitions} state transitions, ${round(q.lambdaRequests, 2)} Lambda invocations, ` +
      `${round(q.dynamoDbWriteUnits, 2)} DynamoDB write units, ${round(q.dynamoDbReadUnits, 2)} read units, ` +
      `${round(q.httpRequests, 2)} HTTP requests, ${f.life.usage.emails} e-mails`,
    `  USD ${f.life.cost.totalPerThousand} per 1,000 leases (Step Functions, Lambda, DynamoDB, HTTP API; SES apart: ` +
      `${f.life.cost.otherLines.map((l) => `${l.perThousand}`).join(', ')})`,
    `Lease sweep with ${f.sweep.seeded} live leases seeded (month for ${f.sweep.liveLeases}), none due: ${f.sweep.perRun.lambdaMs} ms and ` +
      `${f.sweep.perRun.readUnits} read units per run measured, ${f.sweep.perRun.billedReadUnits} billed (${f.sweep.runs} runs); ` +
      `USD ${f.sweep.perMonth.usd} a month at one run a minute (Lambda ${f.sweep.perMonth.lambdaUsd}, DynamoDB ${f.sweep.perMonth.dynamoDbUsd})`,
  ].join('\n');
}
