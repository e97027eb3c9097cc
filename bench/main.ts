/**
 * `npm run bench`: what a request costs on AWS, how fast poolgate answers, measured on the local
 * stack (the real handlers and workflow definition, as a child process like the e2e tests).
 *
 *   1. bundles: size and cold import time of every handler (bench/bundles.ts);
 *   2. stack A, node tracking off: warm-up, approved and rejected requests one by one
 *      (transitions, decision-to-ModelArts, DynamoDB, Lambda, mail), then submit at concurrency
 *      1, 16 and 64;
 *   3. stack B, node tracking on: approved requests (what following the nodes adds), then each of
 *      their node pools scaled up (approved) and down through the gate (bench/scales.ts), then deleted,
 *      one by one (bench/deletes.ts);
 *   4. AWS cost at list prices (bench/prices.ts, bench/cost.ts), the targets, the table;
 *   5. leases (bench/leases.ts): a leased node pool's life, and the lease sweep with 10,000 live leases.
 * Writes bench/results/latest.json; `--save <name>` also writes bench/results/<name>.json (tracked).
 *
 * Options: --quick (small counts, for trying it out), --skip-bundles, --only-bundles (step 1 alone:
 * prints the bundle table and writes bench/results/bundles-latest.json, nothing else), --only-leases
 * (step 5 alone, written to bench/results/leases-latest.json), --skip-leases, --save <name>.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import type { Policy } from '../lambdas/config/policy';
import { startStack, type RunningStack } from '../local/harness/stack';
import { OutboxIndex } from '../local/harness/outbox';
import { eventually } from '../local/harness/poll';
import { measureBundles, type BundleReport } from './bundles';
import { addQuantities, costOf, quantitiesOf, type CostFigures, type Quantities } from './cost';
import { deleteFlows } from './deletes';
import { leaseBench, renderLeases, type LeaseFigures } from './leases';
import { scaleFlows, type ScaleFigures } from './scales';
import { flows, usage, type FlowFigures } from './flows';
import { submitLoad, type SubmitFigures } from './load';
import { LAMBDA_MEMORY_MB, PRICES } from './prices';
import { renderBundles, renderReport } from './report';
import { round } from './stats';
import { DEFAULT_POLL_INTERVAL_SECONDS, trackingWaitSeconds } from '../lambdas/domain/tracking-schedule';

const ROOT = resolve(__dirname, '..');
const RESULTS = join(ROOT, 'bench', 'results');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const saveAs = args.includes('--save') ? args[args.indexOf('--save') + 1] : undefined;

const COUNTS = quick
  ? { approved: 10, rejected: 5, tracked: 4, submit: { 1: 50, 16: 200, 64: 400 }, importRuns: 5, variantRuns: 3 }
  : {
      approved: 100,
      rejected: 30,
      tracked: 20,
      submit: { 1: 300, 16: 1000, 64: 2000 },
      importRuns: 15,
      variantRuns: 7,
    };

/** Node tracking as measured locally: polled every second, nodes up after 2.5 s (a few polls). */
const TRACKING_POLL_SECONDS = 1;
const NODE_READY_DELAY_MS = 2500;
/** The projection: the policy's default tracking schedule, and nodes that take this long on ModelArts (an assumption). */
const PROJECTED = { pollSeconds: DEFAULT_POLL_INTERVAL_SECONDS, nodesUpAfterSeconds: 600 };
/** The target for a create followed through that node start, USD per 1,000 at list prices. */
const TRACKED_CREATE_LIMIT_USD = 0.8;

/** How many checks the schedule makes until it sees nodes that come up `readyAfter` s after the acceptance. */
function checksUntil(readyAfter: number, pollIntervalSeconds: number): number {
  let checks = 0;
  for (
    let t = trackingWaitSeconds(0, { pollIntervalSeconds });
    ;
    t += trackingWaitSeconds(t, { pollIntervalSeconds })
  ) {
    checks += 1;
    if (t >= readyAfter) return checks;
  }
}

export interface BenchResults {
  readonly meta: {
    readonly startedAt: string;
    readonly seconds: number;
    readonly command: string;
    readonly machine: {
      readonly nproc: number;
      readonly cpu: string;
      readonly memoryGiB: number;
      readonly node: string;
      readonly os: string;
    };
    /** 1-minute load average when the run started and when it ended (other work on the machine skews every figure). */
    readonly loadAverage: { readonly start: number; readonly end: number };
    readonly git: { readonly commit: string; readonly dirtyFiles: readonly string[] };
    readonly counts: typeof COUNTS;
    readonly lambdaMemoryMb: number;
  };
  readonly bundles?: BundleReport;
  readonly submit: readonly SubmitFigures[];
  readonly approved: FlowFigures;
  readonly rejected: FlowFigures;
  readonly approvedWithTracking: FlowFigures & { readonly pollsPerRequest: number };
  /** The node pools of `approvedWithTracking` deleted one by one (default policy: no approval for a delete). */
  readonly deletes: FlowFigures & { readonly pollsPerDelete: number };
  /** The same node pools scaled from 1 to 3 nodes (approved), then back to 1 (no approval), one by one. */
  readonly scaleUps: ScaleFigures;
  readonly scaleDowns: ScaleFigures;
  readonly cost: {
    readonly prices: typeof PRICES;
    readonly approvedWithoutTracking: CostFigures;
    /** The same requests if every Lambda invocation took 200 ms (AWS round trips are slower than a local stack's). */
    readonly approvedWithoutTracking200ms: CostFigures;
    readonly approvedWithTrackingMeasured: CostFigures;
    readonly approvedWithTrackingProjected: CostFigures;
    readonly trackingProjection: { readonly polls: number; readonly assumption: string };
    readonly rejected: CostFigures;
    /** Deletes as measured (the simulator takes NODE_READY_DELAY_MS to delete, polled every second). */
    readonly deletesMeasured: CostFigures;
    /** Scales as measured (nodes up or gone after NODE_READY_DELAY_MS, polled every second). */
    readonly scaleUpsMeasured: CostFigures;
    readonly scaleDownsMeasured: CostFigures;
    /** A scale-up whose nodes take the projection's start-up time, polled as node tracking polls. */
    readonly scaleUpsProjected: CostFigures;
    /** One whole life: a create and one scale-up (each with the projected start-up), then a delete. */
    readonly lifeProjected: CostFigures;
  };
  /** Leases: a leased node pool's life, and the lease sweep with 10,000 live leases (bench/leases.ts). */
  readonly leases?: LeaseFigures;
  readonly targets: ReadonlyArray<{
    readonly target: string;
    readonly limit: string;
    readonly measured: string;
    readonly met: boolean;
  }>;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** The repository's policy with room for thousands of requests, and node tracking as asked. */
function benchPolicy(tracking: boolean): Policy {
  const base = JSON.parse(readFileSync(join(ROOT, 'poolgate.config.json'), 'utf8')) as Policy;
  return {
    ...base,
    teams: base.teams.map((team) => ({
      ...team,
      quotas: Object.fromEntries(Object.keys(team.quotas).map((flavor) => [flavor, 1_000_000])),
    })),
    nodeTracking: tracking
      ? { enabled: true, pollIntervalSeconds: TRACKING_POLL_SECONDS, timeoutSeconds: 600 }
      : { enabled: false, pollIntervalSeconds: 30, timeoutSeconds: 3600 },
  };
}

function git(): { commit: string; dirtyFiles: string[] } {
  const run = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  try {
    return {
      commit: run('rev-parse', '--short', 'HEAD').trim(),
      dirtyFiles: run('status', '--porcelain').split('\n').filter(Boolean),
    };
  } catch {
    return { commit: 'unknown', dirtyFiles: [] };
  }
}

async function withStack<T>(
  tracking: boolean,
  body: (stack: RunningStack, token: string, outbox: OutboxIndex) => Promise<T>,
): Promise<T> {
  const stack = await startStack({
    policy: benchPolicy(tracking),
    env: { POOLGATE_NODE_READY_DELAY_MS: String(NODE_READY_DELAY_MS), POOLGATE_LOG_LEVEL: 'ERROR' },
  });
  try {
    return await body(stack, await stack.token('alice@example.com'), new OutboxIndex(stack.endpoints.outbox));
  } finally {
    await stack.stop();
    rmSync(stack.home, { recursive: true, force: true });
  }
}

/** Waits until every execution started so far has asked its approvers (the stack is idle again). */
async function drained(stack: RunningStack, executions: number): Promise<void> {
  await eventually(
    async () => ((await usage(stack)).lambda.requestApproval?.invocations ?? 0) >= executions || undefined,
    'the submitted requests to reach their approvers',
    300_000,
    200,
  );
}

const LEASE_COUNT = quick ? 4 : 20;

async function main(): Promise<void> {
  if (args.includes('--only-leases')) {
    // Leases alone (bench/leases.ts): written beside the full results, not over them.
    const figures = await leaseBench({ count: LEASE_COUNT, log });
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      join(RESULTS, 'leases-latest.json'),
      `${JSON.stringify({ startedAt: new Date().toISOString(), git: git(), figures }, null, 2)}\n`,
    );
    process.stdout.write(`${renderLeases(figures)}\n`);
    return;
  }
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const loadAtStart = loadavg()[0];

  const bundles = args.includes('--skip-bundles')
    ? undefined
    : await measureBundles({ runs: COUNTS.importRuns, variantRuns: COUNTS.variantRuns, log });
  if (bundles && args.includes('--only-bundles')) {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      join(RESULTS, 'bundles-latest.json'),
      `${JSON.stringify({ startedAt, loadAverage: { start: loadAtStart, end: loadavg()[0] }, git: git(), bundles }, null, 2)}\n`,
    );
    process.stdout.write(`${renderBundles(bundles)}\n`);
    log(
      `load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end; results in bench/results/bundles-latest.json`,
    );
    return;
  }

  const a = await withStack(false, async (stack, token, outbox) => {
    log('stack A (node tracking off): warm-up');
    await flows({ stack, token, outbox, decision: 'approve', count: 3, prefix: 'warm-approved' });
    await flows({ stack, token, outbox, decision: 'reject', count: 2, prefix: 'warm-rejected' });
    log(`${COUNTS.approved} approved requests, one by one`);
    const approved = await flows({
      stack,
      token,
      outbox,
      decision: 'approve',
      count: COUNTS.approved,
      prefix: 'approved',
    });
    log(`${COUNTS.rejected} rejected requests, one by one`);
    const rejected = await flows({
      stack,
      token,
      outbox,
      decision: 'reject',
      count: COUNTS.rejected,
      prefix: 'rejected',
    });
    const submit: SubmitFigures[] = [];
    let executions = (await usage(stack)).lambda.requestApproval?.invocations ?? 0;
    for (const concurrency of [1, 16, 64] as const) {
      const total = COUNTS.submit[concurrency];
      log(`submit: ${total} requests at concurrency ${concurrency}`);
      const { requestIds: _ids, ...figures } = await submitLoad(stack, token, {
        concurrency,
        total,
        prefix: `load-c${concurrency}`,
      });
      submit.push(figures);
      executions += total - figures.errors;
      // The next level starts on a quiet stack, not behind the workflows this one started.
      await drained(stack, executions);
    }
    return { approved, rejected, submit };
  });

  const trackedRun = await withStack(true, async (stack, token, outbox) => {
    log(`stack B (node tracking on): ${COUNTS.tracked} approved requests`);
    await flows({ stack, token, outbox, decision: 'approve', count: 1, prefix: 'warm-tracked' });
    const figures = await flows({
      stack,
      token,
      outbox,
      decision: 'approve',
      count: COUNTS.tracked,
      prefix: 'tracked',
      parallel: 5,
    });
    const names = Array.from({ length: COUNTS.tracked }, (_, i) => `tracked-${i}`);
    log(`stack B: the ${COUNTS.tracked} node pools scaled up to 3 (approved), then down to 1, one by one`);
    const scaleUps = await scaleFlows({ stack, token, outbox, names, count: 3, approve: true });
    const scaleDowns = await scaleFlows({ stack, token, outbox, names, count: 1, approve: false });
    log(`stack B: the ${COUNTS.tracked} node pools deleted, one by one`);
    const deletes = await deleteFlows({
      stack,
      token,
      outbox,
      names: Array.from({ length: COUNTS.tracked }, (_, i) => `tracked-${i}`),
    });
    return {
      figures: { ...figures, pollsPerRequest: figures.usage.lambda.checkNodes?.invocations ?? 0 },
      deletes,
      scaleUps,
      scaleDowns,
    };
  });
  const tracked = trackedRun.figures;

  // Cost: measured quantities; tracking projected with one more poll = CheckNodes + NodesReady? + WaitForNodes.
  const base = quantitiesOf(a.approved.usage, a.approved.transitions.mean);
  const trackedQ = quantitiesOf(tracked.usage, tracked.transitions.mean);
  const getItemUnits = a.approved.usage.dynamodb.reads
    ? a.approved.usage.dynamodb.readUnits / a.approved.usage.dynamodb.reads
    : 1;
  const perPoll: Quantities = {
    stateTransitions: 3,
    lambdaRequests: 1,
    lambdaGbSeconds: (Math.ceil(tracked.usage.lambda.checkNodes?.meanMs ?? 0) * LAMBDA_MEMORY_MB) / 1024 / 1000,
    httpRequests: 0,
    dynamoDbWriteUnits: 0,
    dynamoDbReadUnits: getItemUnits,
    emails: 0,
  };
  const projectedPolls = checksUntil(PROJECTED.nodesUpAfterSeconds, PROJECTED.pollSeconds);
  const { scaleUps, scaleDowns } = trackedRun;
  const scaleUpQ = quantitiesOf(scaleUps.usage, scaleUps.transitions.mean);
  const scaleUpProjectedQ = addQuantities(scaleUpQ, perPoll, projectedPolls - scaleUps.pollsPerScale);
  const createProjectedQ = addQuantities(trackedQ, perPoll, projectedPolls - tracked.pollsPerRequest);
  const deleteQ = quantitiesOf(trackedRun.deletes.usage, trackedRun.deletes.transitions.mean);
  const cost: BenchResults['cost'] = {
    prices: PRICES,
    approvedWithoutTracking: costOf(base),
    approvedWithoutTracking200ms: costOf(quantitiesOf(a.approved.usage, a.approved.transitions.mean, 200)),
    approvedWithTrackingMeasured: costOf(trackedQ),
    approvedWithTrackingProjected: costOf(createProjectedQ),
    trackingProjection: {
      polls: projectedPolls,
      assumption: `checks every ${PROJECTED.pollSeconds} s from the acceptance (the default schedule), nodes up after ${PROJECTED.nodesUpAfterSeconds / 60} min`,
    },
    rejected: costOf(quantitiesOf(a.rejected.usage, a.rejected.transitions.mean)),
    deletesMeasured: costOf(deleteQ),
    scaleUpsMeasured: costOf(scaleUpQ),
    scaleDownsMeasured: costOf(quantitiesOf(scaleDowns.usage, scaleDowns.transitions.mean)),
    scaleUpsProjected: costOf(scaleUpProjectedQ),
    lifeProjected: costOf(addQuantities(addQuantities(createProjectedQ, scaleUpProjectedQ, 1), deleteQ, 1)),
  };
  log(
    `create tracked through a ${PROJECTED.nodesUpAfterSeconds / 60}-minute node start: ${projectedPolls} checks, ` +
      `USD ${cost.approvedWithTrackingProjected.totalPerThousand.toFixed(4)} per 1,000 (target <= ${TRACKED_CREATE_LIMIT_USD.toFixed(2)})`,
  );
  const d = trackedRun.deletes;
  log(
    `deletes: ${d.transitions.mean} transitions, ${d.usage.dynamodb.writes} DynamoDB writes ` +
      `(${round(d.usage.dynamodb.writeUnits + d.usage.dynamodb.indexWriteUnits, 2)} WCU with indexes), ` +
      `${d.pollsPerDelete} polls each; USD ${cost.deletesMeasured.totalPerThousand} per 1,000 deletes`,
  );
  for (const [what, f, c] of [
    ['scale-ups', scaleUps, cost.scaleUpsMeasured],
    ['scale-downs', scaleDowns, cost.scaleDownsMeasured],
  ] as const) {
    log(
      `${what}: ${f.transitions.mean} transitions, ${f.usage.dynamodb.writes} DynamoDB writes ` +
        `(${round(f.usage.dynamodb.writeUnits + f.usage.dynamodb.indexWriteUnits, 2)} WCU with indexes), ` +
        `${f.pollsPerScale} polls each; USD ${c.totalPerThousand} per 1,000 ${what}`,
    );
  }
  log(
    `scale-ups with nodes up after ${PROJECTED.nodesUpAfterSeconds / 60} min (${projectedPolls} polls): ` +
      `USD ${cost.scaleUpsProjected.totalPerThousand} per 1,000; one whole life (create, one scale-up, delete): ` +
      `USD ${cost.lifeProjected.totalPerThousand} per 1,000 lives`,
  );

  const c16 = a.submit.find((s) => s.concurrency === 16);
  const c64 = a.submit.find((s) => s.concurrency === 64);
  const targets: Array<BenchResults['targets'][number]> = [];
  if (bundles) {
    for (const b of bundles.bundles) {
      const limit = b.requestPath ? 400 : 700;
      targets.push({
        target: `bundle ${b.functionId}`,
        limit: `${limit} KB`,
        measured: `${(b.bytes / 1024).toFixed(0)} KB`,
        met: b.bytes <= limit * 1024,
      });
    }
    for (const b of bundles.bundles) {
      const over = b.importMs - bundles.emptyImportMs;
      targets.push({
        target: `import ${b.functionId}`,
        limit: '+50 ms over empty',
        measured: `+${over.toFixed(1)} ms`,
        met: over <= 50,
      });
    }
  }
  targets.push(
    {
      target: 'transitions per approved request (tracking off)',
      limit: '<= 10',
      measured: String(a.approved.transitions.max),
      met: a.approved.transitions.max <= 10,
    },
    {
      target: 'transitions per rejected request',
      limit: '<= 6',
      measured: String(a.rejected.transitions.max),
      met: a.rejected.transitions.max <= 6,
    },
    {
      target: 'DynamoDB writes per approved request (tracking off)',
      limit: '<= 12',
      measured: String(a.approved.usage.dynamodb.writes),
      met: a.approved.usage.dynamodb.writes <= 12,
    },
    {
      target: 'submit p99 at concurrency 16',
      limit: '<= 150 ms',
      measured: `${c16?.p99Ms} ms`,
      met: (c16?.p99Ms ?? Infinity) <= 150,
    },
    { target: 'submit errors at concurrency 64', limit: '0', measured: String(c64?.errors), met: c64?.errors === 0 },
    {
      target: 'cost per 1,000 approved (tracking off)',
      limit: '<= $0.40',
      measured: `$${cost.approvedWithoutTracking.totalPerThousand.toFixed(4)}`,
      met: cost.approvedWithoutTracking.totalPerThousand <= 0.4,
    },
    {
      target: `cost per 1,000 creates tracked through a ${PROJECTED.nodesUpAfterSeconds / 60}-minute node start`,
      limit: `<= $${TRACKED_CREATE_LIMIT_USD.toFixed(2)}`,
      measured: `$${cost.approvedWithTrackingProjected.totalPerThousand.toFixed(4)} (${projectedPolls} checks)`,
      met: cost.approvedWithTrackingProjected.totalPerThousand <= TRACKED_CREATE_LIMIT_USD,
    },
  );

  log(`leases: ${LEASE_COUNT} leased node pools on a stack with a 1 s lease sweep`);
  const leases = args.includes('--skip-leases') ? undefined : await leaseBench({ count: LEASE_COUNT, log });

  const results: BenchResults = {
    meta: {
      startedAt,
      seconds: Math.round((Date.now() - started) / 1000),
      command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
      machine: {
        nproc: availableParallelism(),
        cpu: cpus()[0]?.model.trim() ?? 'unknown',
        memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
        node: process.version,
        os: `${osType()} ${release()}`,
      },
      loadAverage: { start: Math.round(loadAtStart * 100) / 100, end: Math.round(loadavg()[0] * 100) / 100 },
      git: git(),
      counts: COUNTS,
      lambdaMemoryMb: LAMBDA_MEMORY_MB,
    },
    bundles,
    submit: a.submit,
    approved: a.approved,
    rejected: a.rejected,
    approvedWithTracking: tracked,
    deletes: trackedRun.deletes,
    leases,
    scaleUps,
    scaleDowns,
    cost,
    targets,
  };

  mkdirSync(RESULTS, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(RESULTS, 'latest.json'), json);
  if (saveAs) writeFileSync(join(RESULTS, `${saveAs}.json`), json);
  process.stdout.write(`${renderReport(results)}\n`);
  if (leases) process.stdout.write(`\n${renderLeases(leases)}\n`);
  log(`results in bench/results/latest.json${saveAs ? ` and bench/results/${saveAs}.json` : ''}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
