/**
 * Quota counters (`QUOTA#<team>` / `FLAVOR#<flavor>`), changed only by conditional ADD.
 *
 * `inUse` = reserved + used, and is what the limit is checked against. Each request's share is
 * kept in its own attribute (`hold#<id>` while reserved, `use#<id>` once committed), so reserving,
 * committing and releasing are each idempotent: a retried Lambda changes nothing. A retried request's
 * hold also names its attempt (`attempt#<id>`, absent for the first run), and only that attempt may
 * commit or release it: a late Finalize of an earlier run never gives back a later run's nodes. A
 * retry takes over a reservation its failed run still holds (`takeOver`). `heldAt#<id>` says when the
 * reservation was last made, taken over or confirmed by its run (`renew`): quota reconciliation settles
 * one a finished request left behind only if nobody touched it since it looked.
 *
 * A node pool's share stays `use#<createId>` for its whole life. While a request changes the node pool
 * (a delete), `open#<createId>` names that request: quota reconciliation's writes are conditional on
 * its absence, so a deletion racing the reconciliation never counts the nodes free twice.
 */
import {
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Reservation } from '../../domain/quota';
import { isConditionFailure } from './client';

const key = (team: string, flavor: string) => ({ pk: `QUOTA#${team}`, sk: `FLAVOR#${flavor}` });
const hold = (requestId: string) => `hold#${requestId}`;
const use = (requestId: string) => `use#${requestId}`;
const attemptOf = (requestId: string) => `attempt#${requestId}`;
const heldAtOf = (requestId: string) => `heldAt#${requestId}`;
/** The marker of a change under way on the node pool whose share is `use#<createId>`: the changing request's id. */
const openOf = (createId: string) => `open#${createId}`;

export interface QuotaShare {
  readonly team: string;
  readonly flavor: string;
  readonly requestId: string;
  readonly count: number;
  /** The run the share belongs to: 0 (or absent) for the first, n for the n-th retry. */
  readonly attempt?: number;
  /** Set: commit or release only if the reservation was last made or confirmed at this time (absent: never stamped). */
  readonly heldAt?: string | null;
}

/** One request's share of a team's quota, as the counter item holds it. */
export interface HeldShare extends QuotaShare {
  /** `hold`: reserved while the request is open (for `attempt`); `use`: committed, its node pool exists. */
  readonly kind: 'hold' | 'use';
}

/** A change (`changeId`) to the node pool whose share is `use#<createId>` on the team's flavor counter. */
export interface ChangeShare {
  readonly team: string;
  readonly flavor: string;
  readonly createId: string;
  readonly changeId: string;
}

export interface QuotaCounters {
  readonly reserved: number;
  readonly used: number;
  readonly inUse: number;
}

export class QuotaRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Reserves `count` nodes for the share's attempt if `inUse` is at most `maxInUseBefore` (see `Reservation`). */
  async reserve(share: QuotaShare, maxInUseBefore: number): Promise<Reservation> {
    const names: Record<string, string> = {
      '#hold': hold(share.requestId),
      '#use': use(share.requestId),
      '#heldAt': heldAtOf(share.requestId),
      '#inUse': 'inUse',
      '#reserved': 'reserved',
    };
    const values: Record<string, number | string> = {
      ':n': share.count,
      ':max': maxInUseBefore,
      ':now': new Date().toISOString(),
    };
    let set = '#hold = :n, #heldAt = :now';
    if (share.attempt) {
      names['#attempt'] = attemptOf(share.requestId);
      values[':attempt'] = share.attempt;
      set += ', #attempt = :attempt';
    }
    const applied = await this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: `SET ${set} ADD #inUse :n, #reserved :n`,
      ConditionExpression:
        'attribute_not_exists(#hold) AND attribute_not_exists(#use) AND (attribute_not_exists(#inUse) OR #inUse <= :max)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    if (applied) return 'reserved';
    const item = await this.item(share);
    if (item?.[use(share.requestId)] !== undefined) return 'used';
    if (item?.[hold(share.requestId)] === undefined) return 'refused';
    return Number(item[attemptOf(share.requestId)] ?? 0) === (share.attempt ?? 0) ? 'held' : 'busy';
  }

  /**
   * Makes the reservation an earlier attempt of the request still holds this attempt's (a retry after
   * a run whose Finalize has not given it back, or never will): the nodes stay counted once, and the
   * earlier run's release or commit then finds nothing of its own. False when no earlier attempt holds
   * `count` nodes for the request.
   */
  async takeOver(share: QuotaShare & { readonly attempt: number }): Promise<boolean> {
    return this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: 'SET #attempt = :attempt, #heldAt = :now',
      ConditionExpression: '#hold = :n AND (attribute_not_exists(#attempt) OR #attempt < :attempt)',
      ExpressionAttributeNames: {
        '#hold': hold(share.requestId),
        '#attempt': attemptOf(share.requestId),
        '#heldAt': heldAtOf(share.requestId),
      },
      ExpressionAttributeValues: { ':n': share.count, ':attempt': share.attempt, ':now': new Date().toISOString() },
    });
  }

  /**
   * The run confirms that this attempt's reservation is still there and its own: stamped now, so that
   * quota reconciliation, which may have judged it left behind a moment ago, no longer settles it.
   * False when it is not there (given back meanwhile): reserve again.
   */
  async renew(share: QuotaShare): Promise<boolean> {
    const names: Record<string, string> = {
      '#hold': hold(share.requestId),
      '#attempt': attemptOf(share.requestId),
      '#heldAt': heldAtOf(share.requestId),
    };
    const values: Record<string, number | string> = { ':n': share.count, ':now': new Date().toISOString() };
    return this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: 'SET #heldAt = :now',
      ConditionExpression: `#hold = :n AND ${this.ownAttempt(share, values)}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /**
   * Reserves the share's nodes for its attempt, taking over what an earlier attempt of the request
   * still holds (see `takeOver`); if that attempt let go meanwhile, reserves anew.
   */
  async reserveForAttempt(
    share: QuotaShare & { readonly attempt: number },
    maxInUseBefore: number,
  ): Promise<Reservation> {
    const reservation = await this.reserve(share, maxInUseBefore);
    if (reservation !== 'busy') return reservation;
    return (await this.takeOver(share)) ? 'reserved' : this.reserve(share, maxInUseBefore);
  }

  /** Turns this attempt's reservation into use (the node pool exists). True when it did. */
  async commit(share: QuotaShare): Promise<boolean> {
    return this.move(share, 'REMOVE #hold, #attempt, #heldAt SET #use = :n ADD #reserved :minus, #used :n');
  }

  /**
   * The node pool exists: its nodes are counted as use exactly once. This attempt's reservation
   * becomes use; with none, and nothing else counted for the request (no reservation of any attempt,
   * no use), the nodes are counted as use directly: a run whose reservation was lost to a race, or
   * whose use reconciliation took back before the run made the node pool again. The limit is not
   * checked: the nodes are there.
   */
  async commitOrCount(share: QuotaShare): Promise<void> {
    if (await this.commit(share)) return;
    await this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: 'SET #use = :n ADD #used :n, #inUse :n',
      ConditionExpression: 'attribute_not_exists(#hold) AND attribute_not_exists(#use)',
      ExpressionAttributeNames: {
        '#hold': hold(share.requestId),
        '#use': use(share.requestId),
        '#used': 'used',
        '#inUse': 'inUse',
      },
      ExpressionAttributeValues: { ':n': share.count },
    });
  }

  /** Gives this attempt's reservation back (rejected, expired, cancelled, failed). True when it did. */
  async release(share: QuotaShare): Promise<boolean> {
    return this.move(share, 'REMOVE #hold, #attempt, #heldAt ADD #reserved :minus, #inUse :minus');
  }

  /** Every share of `team`'s counters (all flavors), read consistently. */
  async shares(team: string): Promise<HeldShare[]> {
    const shares: HeldShare[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `QUOTA#${team}` },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const flavor = String(item.sk).replace(/^FLAVOR#/, '');
        for (const [attribute, value] of Object.entries(item)) {
          const [kind, requestId] = attribute.split('#', 2);
          if ((kind === 'hold' || kind === 'use') && requestId) {
            const attempt = kind === 'hold' ? Number(item[attemptOf(requestId)] ?? 0) : 0;
            const heldAt = kind === 'hold' ? ((item[heldAtOf(requestId)] as string | undefined) ?? null) : undefined;
            shares.push({
              team,
              flavor,
              requestId,
              count: Number(value),
              kind,
              ...(attempt ? { attempt } : {}),
              ...(heldAt !== undefined ? { heldAt } : {}),
            });
          }
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return shares;
  }

  /**
   * Sets a request's committed use from `from` to `to` nodes (0: none), the counters with it: what the
   * quota reconciliation found in ModelArts. Conditional on `from` still being what is held and on no
   * reservation being open for the request; false when either changed meanwhile (nothing written).
   */
  async reconcileUse(share: Omit<QuotaShare, 'count'>, from: number, to: number): Promise<boolean> {
    const delta = to - from;
    const names: Record<string, string> = {
      '#use': use(share.requestId),
      '#hold': hold(share.requestId),
      '#used': 'used',
      '#inUse': 'inUse',
    };
    const values: Record<string, number> = { ':delta': delta };
    // A change under way on the node pool (open#<id>) is that request's to settle.
    names['#open'] = openOf(share.requestId);
    let condition = 'attribute_not_exists(#hold) AND attribute_not_exists(#open) AND ';
    if (from > 0) {
      values[':from'] = from;
      condition += '#use = :from';
    } else {
      condition += 'attribute_not_exists(#use)';
    }
    let update = 'ADD #used :delta, #inUse :delta';
    if (to > 0) {
      values[':to'] = to;
      update = `SET #use = :to ${update}`;
    } else {
      update = `REMOVE #use ${update}`;
    }
    return this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /**
   * Marks the node pool whose share is `use#<createId>` as being changed by `changeId`: quota
   * reconciliation leaves its share alone until the change settles it. The node-pool record admits one
   * open change at a time, so the marker is that change's: it replaces one a crashed change left behind.
   */
  async markOpen(share: ChangeShare): Promise<boolean> {
    return this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: 'SET #open = :change',
      ExpressionAttributeNames: { '#open': openOf(share.createId) },
      ExpressionAttributeValues: { ':change': share.changeId },
    });
  }

  /** Removes `changeId`'s marker (the change ended without removing the nodes). False when it is not there. */
  async clearOpen(share: ChangeShare): Promise<boolean> {
    return this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: 'REMOVE #open',
      ConditionExpression: '#open = :change',
      ExpressionAttributeNames: { '#open': openOf(share.createId) },
      ExpressionAttributeValues: { ':change': share.changeId },
    });
  }

  /**
   * The node pool is gone: its share `use#<createId>` is removed with `changeId`'s marker, the counters
   * lowered by its value, in one write conditional on that value (read first) and on no other change
   * holding the marker. Returns the nodes released (0 when there was no share: reconciliation took it
   * back before the change marked it, or a retried Finalize finds it done).
   */
  async removeUse(share: ChangeShare): Promise<number> {
    const names = { '#use': use(share.createId), '#open': openOf(share.createId), '#used': 'used', '#inUse': 'inUse' };
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.item({ team: share.team, flavor: share.flavor, requestId: share.createId, count: 0 });
      const held = item?.[use(share.createId)];
      if (held === undefined) {
        await this.clearOpen(share);
        return 0;
      }
      const n = Number(held);
      const removed = await this.update({
        Key: key(share.team, share.flavor),
        UpdateExpression: 'REMOVE #use, #open ADD #used :minus, #inUse :minus',
        ConditionExpression: '#use = :n AND (attribute_not_exists(#open) OR #open = :change)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':n': n, ':minus': -n, ':change': share.changeId },
      });
      if (removed) return n;
    }
    throw new Error(`the share use#${share.createId} kept changing while removing it`);
  }

  async counters(team: string, flavor: string): Promise<QuotaCounters> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(team, flavor), ConsistentRead: true }),
    );
    return { reserved: Number(Item?.reserved ?? 0), used: Number(Item?.used ?? 0), inUse: Number(Item?.inUse ?? 0) };
  }

  private async move(share: QuotaShare, updateExpression: string): Promise<boolean> {
    const names: Record<string, string> = {
      '#hold': hold(share.requestId),
      '#attempt': attemptOf(share.requestId),
      '#heldAt': heldAtOf(share.requestId),
      '#reserved': 'reserved',
    };
    if (updateExpression.includes('#use')) names['#use'] = use(share.requestId);
    if (updateExpression.includes('#used')) names['#used'] = 'used';
    if (updateExpression.includes('#inUse')) names['#inUse'] = 'inUse';
    const values: Record<string, number | string> = { ':minus': -share.count, ':held': share.count };
    if (updateExpression.includes(':n')) values[':n'] = share.count;
    let condition = `#hold = :held AND ${this.ownAttempt(share, values)}`;
    if (share.heldAt !== undefined) {
      if (share.heldAt === null) condition += ' AND attribute_not_exists(#heldAt)';
      else {
        values[':heldAt'] = share.heldAt;
        condition += ' AND #heldAt = :heldAt';
      }
    }
    // False when no reservation of this attempt is held: never reserved, already committed or released
    // by an earlier try, or it belongs to another attempt of the request (or was renewed since `heldAt`).
    return this.update({
      Key: key(share.team, share.flavor),
      UpdateExpression: updateExpression,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }

  /** The condition that the reservation is the share's attempt's (`#attempt`), its value added to `values`. */
  private ownAttempt(share: QuotaShare, values: Record<string, number | string>): string {
    if (!share.attempt) return 'attribute_not_exists(#attempt)';
    values[':attempt'] = share.attempt;
    return '#attempt = :attempt';
  }

  /** One conditional UpdateItem on the table: false when its condition did not hold (nothing written). */
  private async update(command: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, ...command }));
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  }

  private async item(share: QuotaShare): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(share.team, share.flavor), ConsistentRead: true }),
    );
    return Item;
  }
}
