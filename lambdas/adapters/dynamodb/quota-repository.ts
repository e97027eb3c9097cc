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
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Reservation } from '../../domain/quota';
import type { ChangeShare, HeldShare, QuotaCounters, QuotaShare, QuotaStore } from '../../use-cases/ports';
import { conditionalWrite } from './client';
import { Expression, updateExpression } from './expression';

const key = (team: string, flavor: string) => ({ pk: `QUOTA#${team}`, sk: `FLAVOR#${flavor}` });
const hold = (requestId: string) => `hold#${requestId}`;
const use = (requestId: string) => `use#${requestId}`;
const attemptOf = (requestId: string) => `attempt#${requestId}`;
const heldAtOf = (requestId: string) => `heldAt#${requestId}`;
/** The marker of a change under way on the node pool whose share is `use#<createId>`: the changing request's id. */
const openOf = (createId: string) => `open#${createId}`;

export type { ChangeShare, HeldShare, QuotaCounters, QuotaShare };

export class QuotaRepository implements QuotaStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Reserves `count` nodes for the share's attempt if `inUse` is at most `maxInUseBefore` (see `Reservation`). */
  async reserve(share: QuotaShare, maxInUseBefore: number): Promise<Reservation> {
    const x = new Expression();
    const [held, inUse, n] = [x.name(hold(share.requestId)), x.name('inUse'), x.value(share.count)];
    const set = [`${held} = ${n}`, `${x.name(heldAtOf(share.requestId))} = ${x.value(new Date().toISOString())}`];
    if (share.attempt) set.push(`${x.name(attemptOf(share.requestId))} = ${x.value(share.attempt)}`);
    const applied = await this.update(share, x, {
      update: { set, add: [`${inUse} ${n}`, `${x.name('reserved')} ${n}`] },
      condition: `attribute_not_exists(${held}) AND attribute_not_exists(${x.name(use(share.requestId))}) AND (attribute_not_exists(${inUse}) OR ${inUse} <= ${x.value(maxInUseBefore)})`,
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
    const x = new Expression();
    const attempt = x.name(attemptOf(share.requestId));
    const value = x.value(share.attempt);
    return this.update(share, x, {
      update: {
        set: [`${attempt} = ${value}`, `${x.name(heldAtOf(share.requestId))} = ${x.value(new Date().toISOString())}`],
      },
      condition: `${x.name(hold(share.requestId))} = ${x.value(share.count)} AND (attribute_not_exists(${attempt}) OR ${attempt} < ${value})`,
    });
  }

  /**
   * The run confirms that this attempt's reservation is still there and its own: stamped now, so that
   * quota reconciliation, which may have judged it left behind a moment ago, no longer settles it.
   * False when it is not there (given back meanwhile): reserve again.
   */
  async renew(share: QuotaShare): Promise<boolean> {
    const x = new Expression();
    return this.update(share, x, {
      update: { set: [`${x.name(heldAtOf(share.requestId))} = ${x.value(new Date().toISOString())}`] },
      condition: `${x.name(hold(share.requestId))} = ${x.value(share.count)} AND ${ownAttempt(share, x)}`,
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
    return this.settle(share, (x) => {
      const n = x.value(share.count);
      return {
        set: [`${x.name(use(share.requestId))} = ${n}`],
        add: [`${x.name('reserved')} ${x.value(-share.count)}`, `${x.name('used')} ${n}`],
      };
    });
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
    const x = new Expression();
    const [used, n] = [x.name(use(share.requestId)), x.value(share.count)];
    await this.update(share, x, {
      update: { set: [`${used} = ${n}`], add: [`${x.name('used')} ${n}`, `${x.name('inUse')} ${n}`] },
      condition: `attribute_not_exists(${x.name(hold(share.requestId))}) AND attribute_not_exists(${used})`,
    });
  }

  /** Gives this attempt's reservation back (rejected, expired, cancelled, failed). True when it did. */
  async release(share: QuotaShare): Promise<boolean> {
    return this.settle(share, (x) => {
      const minus = x.value(-share.count);
      return { add: [`${x.name('reserved')} ${minus}`, `${x.name('inUse')} ${minus}`] };
    });
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
    const x = new Expression();
    const used = x.name(use(share.requestId));
    const delta = x.value(to - from);
    const add = [`${x.name('used')} ${delta}`, `${x.name('inUse')} ${delta}`];
    return this.update(share, x, {
      update: to > 0 ? { set: [`${used} = ${x.value(to)}`], add } : { remove: [used], add },
      // A change under way on the node pool (open#<id>) is that request's to settle.
      condition: `attribute_not_exists(${x.name(hold(share.requestId))}) AND attribute_not_exists(${x.name(openOf(share.requestId))}) AND ${from > 0 ? `${used} = ${x.value(from)}` : `attribute_not_exists(${used})`}`,
    });
  }

  /**
   * Marks the node pool whose share is `use#<createId>` as being changed by `changeId`: quota
   * reconciliation leaves its share alone until the change settles it. The node-pool record admits one
   * open change at a time, so the marker is that change's: it replaces one a crashed change left behind.
   */
  async markOpen(share: ChangeShare): Promise<boolean> {
    const x = new Expression();
    return this.update(share, x, {
      update: { set: [`${x.name(openOf(share.createId))} = ${x.value(share.changeId)}`] },
    });
  }

  /** Removes `changeId`'s marker (the change ended without removing the nodes). False when it is not there. */
  async clearOpen(share: ChangeShare): Promise<boolean> {
    const x = new Expression();
    const open = x.name(openOf(share.createId));
    return this.update(share, x, { update: { remove: [open] }, condition: `${open} = ${x.value(share.changeId)}` });
  }

  /**
   * The node pool is gone: its share `use#<createId>` is removed with `changeId`'s marker, the counters
   * lowered by its value, in one write conditional on that value (read first) and on no other change
   * holding the marker. Returns the nodes released (0 when there was no share: reconciliation took it
   * back before the change marked it, or a retried Finalize finds it done).
   */
  async removeUse(share: ChangeShare): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.item({ team: share.team, flavor: share.flavor, requestId: share.createId, count: 0 });
      const held = item?.[use(share.createId)];
      if (held === undefined) {
        await this.clearOpen(share);
        return 0;
      }
      const n = Number(held);
      const x = new Expression();
      const [used, open, minus] = [x.name(use(share.createId)), x.name(openOf(share.createId)), x.value(-n)];
      const removed = await this.update(share, x, {
        update: { remove: [used, open], add: [`${x.name('used')} ${minus}`, `${x.name('inUse')} ${minus}`] },
        condition: `${used} = ${x.value(n)} AND (attribute_not_exists(${open}) OR ${open} = ${x.value(share.changeId)})`,
      });
      if (removed) return n;
    }
    throw new Error(`the share use#${share.createId} kept changing while removing it`);
  }

  /** The node pool's share now (`use#<createId>`; 0: none), read consistently. */
  async useOf(share: Omit<ChangeShare, 'changeId'>): Promise<number> {
    const item = await this.item({ team: share.team, flavor: share.flavor, requestId: share.createId, count: 0 });
    return Number(item?.[use(share.createId)] ?? 0);
  }

  /**
   * A scale-up's nodes are there: its reservation `hold#<changeId>` (whatever attempt made it) moves
   * into the node pool's share `use#<createId>` (reserved down, used up, inUse unchanged), and the
   * marker goes, in one write conditional on the reservation's value (read first) and on no other
   * change holding the marker. Returns the nodes moved (0: nothing held: moved already, a retried call).
   */
  async moveIntoUse(share: ChangeShare): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.item({ team: share.team, flavor: share.flavor, requestId: share.changeId, count: 0 });
      const held = item?.[hold(share.changeId)];
      if (held === undefined) {
        await this.clearOpen(share);
        return 0;
      }
      const n = Number(held);
      const x = new Expression();
      const [h, open] = [x.name(hold(share.changeId)), x.name(openOf(share.createId))];
      const moved = await this.update(share, x, {
        update: {
          remove: [h, x.name(attemptOf(share.changeId)), x.name(heldAtOf(share.changeId)), open],
          add: [
            `${x.name(use(share.createId))} ${x.value(n)}`,
            `${x.name('reserved')} ${x.value(-n)}`,
            `${x.name('used')} ${x.value(n)}`,
          ],
        },
        condition: `${h} = ${x.value(n)} AND (attribute_not_exists(${open}) OR ${open} = ${x.value(share.changeId)})`,
      });
      if (moved) return n;
    }
    throw new Error(`the reservation hold#${share.changeId} kept changing while moving it into use#${share.createId}`);
  }

  /**
   * A scale-down's nodes are gone: the share `use#<createId>` is set to `to` (the counters lowered by
   * the difference) and the marker removed, in one write conditional on the share's old value (read
   * first). A share already at or below `to` is left as it is (only the marker goes). Returns the nodes released.
   */
  async lowerUse(share: ChangeShare, to: number): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.item({ team: share.team, flavor: share.flavor, requestId: share.createId, count: 0 });
      const held = item?.[use(share.createId)];
      if (held === undefined || Number(held) <= to) {
        await this.clearOpen(share);
        return 0;
      }
      const n = Number(held);
      const x = new Expression();
      const [used, open, minus] = [x.name(use(share.createId)), x.name(openOf(share.createId)), x.value(to - n)];
      const lowered = await this.update(share, x, {
        update: {
          set: [`${used} = ${x.value(to)}`],
          remove: [open],
          add: [`${x.name('used')} ${minus}`, `${x.name('inUse')} ${minus}`],
        },
        condition: `${used} = ${x.value(n)} AND (attribute_not_exists(${open}) OR ${open} = ${x.value(share.changeId)})`,
      });
      if (lowered) return n - to;
    }
    throw new Error(`the share use#${share.createId} kept changing while lowering it`);
  }

  async counters(team: string, flavor: string): Promise<QuotaCounters> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(team, flavor), ConsistentRead: true }),
    );
    return { reserved: Number(Item?.reserved ?? 0), used: Number(Item?.used ?? 0), inUse: Number(Item?.inUse ?? 0) };
  }

  /**
   * Ends this attempt's reservation (`hold`, its attempt and its stamp removed) with the counter
   * changes `change` adds. False when no reservation of this attempt is held: never reserved, already
   * committed or released by an earlier try, or it belongs to another attempt of the request (or was
   * renewed since `heldAt`).
   */
  private async settle(
    share: QuotaShare,
    change: (x: Expression) => { set?: string[]; add: string[] },
  ): Promise<boolean> {
    const x = new Expression();
    const [held, heldAt] = [x.name(hold(share.requestId)), x.name(heldAtOf(share.requestId))];
    const conditions = [`${held} = ${x.value(share.count)}`, ownAttempt(share, x)];
    if (share.heldAt === null) conditions.push(`attribute_not_exists(${heldAt})`);
    else if (share.heldAt !== undefined) conditions.push(`${heldAt} = ${x.value(share.heldAt)}`);
    const { set, add } = change(x);
    return this.update(share, x, {
      update: { remove: [held, x.name(attemptOf(share.requestId)), heldAt], set, add },
      condition: conditions.join(' AND '),
    });
  }

  /**
   * One UpdateItem on the share's counter item, conditional when `condition` is given: false when it did
   * not hold (nothing written).
   */
  private async update(
    share: Pick<QuotaShare, 'team' | 'flavor'>,
    x: Expression,
    expressions: { update: Parameters<typeof updateExpression>[0]; condition?: string },
  ): Promise<boolean> {
    const output = await conditionalWrite(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(share.team, share.flavor),
          UpdateExpression: updateExpression(expressions.update),
          ...(expressions.condition ? { ConditionExpression: expressions.condition } : {}),
          ...x.attributes(),
        }),
      ),
    );
    return output !== undefined;
  }

  private async item(share: QuotaShare): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: key(share.team, share.flavor), ConsistentRead: true }),
    );
    return Item;
  }
}

/** The condition that the reservation is the share's attempt's (the first run's has no attempt attribute). */
function ownAttempt(share: QuotaShare, x: Expression): string {
  const attempt = x.name(attemptOf(share.requestId));
  return share.attempt ? `${attempt} = ${x.value(share.attempt)}` : `attribute_not_exists(${attempt})`;
}
