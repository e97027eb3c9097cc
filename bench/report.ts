/** The benchmark's results as Markdown tables (printed, and pasted into docs/performance.md). */
import type { BundleReport } from './bundles';
import type { BenchResults } from './main';

function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((row) => row.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (values: readonly string[]) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

const kb = (bytes: number) => (bytes / 1024).toFixed(0);
const usd = (value: number) => `$${value.toFixed(4)}`;

/** Section 5: bundle sizes and cold imports (also printed alone by `npm run bench -- --only-bundles`). */
export function renderBundles(b: BundleReport): string {
  const out: string[] = [];
  out.push(
    `### 5. Bundles (esbuild ${b.options.format}, ${b.options.target}, minify, source maps, SDK bundled) and cold import (median of ${b.runs} fresh processes)`,
    '',
    `Empty module: ${b.emptyImportMs} ms (${b.emptyImportWithSourceMapsMs} ms with NODE_OPTIONS=${b.nodeOptions}).`,
    '',
  );
  out.push(
    table(
      [
        'handler',
        'KB',
        'limit KB',
        'import ms',
        'over empty',
        `with ${b.nodeOptions}`,
        'SDK external: KB',
        'import ms',
        'largest parts (KB)',
      ],
      b.bundles.map((x) => [
        x.functionId,
        kb(x.bytes),
        x.requestPath ? 400 : 700,
        x.importMs,
        (x.importMs - b.emptyImportMs).toFixed(1),
        x.importWithSourceMapsMs,
        kb(x.sdkExternal.bytes),
        x.sdkExternal.importMs,
        x.topInputs
          .slice(0, 4)
          .map(([name, bytes]) => `${name} ${kb(bytes)}`)
          .join(', '),
      ]),
    ),
    '',
    'Where it comes from: each dependency bundled alone with the same options.',
    '',
    table(
      ['dependency', 'KB', 'import ms', 'over empty'],
      b.components.map((c) => [c.name, kb(c.bytes), c.importMs, (c.importMs - b.emptyImportMs).toFixed(1)]),
    ),
  );
  return out.join('\n');
}

/** The scale batches of stack B, labelled (absent in results saved before scales were measured). */
function scaleRows(r: BenchResults): Array<[string, BenchResults['scaleUps']]> {
  if (!r.scaleUps) return [];
  return [
    ['scale-up 1 -> 3, approved, tracking on', r.scaleUps],
    ['scale-down 3 -> 1, tracking on', r.scaleDowns],
  ];
}

export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(
    `poolgate benchmark — ${m.startedAt} — ${m.machine.nproc} CPU (${m.machine.cpu}), ${m.machine.memoryGiB} GiB, Node ${m.machine.node}, ${m.machine.os}`,
    `commit ${m.git.commit}${m.git.dirtyFiles.length ? ` + ${m.git.dirtyFiles.length} uncommitted file(s)` : ''}; \`${m.command}\`; ${m.seconds} s; load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end`,
    '',
  );

  out.push('### 1. Submit (POST /v2/{project}/pools/{pool}/nodepools, local stack)', '');
  out.push(
    table(
      [
        'concurrency',
        'requests',
        'req/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'errors',
        'in handler p50 / p99 ms',
        'stack CPU ms / request',
      ],
      r.submit.map((s) => [
        s.concurrency,
        s.requests,
        s.requestsPerSecond,
        s.p50Ms,
        s.p95Ms,
        s.p99Ms,
        s.maxMs,
        s.errors,
        `${s.handlerP50Ms} / ${s.handlerP99Ms}`,
        s.stackCpuMsPerRequest ?? '-',
      ]),
    ),
    '',
  );

  const d = r.approved.decisionToModelArtsMs;
  out.push('### 2. Decision to ModelArts (approval POST sent -> simulator received the create)', '');
  out.push(
    table(['requests', 'p50 ms', 'p99 ms', 'max ms'], [[d?.samples ?? 0, d?.p50 ?? '-', d?.p99 ?? '-', d?.max ?? '-']]),
    '',
  );

  out.push('### 3. State transitions per request (Step Functions emulator, states entered + retries)', '');
  out.push(
    table(
      ['request', 'mean', 'min', 'max', 'path of the first one'],
      [
        [
          'approved, node tracking off',
          r.approved.transitions.mean,
          r.approved.transitions.min,
          r.approved.transitions.max,
          r.approved.path.join(' > '),
        ],
        [
          'rejected by the approver',
          r.rejected.transitions.mean,
          r.rejected.transitions.min,
          r.rejected.transitions.max,
          r.rejected.path.join(' > '),
        ],
        [
          `approved, node tracking on (${r.approvedWithTracking.pollsPerRequest} polls)`,
          r.approvedWithTracking.transitions.mean,
          r.approvedWithTracking.transitions.min,
          r.approvedWithTracking.transitions.max,
          '... CreateNodePool > Track? > (WaitForNodes > CheckNodes > NodesReady?)* > Finalize',
        ],
        ...scaleRows(r).map(([label, f]) => [
          `${label} (${f.pollsPerScale} polls)`,
          f.transitions.mean,
          f.transitions.min,
          f.transitions.max,
          f.path.join(' > '),
        ]),
      ],
    ),
    '',
  );

  out.push("### 4. DynamoDB per request (counted at the handlers' SDK client)", '');
  const ddb = (label: string, f: BenchResults['approved']) => [
    label,
    f.usage.dynamodb.reads,
    f.usage.dynamodb.writes,
    f.usage.dynamodb.readUnits,
    f.usage.dynamodb.writeUnits,
    f.usage.dynamodb.indexWriteUnits,
    Object.entries(f.usage.dynamodb.writesByItem)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  ];
  out.push(
    table(
      ['request', 'reads', 'writes', 'read units', 'write units (table)', 'write units (indexes)', 'writes by item'],
      [
        ddb('approved, tracking off', r.approved),
        ddb('rejected', r.rejected),
        ddb('approved, tracking on', r.approvedWithTracking),
        ...scaleRows(r).map(([label, f]) => ddb(label, f)),
      ],
    ),
    '',
  );

  if (r.bundles) out.push(renderBundles(r.bundles), '');

  out.push(`### 6. AWS cost per 1,000 requests (${r.cost.prices.region} list prices, ${r.cost.prices.asOf})`, '');
  const costRows = (label: string, c: BenchResults['cost']['approvedWithoutTracking']) => [
    label,
    ...c.lines.map((l) => usd(l.perThousand)),
    usd(c.totalPerThousand),
    usd(c.otherLines.reduce((s, l) => s + l.perThousand, 0)),
  ];
  out.push(
    table(
      [
        'requests',
        'Step Functions',
        'Lambda req',
        'Lambda GB-s',
        'DynamoDB write',
        'DynamoDB read',
        'HTTP API',
        'total',
        '+ SES mail',
      ],
      [
        costRows('approved, tracking off', r.cost.approvedWithoutTracking),
        costRows('  same, every invocation 200 ms', r.cost.approvedWithoutTracking200ms),
        costRows(
          `approved, tracking on (measured, ${r.approvedWithTracking.pollsPerRequest} polls)`,
          r.cost.approvedWithTrackingMeasured,
        ),
        costRows(
          `approved, tracking on (${r.cost.trackingProjection.polls} polls: ${r.cost.trackingProjection.assumption})`,
          r.cost.approvedWithTrackingProjected,
        ),
        costRows('rejected by the approver', r.cost.rejected),
        ...(r.scaleUps
          ? [
              costRows(
                `scale-up 1 -> 3, approved (measured, ${r.scaleUps.pollsPerScale} polls)`,
                r.cost.scaleUpsMeasured,
              ),
              costRows(`scale-up 1 -> 3, approved (${r.cost.trackingProjection.assumption})`, r.cost.scaleUpsProjected),
              costRows(`scale-down 3 -> 1 (measured, ${r.scaleDowns.pollsPerScale} polls)`, r.cost.scaleDownsMeasured),
              costRows(`delete (measured, ${r.deletes.pollsPerDelete} polls)`, r.cost.deletesMeasured),
              costRows(
                `one life: create + scale-up (${r.cost.trackingProjection.assumption}) + delete`,
                r.cost.lifeProjected,
              ),
            ]
          : []),
      ],
    ),
    '',
  );

  out.push('### Targets', '');
  out.push(
    table(
      ['target', 'limit', 'measured', 'met'],
      r.targets.map((t) => [t.target, t.limit, t.measured, t.met ? 'yes' : 'NO']),
    ),
    '',
  );
  return out.join('\n');
}
