/**
 * The README runs, top to bottom, on a fresh stack. Its fenced `sh` blocks are read from README.md
 * itself when the test runs; every block not marked `<!-- not-run: reason -->` just before its fence
 * is run, in order, in bash from the checkout, as a newcomer would in a second terminal:
 *  - against this test's own stack (free ports): `http://127.0.0.1:3000` and `:4010` in the text
 *    become its addresses, and POOLGATE_URL / POOLGATE_HOME point the CLI at it;
 *  - `<id>` becomes the request id the commands printed last (as a reader copies it);
 *  - variables carry from one block to the next (one shell session), and every command must exit 0;
 *  - the `# ...` lines after a command are its sample output: each must match a line it printed,
 *    in order (`...` stands for anything, times and `<id>` for any time and id; runs of spaces for
 *    column alignment).
 * BLOCKS below lists each block's first line: a block added, removed or changed fails here until the
 * list is updated, so nobody adds a block this test does not run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startStack, type RunningStack } from '../../local/harness/stack';

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');
const README_API = 'http://127.0.0.1:3000';
const README_SIMULATOR = 'http://127.0.0.1:4010';

/** Every `sh` block of the README, in order: its first line, and whether it runs. */
const BLOCKS: ReadonlyArray<{ readonly first: string; readonly run: boolean }> = [
  { first: 'npm ci && npm start     # the local stack: API on http://127.0.0.1:3000', run: false },
  { first: 'TOKEN=$(npx poolgate dev-token alice@example.com)      # alice is in team ml-platform', run: true },
  { first: 'npx poolgate outbox --to bob@example.com --limit 1', run: true },
  { first: "npx poolgate outbox --to bob@example.com --request <id> --approve --comment 'go'", run: true },
  { first: 'npx poolgate status <id> --wait --token "$TOKEN"', run: true },
  { first: 'curl -s http://127.0.0.1:4010/_sim/nodepools', run: true },
  {
    first: 'npm install -g .        # or `npm link`: a global `poolgate` that runs this checkout (no copy)',
    run: false,
  },
  { first: 'export POOLGATE_TOKEN=$(npx poolgate dev-token alice@example.com)', run: true },
  { first: 'npm run bench           # about 6-10 minutes on 2 cores; -- --quick for a first look', run: false },
  {
    first:
      'npm run synth              # offline: validates the policy file, bundles the Lambdas with local esbuild, runs cdk-nag',
    run: false,
  },
];

export interface ShBlock {
  readonly line: number;
  readonly text: string;
  /** The reason given in `<!-- not-run: reason -->`, if the block is marked so. */
  readonly notRun?: string;
}

/** The fenced `sh` blocks of a markdown text, with the not-run mark of each. */
export function shBlocks(markdown: string): ShBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```sh') continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`README.md:${i + 1}: a sh block that never ends`);
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const notRun = /^<!--\s*not-run:\s*(.+?)\s*-->$/.exec(lines[before]?.trim() ?? '')?.[1];
    blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n'), ...(notRun ? { notRun } : {}) });
    i = end;
  }
  return blocks;
}

interface Command {
  readonly script: string;
  /** The `# ` lines after it: what it prints. */
  readonly samples: string[];
}

/** A block's commands (a `\`-continued line belongs to its command) and the sample output after each. */
export function commandsOf(block: string): Command[] {
  const commands: Command[] = [];
  let pending: string[] = [];
  for (const line of block.split('\n')) {
    if (pending.length) {
      pending.push(line);
      if (!line.endsWith('\\')) {
        commands.push({ script: pending.join('\n'), samples: [] });
        pending = [];
      }
      continue;
    }
    if (line.startsWith('#')) {
      if (!commands.length) throw new Error(`a comment before any command: ${line}`);
      commands[commands.length - 1].samples.push(line.replace(/^# ?/, ''));
    } else if (line.trim()) {
      if (line.endsWith('\\')) pending = [line];
      else commands.push({ script: line, samples: [] });
    }
  }
  return commands;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A sample output line as a pattern for one printed line. */
export function samplePattern(sample: string): RegExp {
  const parts = sample.split(/(\.\.\.|<id>|\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?| {2,})/);
  const pattern = parts
    .map((part) =>
      part === '...'
        ? '.*'
        : part === '<id>'
          ? '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
          : /^\d{4}-/.test(part)
            ? '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d(?::\\d\\d)?'
            : /^ {2,}$/.test(part)
              ? ' +'
              : escape(part),
    )
    .join('');
  return new RegExp(`^${pattern}\\s*$`);
}

let stack: RunningStack;
let work: string;

beforeAll(async () => {
  stack = await startStack();
  work = mkdtempSync(join(tmpdir(), 'poolgate-readme-'));
});
afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('knows every sh block of the README, and which ones cannot run here and why', () => {
  const blocks = shBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  expect(blocks.map((b) => ({ first: b.text.split('\n')[0], run: !b.notRun }))).toEqual(BLOCKS);
});

it('runs every runnable sh block of the README in order on a fresh stack, each command printing what the README shows', () => {
  const simulator = stack.endpoints.modelArts;
  const blocks = shBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter((b) => !b.notRun);
  const state = join(work, 'shell-state');
  writeFileSync(state, '');
  const env = {
    ...process.env,
    POOLGATE_URL: stack.endpoints.api,
    POOLGATE_HOME: stack.home,
    NO_COLOR: '1',
  } as Record<string, string>;
  delete env.POOLGATE_TOKEN;
  const ids: string[] = [];
  const local = (text: string) =>
    text.split(README_API).join(stack.endpoints.api).split(README_SIMULATOR).join(simulator);
  const out = JSON.stringify(join(work, 'out'));
  // `<id>` is the last request id a command printed, as the reader copies it (a shell variable, so
  // that a command can use the id printed by the command just before it in the same block).
  const ID = '("requestId":"|Submitted request |^Request +)[0-9a-f-]{36}';

  for (const block of blocks) {
    const commands = commandsOf(block.text);
    const script = [
      'set -a',
      `source ${JSON.stringify(state)}`,
      ...commands.map((c, i) =>
        [
          `echo "@@command ${i}@@"`,
          `{ ${local(c.script).split('<id>').join('${README_ID:?no request id printed yet}')}\n} > ${out} 2>&1; rc=$?; cat ${out}`,
          `id=$(grep -oE '${ID}' ${out} | grep -oE '[0-9a-f-]{36}$' | tail -1); [ -n "$id" ] && README_ID=$id`,
          `[ $rc -eq 0 ] || { echo "@@failed ${i} $rc@@"; exit 1; }`,
        ].join('\n'),
      ),
      `export -p > ${JSON.stringify(state)}`,
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    const output = (run.stdout ?? '').replace(/\r/g, '');
    const failed = /@@failed (\d+) (\d+)@@/.exec(output);
    if (run.status !== 0 || failed)
      throw new Error(
        `README.md:${block.line}: ${failed ? `command ${Number(failed[1]) + 1} exited ${failed[2]}` : `bash exited ${run.status}`}\n${output}\n${run.stderr ?? ''}`,
      );
    const printed = output.split(/@@command \d+@@\n/).slice(1);
    commands.forEach((command, i) => {
      const lines = (printed[i] ?? '').split('\n');
      let at = 0;
      for (const sample of command.samples) {
        const pattern = samplePattern(local(sample));
        const found = lines.findIndex((line, j) => j >= at && pattern.test(line));
        if (found < 0)
          throw new Error(
            `README.md:${block.line}: \`${command.script.split('\n')[0]}\` printed no line like\n  ${sample}\n(in order) but:\n${printed[i]}`,
          );
        at = found + 1;
      }
      for (const match of (printed[i] ?? '').matchAll(
        /(?:"requestId":"|Submitted request |^Request +)([0-9a-f-]{36})/gm,
      ))
        ids.push(match[1]);
    });
  }
  expect(ids.length).toBeGreaterThanOrEqual(2);
});
