/**
 * The simulator's node pools, kept in one JSON file under the data directory so they survive a
 * restart. Every change rewrites the file atomically (temp file + rename): a crash leaves either
 * the old state or the new one, never half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelArtsNodePool } from '../../lambdas/domain/nodepool-request';

export interface StoredNodePool {
  readonly projectId: string;
  readonly poolName: string;
  /** ISO 8601; nodes become available a delay after it. */
  readonly createdAt: string;
  /** The create body as ModelArts accepted it. */
  readonly nodePool: ModelArtsNodePool;
  /** ISO 8601: when DeleteNodePool accepted its deletion; its nodes are `deleting` until a delay after it, then it is gone. */
  readonly deleteRequestedAt?: string;
  /** The last count change (PatchNodePool or the console): nodes move from `from` to the node pool's count from `at`. */
  readonly countChange?: CountChange;
}

export interface CountChange {
  /** The nodes there were (available) when the count changed. */
  readonly from: number;
  /** ISO 8601: added nodes are `creating` until the node-ready delay after it, removed ones `deleting` until the delete delay. */
  readonly at: string;
}

interface StateFile {
  readonly nodePools: StoredNodePool[];
  /** DeleteNodePool calls received per `<project>/<pool>/<name>`, whatever the answer (kept across restarts). */
  readonly deleteCalls?: Record<string, number>;
  /** PatchNodePool calls received per `<project>/<pool>/<name>`, whatever the answer (kept across restarts). */
  readonly patchCalls?: Record<string, number>;
}

export const nodePoolPath = (projectId: string, poolName: string, name: string) => `${projectId}/${poolName}/${name}`;

const STATE_FILE = 'modelarts-state.json';

export class NodePoolStore {
  private constructor(
    private readonly file: string,
    private nodePools: StoredNodePool[],
    private readonly deletes: Record<string, number> = {},
    private readonly patches: Record<string, number> = {},
  ) {}

  /** The store of `dataDir`, created empty the first time. */
  static open(dataDir: string): NodePoolStore {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, STATE_FILE);
    if (!existsSync(file)) return new NodePoolStore(file, []);
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
      return new NodePoolStore(file, state.nodePools, state.deleteCalls ?? {}, state.patchCalls ?? {});
    } catch (error) {
      throw new Error(
        `ModelArts simulator state ${file} is unreadable (${(error as Error).message}); move it away to start empty`,
        { cause: error },
      );
    }
  }

  find(projectId: string, poolName: string, name: string): StoredNodePool | undefined {
    return this.nodePools.find(
      (n) => n.projectId === projectId && n.poolName === poolName && n.nodePool.metadata.name === name,
    );
  }

  /** The node pools of one pool, oldest first. */
  list(projectId: string, poolName: string): StoredNodePool[] {
    return this.nodePools.filter((n) => n.projectId === projectId && n.poolName === poolName);
  }

  /** Every node pool, oldest first. */
  all(): readonly StoredNodePool[] {
    return this.nodePools;
  }

  add(nodePool: StoredNodePool): void {
    this.nodePools.push(nodePool);
    this.save();
  }

  /** Deletes one node pool; false when there is none of that name. */
  remove(projectId: string, poolName: string, name: string): boolean {
    const found = this.find(projectId, poolName, name);
    if (!found) return false;
    this.nodePools.splice(this.nodePools.indexOf(found), 1);
    this.save();
    return true;
  }

  /** Counts one DeleteNodePool call for the node pool (whatever its answer). */
  countDeleteCall(projectId: string, poolName: string, name: string): void {
    const path = nodePoolPath(projectId, poolName, name);
    this.deletes[path] = (this.deletes[path] ?? 0) + 1;
    this.save();
  }

  /** DeleteNodePool calls received per `<project>/<pool>/<name>` since the state file was made. */
  deleteCalls(): Readonly<Record<string, number>> {
    return this.deletes;
  }

  /** Counts one PatchNodePool call for the node pool (whatever its answer). */
  countPatchCall(projectId: string, poolName: string, name: string): void {
    const path = nodePoolPath(projectId, poolName, name);
    this.patches[path] = (this.patches[path] ?? 0) + 1;
    this.save();
  }

  /** PatchNodePool calls received per `<project>/<pool>/<name>` since the state file was made. */
  patchCalls(): Readonly<Record<string, number>> {
    return this.patches;
  }

  /** Replaces a stored node pool (found by its project, pool and name) with `changed`. */
  replace(changed: StoredNodePool): void {
    const found = this.find(changed.projectId, changed.poolName, changed.nodePool.metadata.name);
    if (!found) return;
    this.nodePools[this.nodePools.indexOf(found)] = changed;
    this.save();
  }

  /** Its deletion accepted at `at`: the nodes are deleting. */
  markDeleting(projectId: string, poolName: string, name: string, at: string): void {
    const found = this.find(projectId, poolName, name);
    if (!found || found.deleteRequestedAt) return;
    this.nodePools[this.nodePools.indexOf(found)] = { ...found, deleteRequestedAt: at };
    this.save();
  }

  /** Removes the node pools whose deletion was accepted at least `delayMs` ago (from stored times: a restart resumes). */
  removeDeletedBefore(cutoffMs: number): void {
    const kept = this.nodePools.filter((n) => !n.deleteRequestedAt || Date.parse(n.deleteRequestedAt) > cutoffMs);
    if (kept.length === this.nodePools.length) return;
    this.nodePools = kept;
    this.save();
  }

  private save(): void {
    const state: StateFile = { nodePools: this.nodePools, deleteCalls: this.deletes, patchCalls: this.patches };
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temp, this.file);
  }
}
