/**
 * The approval links in a stack's outbox, indexed by request id and approver, for suites that
 * decide hundreds of requests: each `.eml` file is read once (readOutbox reads them all each time).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBodies } from './stack';

/** Re-reads the directory at most this often, however many callers poll. */
const REFRESH_MS = 20;

export class OutboxIndex {
  private readonly seen = new Set<string>();
  /** request id -> approver -> personal approval link (the latest stage's). */
  private readonly links = new Map<string, Map<string, string>>();
  private refreshedAt = 0;
  private mails = 0;

  constructor(private readonly dir: string) {}

  /** The approval link mailed to `approver` for `requestId`, if it has arrived (stage `stage`, default 0). */
  link(requestId: string, approver: string, stage = 0): string | undefined {
    this.refresh();
    return this.links.get(`${requestId}.${stage}`)?.get(approver.toLowerCase());
  }

  /** Every `.eml` file read so far. */
  count(): number {
    this.refresh();
    return this.mails;
  }

  private refresh(): void {
    if (Date.now() - this.refreshedAt < REFRESH_MS) return;
    this.refreshedAt = Date.now();
    for (const file of readdirSync(this.dir)) {
      // The stand-in writes a temp file and renames it: a `.eml` is always complete.
      if (!file.endsWith('.eml') || this.seen.has(file)) continue;
      this.seen.add(file);
      this.mails += 1;
      const body = decodeBodies(readFileSync(join(this.dir, file), 'utf8'));
      for (const match of body.matchAll(/https?:\/\/[^\s"<>]+\/approvals\/([^/?\s"<>]+)\?[^\s"<>]+/g)) {
        const link = match[0].replace(/&amp;/g, '&');
        const approver = new URL(link).searchParams.get('approver')?.toLowerCase();
        if (!approver) continue;
        const approvalId = decodeURIComponent(match[1]);
        let byApprover = this.links.get(approvalId);
        if (!byApprover) this.links.set(approvalId, (byApprover = new Map<string, string>()));
        byApprover.set(approver, link);
      }
    }
  }
}
