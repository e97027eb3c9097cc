/**
 * Runs the real local stack (`poolgate start`) as a child process on free ports with its own
 * $POOLGATE_HOME, as a user would, and gives tests and the benchmark its endpoints, tokens and outbox.
 * It lives in local/ (not test/) so that bench/ never imports a test file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LocalStackEndpoints } from '../main';
import { loadOrCreateDevIssuer, type IssueTokenOptions } from '../dev-issuer';
import { eventually } from './poll';

const ROOT = resolve(__dirname, '../..');

export interface RunningStack {
  readonly home: string;
  /** The stack's process id (the benchmark reads its CPU time). */
  readonly pid: number;
  readonly endpoints: LocalStackEndpoints;
  readonly output: () => string;
  /** A token of the stack's dev issuer; the options make tokens for the identity checks (other claims, algorithms). */
  token(email: string, options?: IssueTokenOptions): Promise<string>;
  /**
   * Stops the process: SIGTERM by default, SIGKILL to simulate a crash. A home this stack created
   * is removed, unless `keepHome` (a restart follows).
   */
  stop(signal?: NodeJS.Signals, keepHome?: boolean): Promise<void>;
}

export interface StackOptions {
  /** Reuse a home (a restart); a fresh temp dir otherwise. */
  readonly home?: string;
  /** A policy object written to the home and used instead of poolgate.config.json. */
  readonly policy?: unknown;
  readonly env?: Record<string, string>;
}

export function newHome(): string {
  return mkdtempSync(join(tmpdir(), 'poolgate-e2e-'));
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const ownsHome = options.home === undefined;
  const home = options.home ?? newHome();
  const endpointsFile = join(home, 'endpoints.json');
  rmSync(endpointsFile, { force: true });
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    POOLGATE_HOME: home,
    POOLGATE_HTTP_PORT: '0',
    POOLGATE_SFN_PORT: '0',
    POOLGATE_DYNAMODB_PORT: '0',
    POOLGATE_MODELARTS_PORT: '0',
    // Nodes come up quickly in tests (the default is a few seconds, like a demo).
    POOLGATE_NODE_READY_DELAY_MS: '300',
    ...options.env,
  };
  if (options.policy) {
    const file = join(home, 'policy.json');
    writeFileSync(file, JSON.stringify(options.policy));
    env.POOLGATE_CONFIG = file;
  }
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'cli/poolgate.mjs'), 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code: number | null) => resolve(code)));

  // A start that fails ends the wait at once, not at the deadline.
  const started = await eventually(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) return 'exited' as const;
      return existsSync(endpointsFile)
        ? (JSON.parse(readFileSync(endpointsFile, 'utf8')) as LocalStackEndpoints)
        : undefined;
    },
    'the local stack to start',
    30_000,
  ).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${output}`);
  });
  // Its whole output is read once its pipes close.
  if (started === 'exited') throw new Error(`poolgate start exited with ${await closed}:\n${output}`);
  const endpoints = started;
  await eventually(
    async () => ((await fetch(`${endpoints.api}/health`)).status === 200 ? true : undefined),
    '/health to answer 200',
  );

  return {
    home,
    pid: child.pid ?? -1,
    endpoints,
    output: () => output,
    token: async (email, options) => (await loadOrCreateDevIssuer(home)).issueToken(email, options),
    stop: async (signal = 'SIGTERM', keepHome = false) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      if (ownsHome && !keepHome) rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface OutboxMail {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly raw: string;
  readonly links: string[];
}

/** The e-mails in the stack's outbox, parsed just enough for tests. */
export function readOutbox(stack: RunningStack): OutboxMail[] {
  const dir = stack.endpoints.outbox;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((file) => {
      const raw = readFileSync(join(dir, file), 'utf8');
      const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(raw)?.[1]?.trim() ?? '';
      const decoded = decodeBodies(raw);
      const links = [
        ...new Set(
          (decoded.match(/https?:\/\/[^\s"<>]+\/approvals\/[^\s"<>]+/g) ?? []).map((l) => l.replace(/&amp;/g, '&')),
        ),
      ];
      return { file, to: header('To'), subject: header('Subject'), raw: decoded, links };
    });
}

/** Undoes quoted-printable and base64 body encodings so tests can read links. */
export function decodeBodies(raw: string): string {
  const unQp = raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const base64Parts = [...raw.matchAll(/Content-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/gi)].map((m) =>
    Buffer.from(m[1].replace(/\s/g, ''), 'base64').toString('utf8'),
  );
  return [Buffer.from(unQp, 'latin1').toString('utf8'), ...base64Parts].join('\n');
}

export interface SlackCallFile {
  readonly file: string;
  readonly method: string;
  readonly payload: {
    channel?: string;
    ts?: string;
    text?: string;
    user?: string;
    blocks?: Array<{ type: string; elements?: Array<{ value?: string }> }>;
  };
}

/** The Slack Web API calls the stand-in received, oldest first. */
export function readSlackCalls(stack: RunningStack): SlackCallFile[] {
  const dir = stack.endpoints.outbox;
  return readdirSync(dir)
    .filter((f) => f.includes('-slack-') && f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Omit<SlackCallFile, 'file'>) }));
}
