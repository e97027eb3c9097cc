/**
 * List requests (GET /requests), newest first, one index partition per query (never a scan):
 *  1. the query parameters and the caller choose the partition (lambdas/domain/list-query.ts) and
 *     the cursor, if any, must be one poolgate signed for this very query;
 *  2. read up to `limit` items from the index, reading on (a few times at most) when a filter left
 *     the page short; each read asks DynamoDB for no more items than are still missing, so the
 *     cursor is exactly where the next page starts;
 *  3. for awaiting=me, the index is byStatus AWAITING_APPROVAL, filtered (in DynamoDB) to the
 *     requests that may ask the caller (`approverEmails`: the plan fixed at submission, plus the
 *     escalation contacts reminders added); the approvals of those requests say what still waits for
 *     the caller (read in one batch), and the requests it does are read again, consistently, in a
 *     second batch (a request cancelled or failed a moment ago is not listed). Each comes with the
 *     caller's personal link to decide.
 * A page can be short, even empty, and still have a `nextCursor`; the list ends when it is null.
 */
import type { ListedRequest, RequestList } from '../../contracts/api';
import type { Policy } from '../config/policy';
import { approvalIdFor, isWaitingFor, type ApprovalRecord } from '../domain/approval';
import { approvalLink } from '../domain/approval-link';
import { decodeCursor, encodeCursor, type IndexPosition } from '../domain/list-cursor';
import { parseListQuery, queryIdentity, type ListQuery } from '../domain/list-query';
import { toRequestSummary, type PoolRequestRecord, type RequestSummary } from '../domain/pool-request';
import { requestPageLink } from '../domain/request-link';
import type { ApprovalStore, Clock, RequestStore } from './ports';

/** Reads of the index per page at most: a filter that matches rarely gives a short page, not a long wait. */
const MAX_READS_PER_PAGE = 5;

export interface ListDeps {
  readonly policy: Policy;
  readonly requests: Pick<RequestStore, 'page' | 'getMany'>;
  readonly approvals: Pick<ApprovalStore, 'getMany'>;
  readonly linkKey: string;
  readonly publicBaseUrl: string;
  /** The time (the wiring's clock). */
  readonly now: Clock;
}

/** The answer of GET /requests and its items (the API contract). */
export type { ListedRequest, RequestList as ListResult };

interface Read {
  readonly items: readonly ListedRequest[];
  readonly next?: IndexPosition;
}

export async function listRequests(
  viewer: string,
  params: Readonly<Record<string, string | undefined>>,
  deps: ListDeps,
): Promise<RequestList> {
  const query = parseListQuery(params, viewer, deps.policy);
  const identity = queryIdentity(viewer, query);
  let position = query.cursor ? decodeCursor(query.cursor, identity, deps.linkKey) : undefined;
  const items: ListedRequest[] = [];
  for (let reads = 0; reads < MAX_READS_PER_PAGE && items.length < query.limit; reads++) {
    const read = await readOnce(query, query.limit - items.length, position, deps);
    items.push(...read.items);
    position = read.next;
    if (!position) break;
  }
  return { items, nextCursor: position ? encodeCursor(position, identity, deps.linkKey) : null };
}

function summary(request: PoolRequestRecord, deps: ListDeps): RequestSummary {
  return toRequestSummary(request, {
    nodeTracking: deps.policy.nodeTracking.enabled,
    pageUrl: requestPageLink(deps.publicBaseUrl, request.requestId, deps.linkKey),
  });
}

async function readOnce(
  query: ListQuery,
  limit: number,
  startAt: IndexPosition | undefined,
  deps: ListDeps,
): Promise<Read> {
  const scope = query.scope;
  if (scope.kind === 'awaiting') return readWaiting(scope.approver, limit, startAt, deps, query);
  const [index, partition] =
    scope.kind === 'requester'
      ? (['byRequester', scope.email] as const)
      : scope.kind === 'team'
        ? (['byTeam', scope.team] as const)
        : (['byStatus', scope.status] as const);
  const page = await deps.requests.page(index, partition, {
    limit,
    status: scope.kind === 'status' ? undefined : query.status,
    ...(query.kind ? { kind: query.kind } : {}),
    startAt,
  });
  return { items: page.requests.map((r) => summary(r, deps)), next: page.next };
}

async function readWaiting(
  approver: string,
  limit: number,
  startAt: IndexPosition | undefined,
  deps: ListDeps,
  query: ListQuery,
): Promise<Read> {
  const now = deps.now();
  const page = await deps.requests.page('byStatus', 'AWAITING_APPROVAL', {
    limit,
    approver,
    startAt,
    ...(query.kind ? { kind: query.kind } : {}),
  });
  if (page.requests.length === 0) return { items: [], next: page.next };
  // At most one stage of a request is open at a time; which one, its approval item says (not the
  // request's steps: a stage is decided on the approval before the request records it).
  const approvals = await deps.approvals.getMany(
    page.requests.flatMap((r) => r.stages.map((_, i) => approvalIdFor(r.requestId, i))),
  );
  const waiting = page.requests.flatMap((r): Array<[string, ApprovalRecord]> => {
    const approval = r.stages
      .map((_, i) => approvals.get(approvalIdFor(r.requestId, i)))
      .find((a) => a !== undefined && isWaitingFor(a, approver, now));
    return approval ? [[r.requestId, approval]] : [];
  });
  if (waiting.length === 0) return { items: [], next: page.next };
  const requests = await deps.requests.getMany(waiting.map(([id]) => id));
  const items = waiting.flatMap(([requestId, approval]): ListedRequest[] => {
    const request = requests.get(requestId);
    if (!request || request.status !== 'AWAITING_APPROVAL') return [];
    const base = summary(request, deps);
    return [
      {
        ...base,
        awaiting: {
          approvalId: approval.approvalId,
          stage: approval.stageName,
          askedAt: approval.createdAt,
          expiresAt: approval.expiresAt,
        },
        links: {
          ...base.links,
          decide: approvalLink(deps.publicBaseUrl, { approvalId: approval.approvalId, approver }, deps.linkKey),
        },
      },
    ];
  });
  return { items, next: page.next };
}
