/**
 * What the local Step Functions keeps of each execution: one JSON file per execution under
 * `<dataDir>/executions/`, replaced atomically (write a temp file, then rename), so that a SIGKILL
 * leaves either the previous or the next version of a file, never half of one.
 *
 * Writes of one execution are serialised and coalesced: while a write is in flight, further saves
 * collapse into one more write of the latest state. No fsync: the files must survive the process
 * being killed, not the machine losing power.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsonObject, type Json } from './json';

export const RECORD_FORMAT = 1;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One entry of an execution's history, in Step Functions' event vocabulary (see history.ts). */
export interface HistoryEvent {
  readonly id: number;
  /** e.g. ExecutionStarted, TaskStateEntered, ChoiceStateExited, TaskFailed, TaskTimedOut, ExecutionSucceeded. */
  readonly type: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly stateName?: string;
  /** State input (…StateEntered), state output (…StateExited), execution input or output. */
  readonly data?: Json;
  readonly error?: string;
  readonly cause?: string;
}

export interface OpenTaskToken {
  readonly token: string;
  readonly stateName: string;
}

export interface ExecutionRecord {
  readonly format: typeof RECORD_FORMAT;
  readonly name: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** The input exactly as StartExecution received it; `$$.Execution.Input` is this, also after a restart. */
  readonly input: string;
  status: ExecutionStatus;
  /** Epoch milliseconds. */
  readonly startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** The state being run and its input: where a restart resumes. Unset once the execution has ended. */
  current?: { readonly stateName: string; readonly input: Json };
  history: HistoryEvent[];
  /** States entered plus retries, which is what AWS bills as state transitions. */
  stateTransitions: number;
  /** Tokens of the callback task that is waiting now (several after a restart: the old ones stay valid). */
  openTokens: OpenTaskToken[];
  /** Tokens whose task timed out: they answer TaskTimedOut. */
  timedOutTokens: string[];
}

export class ExecutionStore {
  private readonly dir: string;
  private readonly slots = new Map<string, { tail: Promise<void>; queued?: Promise<void> }>();
  private sequence = 0;

  constructor(
    dataDir: string,
    private readonly onError: (error: unknown) => void = (error) =>
      process.stderr.write(`step functions emulator: ${String(error)}\n`),
  ) {
    this.dir = join(dataDir, 'executions');
    mkdirSync(this.dir, { recursive: true });
  }

  /**
   * Schedules a write of `record` as it is when the write starts. The promise settles once a write
   * including every change made before this call is on disk; it rejects if that write failed.
   */
  save(record: ExecutionRecord): Promise<void> {
    let slot = this.slots.get(record.name);
    if (!slot) {
      slot = { tail: Promise.resolve() };
      this.slots.set(record.name, slot);
    }
    if (slot.queued) return slot.queued; // not started yet: it will write the latest state anyway
    const current = slot;
    const write = current.tail.then(() => {
      current.queued = undefined;
      return this.write(record);
    });
    current.queued = write;
    current.tail = write.catch((error: unknown) => this.onError(error));
    return write;
  }

  /** Resolves once every write scheduled so far has ended. */
  async flush(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => slot.tail));
  }

  /** Every saved execution; leftovers of interrupted writes are removed, unreadable files reported and skipped. */
  loadAll(): ExecutionRecord[] {
    const records: ExecutionRecord[] = [];
    for (const file of readdirSync(this.dir)) {
      const path = join(this.dir, file);
      if (file.endsWith('.tmp')) {
        rmSync(path, { force: true });
        continue;
      }
      if (!file.endsWith('.json')) continue;
      try {
        records.push(parseRecord(JSON.parse(readFileSync(path, 'utf8')) as unknown));
      } catch (error) {
        this.onError(new Error(`skipping ${path}: ${(error as Error).message}`));
      }
    }
    return records;
  }

  private async write(record: ExecutionRecord): Promise<void> {
    const file = join(this.dir, `${record.name}.json`);
    const temp = `${file}.${process.pid}.${++this.sequence}.tmp`;
    await writeFile(temp, JSON.stringify(record));
    await rename(temp, file);
  }
}

function parseRecord(value: unknown): ExecutionRecord {
  if (!isJsonObject(value) || value.format !== RECORD_FORMAT)
    throw new Error(`not an execution record of format ${RECORD_FORMAT}`);
  for (const field of ['name', 'executionArn', 'stateMachineArn', 'input', 'status'] as const) {
    if (typeof value[field] !== 'string') throw new Error(`${field} is missing`);
  }
  if (typeof value.startDate !== 'number' || !Array.isArray(value.history))
    throw new Error('startDate or history is missing');
  return value as unknown as ExecutionRecord;
}
