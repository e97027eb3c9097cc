/**
 * The node-pool record: one item per project + pool + node-pool name that poolgate created
 * (`NODEPOOL#<project>#<pool>#<name>` / `OPEN`, grown from the name claim it was). It anchors the node
 * pool's life: the owning team, the creating request (its label in ModelArts, its quota share
 * `use#<id>`), the flavor, the counted nodes, the billing mode, and the one open request.
 *
 * `requestId` is the request that last claimed the node pool, of any kind; it holds the record while it
 * has not reached its final status (a delete: DELETED). A claim by the next request takes it over once
 * that one is final, so ending a request costs no write on the record.
 *
 *   state creating  a create holds it; no node pool recorded yet
 *         present   the node pool exists (the create recorded `node_pool_created`)
 *         deleted   a delete saw ModelArts no longer show it; the name is free for a new create
 */
import type { BillingMode } from './billing';
import type { LeaseTerms, RecordLease } from './lease';
import type { RequestKind } from './request-kind';

export const NODE_POOL_STATES = ['creating', 'present', 'deleted'] as const;
export type NodePoolState = (typeof NODE_POOL_STATES)[number];

export interface NodePoolName {
  readonly projectId: string;
  readonly poolName: string;
  readonly nodePoolName: string;
}

/** What a create writes on the record when it claims the name. */
export interface NodePoolFacts extends NodePoolName {
  readonly team: string;
  readonly creatingRequestId: string;
  /** The creating request's requester (told when someone else deletes the node pool). */
  readonly creator: string;
  readonly flavor: string;
  /** The nodes counted against the team's quota (the share `use#<creatingRequestId>`). */
  readonly count: number;
  readonly billingMode: BillingMode;
  /** The lease that applies (frozen at creation), and its holder: the lease starts when ModelArts accepts the create. */
  readonly leaseTerms?: LeaseTerms;
  readonly leaseHolder?: string;
}

/** The lease fields a record drops when a new creation claims the name or the node pool is deleted. */
export const LEASE_FIELDS = [
  'gsiLease',
  'leaseEndsAt',
  'leaseTerms',
  'leaseExtendedSeconds',
  'leaseHolder',
  'leaseNextAt',
  'leaseExtension',
  'leaseLastExtension',
  'leaseDeletion',
  'leaseDeletionAttempts',
  'leaseStopped',
] as const;

export interface NodePoolRecord extends NodePoolName, RecordLease {
  /** The request that last claimed the record (open while it has not reached its final status). */
  readonly requestId: string;
  readonly kind: RequestKind;
  readonly claimedAt: string;
  /** Absent on a name claim stored before records (backfilled by the quota reconciliation). */
  readonly state?: NodePoolState;
  readonly team?: string;
  readonly creatingRequestId?: string;
  readonly creator?: string;
  readonly flavor?: string;
  readonly count?: number;
  readonly billingMode?: BillingMode;
  /** When ModelArts accepted the creation (state present). */
  readonly createdAt?: string;
  readonly deletedAt?: string;
  /** Why the sweep stopped following the lease (the node pool turned out not to be poolgate's). */
  readonly leaseStopped?: string;
}

/** The index partition (byTeam) of a team's present node pools: never a request partition. */
export const inventoryPartition = (team: string) => `NODEPOOLS#${team}`;

export const nodePoolKey = (name: NodePoolName) => ({
  pk: `NODEPOOL#${name.projectId}#${name.poolName}#${name.nodePoolName}`,
  sk: 'OPEN',
});

/** A node pool poolgate created and that exists, as far as the record knows. */
export function isPresent(record: NodePoolRecord | undefined): record is NodePoolRecord & Required<NodePoolFacts> {
  return record?.state === 'present' && record.team !== undefined && record.creatingRequestId !== undefined;
}
