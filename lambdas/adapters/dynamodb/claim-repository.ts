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
import { firstEvent, LEASE_PARTITION, scheduleOf } from '../../domain/lease';
import {
  inventoryPartition,
  LEASE_FIELDS,
  nodePoolKey,
  type NodePoolFacts,
  type NodePoolName,
  type NodePoolRecord,
} from '../../domain/nodepool-record';
import type { RequestKind } from '../../domain/request-kind';
import type { ClaimOptions, ClaimResult, Claims, LeaseRecords, RecordPage } from '../../use-cases/ports';
import { batchGetAll, conditionalWrite } from './client';
import { Expression, updateExpression } from './expression';

export type { ClaimOptions, ClaimResult, NodePoolName, RecordPage };

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export class ClaimRepository implements Claims, LeaseRecords {
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
    /** Puts the claim on the condition `condition` builds; false when it did not hold. */
    const put = async (condition: (x: Expression) => string): Promise<boolean> => {
      const x = new Expression();
      const written = await conditionalWrite(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...Key,
              requestId,
              createdAt: now.toISOString(),
              expiresAtEpoch: nowEpoch + IDEMPOTENCY_TTL_SECONDS,
            },
            ConditionExpression: condition(x),
            ...x.attributes(),
          }),
        ),
      );
      return written !== undefined;
    };
    const holder = async (): Promise<string | undefined> => {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      return Item?.requestId as string | undefined;
    };
    // TTL deletion is lazy: an expired item still in the table counts as absent.
    if (await put((x) => `attribute_not_exists(${x.name('pk')}) OR ${x.name('expiresAtEpoch')} < ${x.value(nowEpoch)}`))
      return requestId;
    const holderId = (await holder()) ?? requestId;
    if (!holderIsOpen || holderId === requestId || (await holderIsOpen(holderId))) return holderId;
    if (await put((x) => `${x.name('requestId')} = ${x.value(holderId)}`)) return requestId;
    return (await holder()) ?? requestId;
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
    const x = new Expression();
    const id = x.value(facts.creatingRequestId);
    const sets = [
      `${x.name('state')} = ${x.value('present')}`,
      `${x.name('gsiTeam')} = ${x.value(inventoryPartition(facts.team))}`,
      `${x.name('createdAt')} = ${x.value(createdAt)}`,
      ...Object.entries(facts).map(([field, value]) => `${x.name(field)} = ${x.value(value)}`),
      // A backfilled claim may be absent (claims of old requests were taken over and rewritten): write it whole.
      `${x.name('requestId')} = if_not_exists(${x.name('requestId')}, ${id})`,
      `${x.name('kind')} = if_not_exists(${x.name('kind')}, ${x.value('create' satisfies RequestKind)})`,
      `${x.name('claimedAt')} = if_not_exists(${x.name('claimedAt')}, ${x.value(createdAt)})`,
    ];
    if (facts.leaseTerms && !backfill) {
      // The lease starts when ModelArts accepted the create; a retried create never restarts it.
      const endsAt = new Date(Date.parse(createdAt) + facts.leaseTerms.seconds * 1000).toISOString();
      const next = new Date(firstEvent(scheduleOf(endsAt, facts.leaseTerms), Date.parse(createdAt))).toISOString();
      for (const [field, value] of [
        ['leaseEndsAt', endsAt],
        ['leaseNextAt', next],
        ['gsiLease', LEASE_PARTITION],
        ['leaseExtendedSeconds', 0],
      ] as const)
        sets.push(`${x.name(field)} = if_not_exists(${x.name(field)}, ${x.value(value)})`);
    }
    const condition = backfill
      ? `attribute_not_exists(${x.name('state')}) AND (attribute_not_exists(${x.name('requestId')}) OR ${x.name('requestId')} = ${id})`
      : `${x.name('creatingRequestId')} = ${id} OR (attribute_not_exists(${x.name('creatingRequestId')}) AND ${x.name('requestId')} = ${id})`;
    return this.update(facts, updateExpression({ set: sets }), condition, x);
  }

  /**
   * ModelArts no longer shows the node pool: the record says deleted (nothing counted, out of the
   * inventory), conditional on `deleteId` still holding it. The name is free again once that request
   * records DELETED (its final status), which its Finalize writes right after.
   */
  async markDeleted(name: NodePoolName, deleteId: string, at: string): Promise<boolean> {
    const x = new Expression();
    return this.update(
      name,
      updateExpression({
        set: [
          `${x.name('state')} = ${x.value('deleted')}`,
          `${x.name('count')} = ${x.value(0)}`,
          `${x.name('deletedAt')} = ${x.value(at)}`,
        ],
        // An old lease can never reach a node pool re-created under the same name.
        remove: [x.name('gsiTeam'), ...LEASE_FIELDS.map((f) => x.name(f))],
      }),
      `${x.name('requestId')} = ${x.value(deleteId)}`,
      x,
    );
  }

  /** A scale settled: the record counts `count` nodes, conditional on `changeId` still holding it. */
  async markCount(name: NodePoolName, changeId: string, count: number): Promise<boolean> {
    const x = new Expression();
    return this.update(
      name,
      updateExpression({ set: [`${x.name('count')} = ${x.value(count)}`] }),
      `${x.name('requestId')} = ${x.value(changeId)} AND ${x.name('state')} = ${x.value('present')}`,
      x,
    );
  }

  /** One page of a team's present node pools (the byTeam index, partition `NODEPOOLS#<team>`), newest first. */
  async inventory(team: string, options: { limit: number; startAt?: IndexPosition }): Promise<RecordPage> {
    const x = new Expression();
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byTeam',
        KeyConditionExpression: `${x.name('gsiTeam')} = ${x.value(inventoryPartition(team))}`,
        ...x.attributes(),
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

  async claimDriftObservation(name: NodePoolName, observationId: string): Promise<boolean> {
    const x = new Expression();
    const seen = x.name('driftSeen');
    return this.update(
      name,
      updateExpression({ add: [`${seen} ${x.value(new Set([observationId]))}`] }),
      `attribute_exists(${x.name('pk')}) AND NOT contains(${seen}, ${x.value(observationId)})`,
      x,
    );
  }

  // --- Leases (LeaseRecords) ------------------------------------------------------------------------

  /** Records whose next lease event is due at `now`, oldest first (the sparse byLease index). */
  async dueLeases(now: string, limit: number): Promise<NodePoolRecord[]> {
    const x = new Expression();
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byLease',
        KeyConditionExpression: `${x.name('gsiLease')} = ${x.value(LEASE_PARTITION)} AND ${x.name('leaseNextAt')} <= ${x.value(now)}`,
        ...x.attributes(),
        Limit: limit,
      }),
    );
    return (Items ?? []).map(toNodePoolRecord);
  }

  /** Moves the next lease event, if nobody moved it since it was read. */
  async moveLeaseNext(name: NodePoolName, from: string, to: string): Promise<boolean> {
    const x = new Expression();
    return this.update(
      name,
      updateExpression({ set: [`${x.name('leaseNextAt')} = ${x.value(to)}`] }),
      `${x.name('leaseNextAt')} = ${x.value(from)} AND attribute_exists(${x.name('gsiLease')})`,
      x,
    );
  }

  /**
   * Claims the lease's deletion for `deleteId`: only while the end read is still the end (no extension
   * moved it) and no deletion is claimed (or `previousId`'s, which failed, is replaced).
   */
  async claimLeaseDeletion(
    name: NodePoolName,
    claim: { endsAt: string; deleteId: string; attempt: number; nextAt: string; previousId?: string },
  ): Promise<boolean> {
    const x = new Expression();
    const deletion = x.name('leaseDeletion');
    const previous = claim.previousId
      ? `${deletion} = ${x.value(claim.previousId)}`
      : `attribute_not_exists(${deletion})`;
    return this.update(
      name,
      updateExpression({
        set: [
          `${deletion} = ${x.value(claim.deleteId)}`,
          `${x.name('leaseDeletionAttempts')} = ${x.value(claim.attempt)}`,
          `${x.name('leaseNextAt')} = ${x.value(claim.nextAt)}`,
        ],
      }),
      `${x.name('leaseEndsAt')} = ${x.value(claim.endsAt)} AND ${x.name('state')} = ${x.value('present')} AND ${previous}`,
      x,
    );
  }

  /** The sweep stops following the lease (its node pool is not poolgate's any more): out of the index. */
  async stopLease(name: NodePoolName, deleteId: string, why: string): Promise<boolean> {
    const x = new Expression();
    return this.update(
      name,
      updateExpression({ set: [`${x.name('leaseStopped')} = ${x.value(why)}`], remove: [x.name('gsiLease')] }),
      `${x.name('leaseDeletion')} = ${x.value(deleteId)}`,
      x,
    );
  }

  /** A record with nothing left to do leaves the index (if its next event is still the one read). */
  async leaveLeaseIndex(name: NodePoolName, from: string, why: string): Promise<boolean> {
    const x = new Expression();
    return this.update(
      name,
      updateExpression({ set: [`${x.name('leaseStopped')} = ${x.value(why)}`], remove: [x.name('gsiLease')] }),
      `${x.name('leaseNextAt')} = ${x.value(from)}`,
      x,
    );
  }

  /** Claims the lease's one open extension; `previousId`: a finished extension that still holds it. */
  async claimExtension(name: NodePoolName, extensionId: string, previousId?: string): Promise<boolean> {
    const x = new Expression();
    const open = x.name('leaseExtension');
    const free = previousId
      ? `(attribute_not_exists(${open}) OR ${open} = ${x.value(previousId)})`
      : `attribute_not_exists(${open})`;
    return this.update(
      name,
      updateExpression({ set: [`${open} = ${x.value(extensionId)}`] }),
      `attribute_exists(${x.name('leaseEndsAt')}) AND attribute_not_exists(${x.name('leaseDeletion')}) AND ${free}`,
      x,
    );
  }

  /**
   * Moves the lease's end by an approved extension: only if no deletion is claimed (whichever
   * conditional write lands first wins), the extension still holds the lease, the end is the one read and
   * (`maxExtendedBefore`) the lease was not extended by more than that before: its cap holds.
   */
  async applyExtension(
    name: NodePoolName,
    change: {
      extensionId: string;
      fromEndsAt: string;
      toEndsAt: string;
      seconds: number;
      nextAt: string;
      maxExtendedBefore?: number;
    },
  ): Promise<boolean> {
    const x = new Expression();
    const extended = x.name('leaseExtendedSeconds');
    // The cap: what the lease was extended by before this one may not exceed the limit (a lease's record
    // has leaseExtendedSeconds from its start, 0 until extended).
    const cap =
      change.maxExtendedBefore === undefined ? '' : ` AND ${extended} <= ${x.value(change.maxExtendedBefore)}`;
    return this.update(
      name,
      updateExpression({
        set: [
          `${x.name('leaseEndsAt')} = ${x.value(change.toEndsAt)}`,
          `${x.name('leaseNextAt')} = ${x.value(change.nextAt)}`,
          `${x.name('leaseLastExtension')} = ${x.value(change.extensionId)}`,
        ],
        add: [`${extended} ${x.value(change.seconds)}`],
        remove: [x.name('leaseExtension')],
      }),
      `${x.name('leaseExtension')} = ${x.value(change.extensionId)} AND ${x.name('leaseEndsAt')} = ${x.value(change.fromEndsAt)} AND attribute_not_exists(${x.name('leaseDeletion')})${cap}`,
      x,
    );
  }

  /** The extension no longer holds the lease (it ended without moving it). */
  async releaseExtension(name: NodePoolName, extensionId: string): Promise<boolean> {
    const x = new Expression();
    return this.update(
      name,
      updateExpression({ remove: [x.name('leaseExtension')] }),
      `${x.name('leaseExtension')} = ${x.value(extensionId)}`,
      x,
    );
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
    const x = new Expression();
    const sets = [
      `${x.name('requestId')} = ${x.value(requestId)}`,
      `${x.name('kind')} = ${x.value(kind)}`,
      `${x.name('claimedAt')} = ${x.value(now.toISOString())}`,
    ];
    const removes: string[] = [];
    if (kind === 'create') {
      // A creation starts the record afresh: state creating, this request's facts, out of the inventory.
      sets.push(`${x.name('state')} = ${x.value('creating')}`);
      for (const [field, value] of Object.entries(facts ?? {})) sets.push(`${x.name(field)} = ${x.value(value)}`);
      for (const field of ['gsiTeam', 'createdAt', 'deletedAt', 'driftSeen', ...LEASE_FIELDS])
        if (!Object.hasOwn(facts ?? {}, field)) removes.push(x.name(field));
    }
    let condition: string;
    if (holderId === undefined) condition = `attribute_not_exists(${x.name('pk')})`;
    else if (holderId === null) condition = `attribute_not_exists(${x.name('requestId')})`;
    else condition = `${x.name('requestId')} = ${x.value(holderId)}`;
    if (kind !== 'create') condition += ` AND ${x.name('state')} = ${x.value('present')}`;
    return this.update(name, updateExpression({ set: sets, remove: removes }), condition, x);
  }

  /** One conditional update of the record; false when its condition did not hold (nothing written). */
  private async update(name: NodePoolName, update: string, condition: string, x: Expression): Promise<boolean> {
    const written = await conditionalWrite(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: nodePoolKey(name),
          UpdateExpression: update,
          ConditionExpression: condition,
          ...x.attributes(),
        }),
      ),
    );
    return written !== undefined;
  }
}

/** The record from its item; a bare claim of before records names its node pool only in its key. */
function toNodePoolRecord(item: Record<string, unknown>): NodePoolRecord {
  // driftSeen (a string set) is the drift report's own bookkeeping: not part of the record's view.
  const { pk, sk: _sk, gsiTeam: _g, gsiLease: _l, driftSeen: _d, ...rest } = item;
  const [, projectId = '', poolName = '', ...nameParts] = String(pk).split('#');
  return {
    projectId,
    poolName,
    nodePoolName: nameParts.join('#'),
    kind: 'create',
    ...rest,
  } as unknown as NodePoolRecord;
}
