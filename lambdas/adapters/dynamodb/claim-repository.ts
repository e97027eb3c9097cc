/**
 * Two small claims made at submission, each a single conditional PutItem:
 * - the idempotency key (`IDEMPOTENCY#<hash>`, 24 h TTL) -> the request id it produced;
 * - the open node-pool name (`NODEPOOL#<project>#<pool>#<name>` / `OPEN`) -> the request holding it.
 * A name is released lazily: the next claimant takes it over once the holder has finished (or
 * never got stored), so finishing a request costs no extra write.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './client';

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export interface NodePoolName {
  readonly projectId: string;
  readonly poolName: string;
  readonly nodePoolName: string;
}

export class ClaimRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Claims `keyHash` for `requestId`; returns the request id that holds it (ours or an earlier one). */
  async claimIdempotencyKey(keyHash: string, requestId: string, now: Date): Promise<string> {
    const nowEpoch = Math.floor(now.getTime() / 1000);
    const Key = { pk: `IDEMPOTENCY#${keyHash}`, sk: 'META' };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...Key, requestId, createdAt: now.toISOString(), expiresAtEpoch: nowEpoch + IDEMPOTENCY_TTL_SECONDS },
          // TTL deletion is lazy: an expired item still in the table counts as absent.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtEpoch < :now',
          ExpressionAttributeValues: { ':now': nowEpoch },
        }),
      );
      return requestId;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      return String(Item?.requestId ?? requestId);
    }
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
    // Most names are new: claim first, and read the holder only when there is one (one round trip, not two).
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...Key, requestId, claimedAt: now.toISOString() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { ok: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
      const holderId = Item?.requestId as string | undefined;
      if (holderId === requestId) return { ok: true };
      if (holderId && (await holderIsOpen(holderId, new Date(String(Item?.claimedAt))))) return { ok: false, holderId };
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...Key, requestId, claimedAt: now.toISOString() },
            ConditionExpression: holderId ? 'requestId = :holder' : 'attribute_not_exists(pk)',
            ...(holderId ? { ExpressionAttributeValues: { ':holder': holderId } } : {}),
          }),
        );
        return { ok: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Someone else claimed it between our read and write: look again.
      }
    }
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return { ok: false, holderId: String(Item?.requestId) };
  }
}
