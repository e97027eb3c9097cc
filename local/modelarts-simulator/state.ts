/** The simulator's state: node pools per project and pool, kept in one JSON file (atomic writes). */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StoredNodePool {
  readonly projectId: string;
  readonly poolName: string;
  readonly body: Record<string, unknown> & { metadata: { name: string }; spec?: { resources?: { flavor?: string; count?: number; maxCount?: number } } };
  readonly createdAt: number;
}

export interface ReceivedCall {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly at: number;
}

export class SimulatorState {
  private readonly file: string;
  private nodePools: StoredNodePool[];

  constructor(dataDir: string) {
    this.file = join(dataDir, 'modelarts-state.json');
    this.nodePools = existsSync(this.file) ? (JSON.parse(readFileSync(this.file, 'utf8')) as { nodePools: StoredNodePool[] }).nodePools : [];
  }

  find(projectId: string, poolName: string, name: string): StoredNodePool | undefined {
    return this.nodePools.find((n) => n.projectId === projectId && n.poolName === poolName && n.body.metadata.name === name);
  }

  list(projectId: string, poolName: string): StoredNodePool[] {
    return this.nodePools.filter((n) => n.projectId === projectId && n.poolName === poolName);
  }

  add(nodePool: StoredNodePool): void {
    this.nodePools.push(nodePool);
    this.save();
  }

  remove(projectId: string, poolName: string, name: string): boolean {
    const before = this.nodePools.length;
    this.nodePools = this.nodePools.filter((n) => !(n.projectId === projectId && n.poolName === poolName && n.body.metadata.name === name));
    this.save();
    return this.nodePools.length !== before;
  }

  private save(): void {
    writeFileSync(`${this.file}.tmp`, JSON.stringify({ nodePools: this.nodePools }));
    renameSync(`${this.file}.tmp`, this.file);
  }
}
