/**
 * Request items (`REQUEST#<id>` / `META`). A step and the status change it causes are one
 * conditional UpdateItem: a step is appended only if its id is new, and a status changes only
 * along the transition table of lambdas/domain/status.ts.
 *
 * Besides the record, the item keeps what its indexes and filters need: `gsiTeam`, `gsiRequester`,
 * `gsiStatus`, and `approverEmails`, the set of everyone who may be asked to decide it (the planned
 * approvers of every stage, and the escalation contacts a reminder adds), which `awaiting=me` filters on.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { InvalidTransitionError } from '../../domain/errors';
import type { IndexPosition } from '../../domain/list-cursor';
import type { PoolRequestRecord } from '../../domain/pool-request';
import type { RequestKind } from '../../domain/request-kind';
import { sourcesOf, type RequestStatus } from '../../domain/status';
import type {
  RequestIndexName,
  RequestPage,
  RequestStore,
  StatusChange,
  StepExtras,
  StepResult,
} from '../../use-cases/ports';
import { inListedOrder, type Step } from '../../domain/steps';
import { batchGetAll, conditionalWrite } from './client';
import { Expression, updateExpression } from './expression';

/** The request item's key (the quota repository checks a request's state in its transactions). */
export const requestKey = (requestId: string) => ({ pk: `REQUEST#${requestId}`, sk: 'META' });
const key = requestKey;

/** The request indexes of contracts/table.ts and the attribute each is keyed by. */
const INDEX_KEYS: Record<RequestIndexName, string> = {
  byTeam: 'gsiTeam',
  byRequester: 'gsiRequester',
  byStatus: 'gsiStatus',
};

export type { RequestIndexName, RequestPage, StatusChange, StepExtras, StepResult };

interface StoredRequest extends PoolRequestRecord {
  readonly stepIds?: Set<string>;
}

/** Everyone the approval plan may ask (a DynamoDB set cannot be empty: absent when nobody is). */
function plannedApprovers(request: PoolRequestRecord): { approverEmails?: Set<string> } {
  const emails = new Set(request.stages.flatMap((stage) => stage.approvers.map((a) => a.email)));
  return emails.size ? { approverEmails: emails } : {};
}

export class RequestRepository implements RequestStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Stores a new request with its first step. Returns false if it already exists (a resumed submission). */
  async create(request: PoolRequestRecord): Promise<boolean> {
    const x = new Expression();
    const written = await conditionalWrite(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key(request.requestId),
            ...request,
            stepIds: new Set(request.steps.map((s) => s.id)),
            gsiTeam: request.team,
            gsiRequester: request.requester,
            gsiStatus: request.status,
            ...plannedApprovers(request),
            version: 1,
          },
          ConditionExpression: `attribute_not_exists(${x.name('pk')})`,
          ...x.attributes(),
        }),
      ),
    );
    return written !== undefined;
  }

  async get(requestId: string): Promise<PoolRequestRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(requestId), ConsistentRead: true }),
    );
    return Item ? toRecord(Item as StoredRequest) : undefined;
  }

  /** Several requests at once (BatchGetItem); missing ones are left out. */
  async getMany(requestIds: readonly string[]): Promise<Map<string, PoolRequestRecord>> {
    const items = await batchGetAll(this.db, this.tableName, [...new Set(requestIds)].map(key));
    return new Map(items.map((item) => toRecord(item as unknown as StoredRequest)).map((r) => [r.requestId, r]));
  }

  /**
   * One page of an index partition, newest first. `limit` bounds the items DynamoDB reads; with a
   * `status` or `approver` filter a page may hold fewer (even none) and still have a `next`.
   * `approver` keeps only requests that may ask that person (`approverEmails`).
   */
  async page(
    index: RequestIndexName,
    partition: string,
    options: { limit: number; status?: RequestStatus; kind?: RequestKind; approver?: string; startAt?: IndexPosition },
  ): Promise<RequestPage> {
    const x = new Expression();
    const filters: string[] = [];
    if (options.status) filters.push(`${x.name('status')} = ${x.value(options.status)}`);
    if (options.kind) {
      const kind = `${x.name('kind')} = ${x.value(options.kind)}`;
      // Requests stored before kinds are creations.
      filters.push(options.kind === 'create' ? `(attribute_not_exists(${x.name('kind')}) OR ${kind})` : kind);
    }
    if (options.approver) filters.push(`contains(${x.name('approverEmails')}, ${x.value(options.approver)})`);
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: `${x.name(INDEX_KEYS[index])} = ${x.value(partition)}`,
        ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
        ...x.attributes(),
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.startAt ? { ExclusiveStartKey: { ...options.startAt } } : {}),
      }),
    );
    return {
      requests: (Items ?? []).map((item) => toRecord(item as StoredRequest)),
      ...(LastEvaluatedKey ? { next: LastEvaluatedKey as IndexPosition } : {}),
    };
  }

  /**
   * Appends `step` and, when given, moves the request to `change.status` in the same write.
   * Recording the same step id twice is a no-op; a transition the table forbids throws.
   */
  async recordStep(requestId: string, step: Step, change?: StatusChange, extras?: StepExtras): Promise<StepResult> {
    return this.recordSteps(requestId, [step], change, extras);
  }

  /** Appends several steps (and the status change they cause) in one write; all or none. */
  async recordSteps(
    requestId: string,
    listed: readonly Step[],
    change?: StatusChange,
    extras: StepExtras = {},
  ): Promise<StepResult> {
    // Steps written together carry times in the order they are listed.
    const steps = inListedOrder(listed);
    const x = new Expression();
    const [stepsName, stepIds] = [x.name('steps'), x.name('stepIds')];
    const set = [
      `${stepsName} = list_append(${stepsName}, ${x.value([...steps])})`,
      `${x.name('updatedAt')} = ${x.value(steps[steps.length - 1].at)}`,
    ];
    const remove: string[] = [];
    const add = [`${stepIds} ${x.value(new Set(steps.map((s) => s.id)))}`, `${x.name('version')} ${x.value(1)}`];
    const conditions = [`attribute_exists(${x.name('pk')})`];
    if (extras.addApprovers?.length) add.push(`${x.name('approverEmails')} ${x.value(new Set(extras.addApprovers))}`);
    for (const step of steps) conditions.push(`NOT contains(${stepIds}, ${x.value(step.id)})`);
    if (change) {
      const [status, to] = [x.name('status'), x.value(change.status)];
      set.push(`${status} = ${to}`, `${x.name('gsiStatus')} = ${to}`);
      if (change.reason) set.push(`${x.name('reason')} = ${x.value(change.reason)}`);
      else remove.push(x.name('reason'));
      if (change.retries !== undefined) set.push(`${x.name('retries')} = ${x.value(change.retries)}`);
      // The status may already be the target (a second stage keeps AWAITING_APPROVAL).
      const allowed = change.from ?? [...sourcesOf(change.status), change.status];
      conditions.push(`${status} IN (${allowed.map((from) => x.value(from)).join(', ')})`);
    }
    const written = await conditionalWrite(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(requestId),
          UpdateExpression: updateExpression({ set, add, remove }),
          ConditionExpression: conditions.join(' AND '),
          ...x.attributes(),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (written) return { recorded: true, request: toRecord(written.Attributes as StoredRequest) };
    return this.explainRefusedStep(requestId, steps[0], change);
  }

  private async explainRefusedStep(requestId: string, step: Step, change?: StatusChange): Promise<StepResult> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(requestId), ConsistentRead: true }),
    );
    if (!Item) throw new InvalidTransitionError(`request ${requestId} does not exist`);
    const stored = Item as StoredRequest;
    if (stored.stepIds?.has(step.id)) return { recorded: false, request: toRecord(stored) };
    throw new InvalidTransitionError(
      `request ${requestId} cannot go from ${stored.status} to ${change?.status ?? stored.status} (step ${step.id})`,
    );
  }
}

function toRecord(item: StoredRequest): PoolRequestRecord {
  const {
    pk: _pk,
    sk: _sk,
    stepIds: _ids,
    gsiTeam: _t,
    gsiRequester: _r,
    gsiStatus: _s,
    approverEmails: _a,
    version: _v,
    ...record
  } = item as StoredRequest & Record<string, unknown>;
  return record;
}
