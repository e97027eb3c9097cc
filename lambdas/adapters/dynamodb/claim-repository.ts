/**
 * Two small claims made at submission, each a single conditional PutItem:
 * - the idempotency key (`IDEMPOTENCY#<hash>`, 24 h TTL) -> the request id it produced;
 * - the open node-pool name (`NODEPOOL#<project>#<pool>#<name>` / `OPEN`) -> the request holding it.
 * A name is released lazily: the next claimant takes it over once the holder has finished (or
 * never got stored), so finishing a request costs no extra write.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Claims, NodePoolName } from '../../use-cases/ports';
import { conditionalWrite } from './client';
import { Expression } from './expression';

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export type { NodePoolName };

export class ClaimRepository implements Claims {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Claims `keyHash` for `requestId`; returns the request id that holds it (ours or an earlier one). */
  async claimIdempotencyKey(keyHash: string, requestId: string, now: Date): Promise<string> {
    const nowEpoch = Math.floor(now.getTime() / 1000);
    const Key = { pk: `IDEMPOTENCY#${keyHash}`, sk: 'META' };
    const x = new Expression();
    const claimed = await conditionalWrite(
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...Key, requestId, createdAt: now.toISOString(), expiresAtEpoch: nowEpoch + IDEMPOTENCY_TTL_SECONDS },
          // TTL deletion is lazy: an expired item still in the table counts as absent.
          ConditionExpression: `attribute_not_exists(${x.name('pk')}) OR ${x.name('expiresAtEpoch')} < ${x.value(nowEpoch)}`,
          ...x.attributes(),
        }),
      ),
    );
    if (claimed) return requestId;
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return String(Item?.requestId ?? requestId);
  }

  /** The request holding the node-pool name, if any (a read: the dry run asks without claiming). */
  async holderOf(name: NodePoolName): Promise<string | undefined> {
    const Key = { pk: `NODEPOOL#${name.projectId}#${name.poolName}#${name.nodePoolName}`, sk: 'OPEN' };
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return Item?.requestId as string | undefined;
  }

  /**
   * Claims the node-pool name for `requestId`. When another request holds it, `holderIsOpen`
   * decides: open -> its id is returned (the caller answers 409); finished or missing -> taken over.
   */
  async claimNodePoolName(
    name: NodePoolName,
    requestId: string,
    holderIsOpen: (holderId: string, claimedAt: Date) => Promise<boolean>,
    now: Date,
  ): Promise<{ ok: true } | { ok: false; holderId: string }> {
    const Key = { pk: `NODEPOOL#${name.projectId}#${name.poolName}#${name.nodePoolName}`, sk: 'OPEN' };
    /** Puts the claim if the name is free (no holder) or still held by `holderId`: false otherwise. */
    const claim = async (holderId: string | undefined): Promise<boolean> => {
      const x = new Expression();
      const written = await conditionalWrite(
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...Key, requestId, claimedAt: now.toISOString() },
            ConditionExpression: holderId
              ? `${x.name('requestId')} = ${x.value(holderId)}`
              : `attribute_not_exists(${x.name('pk')})`,
            ...x.attributes(),
          }),
        ),
      );
      return written !== undefined;
    };
    // Most names are new: claim first, and read the holder only when there is one (one round trip, not two).
    if (await claim(undefined)) return { ok: true };
    for (let attempt = 0; attempt < 3; attempt++) {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      const holderId = Item?.requestId as string | undefined;
      if (holderId === requestId) return { ok: true };
      if (holderId && (await holderIsOpen(holderId, new Date(String(Item?.claimedAt))))) return { ok: false, holderId };
      if (await claim(holderId)) return { ok: true };
      // Someone else claimed it between our read and write: look again.
    }
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return { ok: false, holderId: String(Item?.requestId) };
  }
}
