/**
 * Task tokens of callback tasks (`.waitForTaskToken`): which task each open token completes, and which
 * tokens timed out. The open and timed-out tokens are mirrored into the execution record, so they
 * survive a restart.
 *
 * A token answers SendTaskSuccess/SendTaskFailure once. A token whose task timed out answers
 * TaskTimedOut; any other unknown or used token answers TaskDoesNotExist.
 *
 * After a restart the waiting task runs again and issues a new token; the tokens it had handed out
 * before stay valid for it (on AWS the task never stopped waiting, so they would still work).
 */
import { randomBytes } from 'node:crypto';
import type { Json } from './json';
import { SfnServiceError } from './protocol';
import type { ExecutionRecord } from './store';

/** A callback task waiting for its answer. */
export interface WaitingTask {
  readonly record: ExecutionRecord;
  readonly stateName: string;
  readonly tokens: readonly string[];
  /** The answer: SendTaskSuccess's output, or SendTaskFailure's error. */
  readonly answer: Promise<Json>;
}

interface Entry extends WaitingTask {
  resolve(output: Json): void;
  reject(error: Error): void;
}

/** An unguessable token: 32 random bytes, base64url. */
export function newTaskToken(): string {
  return randomBytes(32).toString('base64url');
}

export class TaskTokens {
  private readonly open = new Map<string, Entry>();
  private readonly timedOut = new Set<string>();
  /** Per execution, the tokens a restart carried over, valid for the next wait of that state. */
  private readonly carried = new Map<string, { stateName: string; tokens: string[] }>();

  /** Registers what a loaded record knows: its timed-out tokens, and the open ones of a running execution. */
  restore(record: ExecutionRecord): void {
    for (const token of record.timedOutTokens) this.timedOut.add(token);
    const stateName = record.current?.stateName;
    const tokens = record.openTokens.filter((open) => open.stateName === stateName).map((open) => open.token);
    if (record.status === 'RUNNING' && stateName && tokens.length) this.carried.set(record.name, { stateName, tokens });
    record.openTokens = [];
  }

  /** Opens a wait for the task `stateName` of `record` under `token` (and any token carried over for it). */
  wait(record: ExecutionRecord, stateName: string, token: string): WaitingTask {
    const carried = this.carried.get(record.name);
    this.carried.delete(record.name);
    const tokens = [token, ...(carried?.stateName === stateName ? carried.tokens : [])];
    let resolve!: (output: Json) => void;
    let reject!: (error: Error) => void;
    const answer = new Promise<Json>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry = { record, stateName, tokens, answer, resolve, reject };
    for (const t of tokens) this.open.set(t, entry);
    record.openTokens = [...record.openTokens, ...tokens.map((t) => ({ token: t, stateName }))];
    return entry;
  }

  /** SendTaskSuccess. */
  succeed(token: string, output: Json): ExecutionRecord {
    const entry = this.take(token);
    entry.resolve(output);
    return entry.record;
  }

  /** SendTaskFailure: the task fails with `error` (its name is what Retry and Catch match). */
  fail(token: string, error: Error): ExecutionRecord {
    const entry = this.take(token);
    entry.reject(error);
    return entry.record;
  }

  /** Throws the error SendTaskHeartbeat would answer for a token that is not waiting. */
  check(token: string): ExecutionRecord {
    const entry = this.open.get(token);
    if (!entry) throw this.notWaiting(token);
    return entry.record;
  }

  /** Fails a still-waiting task from inside (its function invocation failed). False if it was answered already. */
  failIfWaiting(task: WaitingTask, error: Error): boolean {
    const entry = this.open.get(task.tokens[0]);
    if (entry !== task) return false;
    this.remove(entry);
    entry.reject(error);
    return true;
  }

  /** The task timed out: its tokens answer TaskTimedOut from now on. Its answer promise is left to the engine. */
  timeOut(task: WaitingTask): void {
    const entry = this.open.get(task.tokens[0]);
    if (entry !== task) return;
    this.remove(entry);
    for (const token of entry.tokens) this.timedOut.add(token);
    entry.record.timedOutTokens = [...entry.record.timedOutTokens, ...entry.tokens];
  }

  /** Forgets a task that ended (answered, or its execution stopped); rejects it with `reason` if it still waited. */
  release(task: WaitingTask, reason?: Error): void {
    const entry = this.open.get(task.tokens[0]);
    if (entry !== task) return;
    this.remove(entry);
    if (reason) entry.reject(reason);
  }

  /** Ends every wait of an execution that stopped or ended. */
  releaseExecution(executionName: string, reason: Error): void {
    this.carried.delete(executionName);
    const entries = new Set([...this.open.values()].filter((entry) => entry.record.name === executionName));
    for (const entry of entries) this.release(entry, reason);
  }

  /**
   * Drops every wait of an execution from memory only, rejecting it with `reason`: the emulator is
   * closing, and the record on disk must keep its open tokens for the restart.
   */
  forgetExecution(executionName: string, reason: Error): void {
    this.carried.delete(executionName);
    for (const [token, entry] of [...this.open]) {
      if (entry.record.name !== executionName) continue;
      this.open.delete(token);
      entry.reject(reason);
    }
  }

  private take(token: string): Entry {
    const entry = this.open.get(token);
    if (!entry) throw this.notWaiting(token);
    this.remove(entry);
    return entry;
  }

  private remove(entry: Entry): void {
    for (const token of entry.tokens) this.open.delete(token);
    entry.record.openTokens = entry.record.openTokens.filter((open) => !entry.tokens.includes(open.token));
  }

  private notWaiting(token: string): SfnServiceError {
    if (this.timedOut.has(token)) return new SfnServiceError('TaskTimedOut', 'Task Timed Out');
    return new SfnServiceError('TaskDoesNotExist', 'Task Does Not Exist');
  }
}
