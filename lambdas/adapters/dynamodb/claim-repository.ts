/**
 * Two claims made at submission, each a single conditional write:
 * - the idempotency key (`IDEMPOTENCY#<hash>`, 24 h TTL) -> the request id it produced;
 * - the node pool (`NODEPOOL#<project>#<pool>#<name>` / `OPEN`) -> the request holding it. That item is
 *   the node-pool record (lambdas/domain/nodepool-record.ts): a create writes the record's facts with its
 *   claim, CreateNodePool marks it present, a delete's Finalize marks it deleted.
 * A claim is released lazily: the next claimant takes it over once the holder has reached its final
 * status (or never got stored), so finishing a request costs no extra write.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { IndexPosition } from '../../domain/list-cursor';
import {
  inventoryPartition,
  nodePoolKey,
  type NodePoolFacts,
  type NodePoolName,
  type NodePoolRecord,
} from '../../domain/nodepool-record';
import type { RequestKind } from '../../domain/request-kind';
import { batchGetAll, isConditionFailure } from './client';

export type { NodePoolName } from '../../domain/nodepool-record';

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** How a request claims a node pool. */
export interface ClaimOptions {
  /** Default `create`. */
  readonly kind?: RequestKind;
  /** A create's facts, written with its claim (they replace those of a creation that never made the node pool). */
  readonly facts?: NodePoolFacts;
  /**
   * A retried request takes its node pool back only if nobody claimed it since: a later request that
   * has finished meanwhile makes the retry `superseded`.
   */
  readonly retry?: boolean;
}

/**
 * Why a claim was refused: `open` another request holds it (the default, `why` absent); `present` a
 * create found a node pool poolgate created under that name; `absent` a change found no node pool
 * poolgate created; `superseded` a retry found a later request finished on it.
 */
export type ClaimResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly holderId: string; readonly why?: 'present' | 'absent' | 'superseded' };

export interface RecordPage {
  readonly records: readonly NodePoolRecord[];
  readonly next?: IndexPosition;
}

export class ClaimRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Claims `keyHash` for `requestId`; returns the request id that holds it (ours or an earlier one).
   * `holderIsOpen`, when given, lets a claim take the key over from a request that is no longer open
   * (a body hash without an Idempotency-Key maps only to a request still open).
   */
  async claimIdempotencyKey(
    keyHash: string,
    requestId: string,
    now: Date,
    holderIsOpen?: (holderId: string) => Promise<boolean>,
  ): Promise<string> {
    const nowEpoch = Math.floor(now.getTime() / 1000);
    const Key = { pk: `IDEMPOTENCY#${keyHash}`, sk: 'META' };
    const put = async (condition: string, values: Record<string, unknown>) =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...Key, requestId, createdAt: now.toISOString(), expiresAtEpoch: nowEpoch + IDEMPOTENCY_TTL_SECONDS },
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
    try {
      // TTL deletion is lazy: an expired item still in the table counts as absent.
      await put('attribute_not_exists(pk) OR expiresAtEpoch < :now', { ':now': nowEpoch });
      return requestId;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    const holderId = String(Item?.requestId ?? requestId);
    if (!holderIsOpen || holderId === requestId || (await holderIsOpen(holderId))) return holderId;
    try {
      await put('requestId = :holder', { ':holder': holderId });
      return requestId;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item: again } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }),
      );
      return String(again?.requestId ?? requestId);
    }
  }

  /** The request holding the node-pool name, if any (a read: the dry run asks without claiming). */
  async holderOf(name: NodePoolName): Promise<string | undefined> {
    return (await this.record(name))?.requestId;
  }

  /** The node-pool record (or the bare name claim of a request stored before records). */
  async record(name: NodePoolName): Promise<NodePoolRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: nodePoolKey(name), ConsistentRead: true }),
    );
    return Item ? toNodePoolRecord(Item) : undefined;
  }

  /** Several records at once (BatchGetItem); absent ones are left out. */
  async records(names: readonly NodePoolName[]): Promise<NodePoolRecord[]> {
    const keys = [...new Map(names.map((n) => [nodePoolKey(n).pk, nodePoolKey(n)])).values()];
    return (await batchGetAll(this.db, this.tableName, keys)).map(toNodePoolRecord);
  }

  /**
   * Claims the node pool for `requestId`. When another request holds it, `holderIsOpen` decides:
   * open -> refused with its id (the caller answers 409); finished or missing -> taken over. A create
   * is refused a name whose node pool poolgate created and still counts as present; a delete needs one.
   */
  async claimNodePoolName(
    name: NodePoolName,
    requestId: string,
    holderIsOpen: (holderId: string, claimedAt: Date) => Promise<boolean>,
    now: Date,
    options: ClaimOptions = {},
  ): Promise<ClaimResult> {
    const kind = options.kind ?? 'create';
    // Most names are new: a create claims first, and reads the holder only when there is one.
    if (kind === 'create' && !options.retry && (await this.write(name, requestId, kind, now, options.facts))) {
      return { ok: true };
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = await this.record(name);
      const holderId = record?.requestId;
      if (holderId === requestId) return { ok: true };
      if (holderId && (await holderIsOpen(holderId, new Date(record.claimedAt)))) return { ok: false, holderId };
      if (options.retry && holderId) return { ok: false, holderId, why: 'superseded' };
      if (kind === 'create' && record?.state === 'present')
        return { ok: false, holderId: record.creatingRequestId ?? holderId ?? '', why: 'present' };
      if (kind !== 'create' && record?.state !== 'present')
        return { ok: false, holderId: holderId ?? '', why: 'absent' };
      if (await this.write(name, requestId, kind, now, options.facts, holderId ?? null)) return { ok: true };
      // Someone else claimed it between our read and write: look again.
    }
    return { ok: false, holderId: (await this.holderOf(name)) ?? '' };
  }

  /**
   * The create recorded its node pool: the record says present, with its facts, and joins its team's
   * inventory. Also the backfill of a node pool created before records (its claim has no state yet).
   * Conditional on the record being this creation's; false when it is not (nothing written).
   */
  async markPresent(facts: NodePoolFacts, createdAt: string, backfill = false): Promise<boolean> {
    const values: Record<string, unknown> = {
      ':state': 'present',
      ':id': facts.creatingRequestId,
      ':gsi': inventoryPartition(facts.team),
      ':createdAt': createdAt,
      ':kind': 'create',
    };
    const names: Record<string, string> = { '#state': 'state', '#gsiTeam': 'gsiTeam', '#createdAt': 'createdAt' };
    const sets = ['#state = :state', '#gsiTeam = :gsi', '#createdAt = :createdAt'];
    for (const [field, value] of Object.entries(facts)) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    // A backfilled claim may be absent (claims of old requests were taken over and rewritten): write it whole.
    Object.assign(names, { '#requestId': 'requestId', '#kind': 'kind', '#claimedAt': 'claimedAt' });
    sets.push('#requestId = if_not_exists(#requestId, :id)', '#kind = if_not_exists(#kind, :kind)');
    sets.push('#claimedAt = if_not_exists(#claimedAt, :createdAt)');
    const condition = backfill
      ? 'attribute_not_exists(#state) AND (attribute_not_exists(#requestId) OR #requestId = :id)'
      : '#creatingRequestId = :id OR (attribute_not_exists(#creatingRequestId) AND #requestId = :id)';
    return this.update(facts, `SET ${sets.join(', ')}`, condition, names, values);
  }

  /**
   * ModelArts no longer shows the node pool: the record says deleted (nothing counted, out of the
   * inventory), conditional on `deleteId` still holding it. The name is free again once that request
   * records DELETED (its final status), which its Finalize writes right after.
   */
  async markDeleted(name: NodePoolName, deleteId: string, at: string): Promise<boolean> {
    return this.update(
      name,
      'SET #state = :deleted, #count = :zero, #deletedAt = :at REMOVE #gsiTeam',
      'requestId = :id',
      { '#state': 'state', '#count': 'count', '#deletedAt': 'deletedAt', '#gsiTeam': 'gsiTeam' },
      { ':deleted': 'deleted', ':zero': 0, ':at': at, ':id': deleteId },
    );
  }

  /** One page of a team's present node pools (the byTeam index, partition `NODEPOOLS#<team>`), newest first. */
  async inventory(team: string, options: { limit: number; startAt?: IndexPosition }): Promise<RecordPage> {
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byTeam',
        KeyConditionExpression: 'gsiTeam = :partition',
        ExpressionAttributeValues: { ':partition': inventoryPartition(team) },
        ScanIndexForward: false,
        Limit: options.limit,
        ...(options.startAt ? { ExclusiveStartKey: { ...options.startAt } } : {}),
      }),
    );
    return {
      records: (Items ?? []).map(toNodePoolRecord),
      ...(LastEvaluatedKey ? { next: LastEvaluatedKey as IndexPosition } : {}),
    };
  }

  /** Writes the claim (and a create's facts); `holderId` null: only if nobody holds it; undefined: only if the item is absent. */
  private async write(
    name: NodePoolName,
    requestId: string,
    kind: RequestKind,
    now: Date,
    facts: NodePoolFacts | undefined,
    holderId?: string | null,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#requestId': 'requestId', '#kind': 'kind', '#claimedAt': 'claimedAt' };
    const values: Record<string, unknown> = { ':id': requestId, ':kind': kind, ':now': now.toISOString() };
    const sets = ['#requestId = :id', '#kind = :kind', '#claimedAt = :now'];
    const removes: string[] = [];
    if (kind === 'create') {
      // A creation starts the record afresh: state creating, this request's facts, out of the inventory.
      names['#state'] = 'state';
      values[':creating'] = 'creating';
      sets.push('#state = :creating');
      for (const [field, value] of Object.entries(facts ?? {})) {
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
      for (const field of ['gsiTeam', 'createdAt', 'deletedAt']) {
        names[`#${field}`] = field;
        removes.push(`#${field}`);
      }
    }
    let condition: string;
    if (holderId === undefined) condition = 'attribute_not_exists(pk)';
    else if (holderId === null) condition = 'attribute_not_exists(#requestId)';
    else {
      values[':holder'] = holderId;
      condition = '#requestId = :holder';
    }
    if (kind !== 'create') {
      names['#state'] = 'state';
      values[':present'] = 'present';
      condition += ' AND #state = :present';
    }
    return this.update(
      name,
      `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      condition,
      names,
      values,
    );
  }

  private async update(
    name: NodePoolName,
    updateExpression: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: nodePoolKey(name),
          UpdateExpression: updateExpression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  }
}

/** The record from its item; a bare claim of before records names its node pool only in its key. */
function toNodePoolRecord(item: Record<string, unknown>): NodePoolRecord {
  const { pk, sk: _sk, gsiTeam: _g, ...rest } = item;
  const [, projectId = '', poolName = '', ...nameParts] = String(pk).split('#');
  return {
    projectId,
    poolName,
    nodePoolName: nameParts.join('#'),
    kind: 'create',
    ...rest,
  } as unknown as NodePoolRecord;
}
