/**
 * What the local Step Functions keeps of each execution, one JSON file per execution under its data
 * directory (written atomically), so that `npm start` can be killed and resume where it was.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly stateName?: string;
  readonly error?: string;
}

export interface ExecutionRecord {
  readonly name: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** The input StartExecution received (the resumed copy sees it as `$$.Execution.Input`). */
  readonly input: string;
  status: ExecutionStatus;
  readonly startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** The state being run and its input: where a restart resumes. */
  currentState?: string;
  currentStateInput?: unknown;
  history: HistoryEvent[];
}

export class ExecutionStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'executions');
    mkdirSync(this.dir, { recursive: true });
  }

  save(record: ExecutionRecord): void {
    const file = join(this.dir, `${record.name}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  }

  loadAll(): ExecutionRecord[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as ExecutionRecord);
  }
}
