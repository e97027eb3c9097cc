/**
 * What the local stack consumed, counted where AWS would bill it, for the benchmark (bench/):
 * - DynamoDB: every command the handlers' document client sends (a middleware on
 *   `documentClient()`, added from here: lambdas/ knows nothing of it), with the capacity units
 *   dynalite reports (size-based, as DynamoDB bills them). Index writes are derived from
 *   contracts/table.ts (see {@link indexWriteUnits});
 * - Lambda: invocations and durations of each handler, as the local runtime runs them;
 * - HTTP API: requests that reached a route.
 * Served as JSON at `GET /_local/usage` of the HTTP API; the numbers only grow (take differences).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE_INDEXES } from '../contracts/table';
import type { FunctionId } from '../contracts/functions';
import { sendError, sendJson, type Mount } from './http-api';

export const USAGE_PATH = '/_local/usage';

export interface DynamoDbUsage {
  readonly calls: number;
  /** Capacity units of the table as DynamoDB bills them (reads: 4 KB units, writes: 1 KB units). */
  readonly tableUnits: number;
  /** Write units of the global secondary indexes, derived (see indexWriteUnits). */
  readonly indexUnits: number;
  /** Calls refused by their condition (DynamoDB bills a refused write as a write of one unit or more). */
  readonly conditionFailures: number;
  /** Other failures. */
  readonly errors: number;
}

export interface LambdaUsage {
  readonly invocations: number;
  readonly errors: number;
  readonly totalMs: number;
  /** Every duration, in invocation order (milliseconds, fractional). */
  readonly durationsMs: readonly number[];
}

export interface UsageSnapshot {
  /** By command name (`GetItemCommand`, `UpdateItemCommand`, ...). */
  readonly dynamodb: Record<string, DynamoDbUsage>;
  /** By item kind (the partition key's prefix: `REQUEST`, `APPROVAL`, `QUOTA`, ...), writes only. */
  readonly dynamodbWritesByItem: Record<string, number>;
  readonly lambda: Partial<Record<FunctionId, LambdaUsage>>;
  readonly httpRequests: number;
  /**
   * Runs of the scheduled functions that finished (the local timers), by function: kept apart from
   * `lambda`, which the benchmark reads per request. Tests wait on it for "the next run".
   */
  readonly scheduledRuns: Partial<Record<FunctionId, number>>;
}

export const DYNAMODB_READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);
export const DYNAMODB_WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };

export class UsageMeter {
  private readonly dynamodb = new Map<string, Mutable<DynamoDbUsage>>();
  private readonly writesByItem = new Map<string, number>();
  private readonly scheduled = new Map<FunctionId, number>();
  private readonly lambda = new Map<FunctionId, Mutable<LambdaUsage>>();
  /** The index key attribute values each item is known to carry (learnt from the writes that set them). */
  private readonly indexKeyValues = new Map<string, Map<string, unknown>>();
  private httpRequests = 0;

  /** Counts every command `client` sends from now on. */
  meterDynamoDb(client: DynamoDBDocumentClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'UnknownCommand';
        const input = args.input as Record<string, unknown>;
        const usage = this.dynamoDbUsage(command);
        usage.calls += 1;
        const write = DYNAMODB_WRITES.has(command);
        const item = write ? this.noteWrite(command, input) : undefined;
        try {
          // Ask dynalite for the units it would bill (the handlers never read this field).
          const result = await next({ ...args, input: { ReturnConsumedCapacity: 'TOTAL', ...input } });
          const units = consumedUnits((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          usage.tableUnits += units;
          if (item) usage.indexUnits += this.indexWriteUnits(item, units);
          return result;
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException') {
            usage.conditionFailures += 1;
            usage.tableUnits += write ? 1 : 0;
          } else {
            usage.errors += 1;
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'poolgateLocalUsageMeter', override: true },
    );
  }

  /** Runs one handler invocation and records its duration. */
  async timeInvocation<T>(functionId: FunctionId, http: boolean, invoke: () => Promise<T>): Promise<T> {
    if (http) this.httpRequests += 1;
    const usage = this.lambdaUsage(functionId);
    const started = performance.now();
    try {
      return await invoke();
    } catch (error) {
      usage.errors += 1;
      throw error;
    } finally {
      const ms = performance.now() - started;
      usage.invocations += 1;
      usage.totalMs += ms;
      usage.durationsMs.push(ms);
    }
  }

  snapshot(): UsageSnapshot {
    return {
      dynamodb: Object.fromEntries([...this.dynamodb].map(([name, usage]) => [name, { ...usage }])),
      dynamodbWritesByItem: Object.fromEntries(this.writesByItem),
      lambda: Object.fromEntries(
        [...this.lambda].map(([id, usage]) => [id, { ...usage, durationsMs: [...usage.durationsMs] }]),
      ),
      httpRequests: this.httpRequests,
      scheduledRuns: Object.fromEntries(this.scheduled),
    };
  }

  /** Counts one finished run of a scheduled function (see {@link UsageSnapshot.scheduledRuns}). */
  async timeScheduledRun<T>(functionId: FunctionId, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } finally {
      this.scheduled.set(functionId, (this.scheduled.get(functionId) ?? 0) + 1);
    }
  }

  /** `GET /_local/usage`: the snapshot as JSON. */
  mount(): Mount {
    return {
      prefix: USAGE_PATH,
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        if (req.method !== 'GET') return sendError(res, 405, `${req.method} is not supported here`, { allow: 'GET' });
        sendJson(res, 200, this.snapshot());
      },
    };
  }

  private dynamoDbUsage(command: string): Mutable<DynamoDbUsage> {
    let usage = this.dynamodb.get(command);
    if (!usage) {
      usage = { calls: 0, tableUnits: 0, indexUnits: 0, conditionFailures: 0, errors: 0 };
      this.dynamodb.set(command, usage);
    }
    return usage;
  }

  private lambdaUsage(functionId: FunctionId): Mutable<LambdaUsage> {
    let usage = this.lambda.get(functionId);
    if (!usage) {
      usage = { invocations: 0, errors: 0, totalMs: 0, durationsMs: [] };
      this.lambda.set(functionId, usage);
    }
    return usage;
  }

  /** Which item a write touches, and the values of its index key attributes before and after. */
  private noteWrite(command: string, input: Record<string, unknown>): IndexedWrite | undefined {
    const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
    if (!key || typeof key.pk !== 'string') return undefined;
    const id = `${key.pk}\u0000${String(key.sk)}`;
    const kind = key.pk.split('#')[0];
    this.writesByItem.set(kind, (this.writesByItem.get(kind) ?? 0) + 1);
    const before = this.indexKeyValues.get(id) ?? new Map<string, unknown>();
    const after = new Map(before);
    if (command === 'DeleteItemCommand') after.clear();
    if (input.Item) {
      after.clear();
      for (const [name, value] of Object.entries(input.Item))
        if (INDEX_KEY_ATTRIBUTES.has(name)) after.set(name, value);
    }
    if (typeof input.UpdateExpression === 'string') {
      const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
      const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
      const attribute = (token: string) => (token.startsWith('#') ? names[token] : token);
      for (const clause of input.UpdateExpression.split(/\b(?=SET|REMOVE|ADD|DELETE)\b/)) {
        const [keyword, ...rest] = clause.trim().split(/\s+/);
        const body = rest.join(' ');
        if (keyword === 'REMOVE') for (const token of body.split(',')) after.delete(attribute(token.trim()));
        if (keyword === 'SET') {
          // `name = :value` and `name = if_not_exists(name, :value)`: how poolgate sets index keys.
          for (const match of body.matchAll(
            /(#?\w+)\s*=\s*(?:(:\w+)|if_not_exists\(\s*#?\w+\s*,\s*(:\w+)\s*\))(?=\s*(,|$))/g,
          )) {
            const name = attribute(match[1]);
            if (!INDEX_KEY_ATTRIBUTES.has(name)) continue;
            if (match[2]) after.set(name, values[match[2]]);
            else if (!after.has(name)) after.set(name, values[match[3]]);
          }
        }
      }
    }
    this.indexKeyValues.set(id, after);
    return { before, after };
  }

  /**
   * Write units of the indexes for one table write of `units` (every index projects ALL attributes,
   * the default of the stack's table): for each index the item is in before or after the write, the
   * same units again; twice when the write changes that index's key (DynamoDB then deletes the old
   * index entry and puts the new one).
   */
  private indexWriteUnits(write: IndexedWrite, units: number): number {
    let total = 0;
    for (const index of TABLE_INDEXES) {
      const keyOf = (values: ReadonlyMap<string, unknown>) =>
        values.has(index.partitionKey) && values.has(index.sortKey)
          ? JSON.stringify([values.get(index.partitionKey), values.get(index.sortKey)])
          : undefined;
      const was = keyOf(write.before);
      const is = keyOf(write.after);
      if (was === undefined && is === undefined) continue;
      total += units * (was !== undefined && is !== undefined && was !== is ? 2 : 1);
    }
    return total;
  }
}

interface IndexedWrite {
  /** Index key attribute values of the item before the write (as far as the meter has seen it written). */
  readonly before: ReadonlyMap<string, unknown>;
  readonly after: ReadonlyMap<string, unknown>;
}

const INDEX_KEY_ATTRIBUTES = new Set(TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]));

function consumedUnits(consumed: unknown): number {
  const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as Array<{ CapacityUnits?: number }>;
  return list.reduce((sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0), 0);
}
