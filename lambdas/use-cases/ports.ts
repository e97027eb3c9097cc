/**
 * The ports of the use cases: the interfaces they own and depend on, each implemented by an adapter
 * (lambdas/adapters/) and handed over by the wiring (lambdas/wiring.ts), or by a test. A use case
 * never names a concrete repository or client class.
 *
 *   RequestStore    request items           adapters/dynamodb/request-repository.ts
 *   ApprovalStore   approval items          adapters/dynamodb/approval-repository.ts
 *   QuotaStore      quota counters          adapters/dynamodb/quota-repository.ts
 *   Claims          idempotency keys, node-pool names   adapters/dynamodb/claim-repository.ts
 *   WorkflowRuns    Step Functions          adapters/workflow.ts
 *   ModelArts       the node-pool API       adapters/modelarts/projects.ts
 *   Clock           the time                wiring.ts
 *   Notifier        who is told what        use-cases/notifier.ts (mail and Slack through MailSender, ChatPoster)
 */
import type { Resumption } from '../../contracts/workflow';
import type { ApprovalOutcome } from '../../contracts/workflow';
import type { RequestKind } from '../domain/request-kind';
import type { MailMessage } from '../adapters/mailer';
import type { NodeCounts, NodePool, Pool, ResourceFlavor } from '../domain/modelarts';
import type { SlackMessage } from '../adapters/slack';
import type { ApprovalRecord, CastVote, SlackMessageRef } from '../domain/approval';
import type { IndexPosition } from '../domain/list-cursor';
import type { PatchBody } from '../domain/nodepool-patch';
import type { NodePoolFacts, NodePoolName, NodePoolRecord } from '../domain/nodepool-record';
import type { NodePoolRequest } from '../domain/nodepool-request';
import type { PoolRequestRecord } from '../domain/pool-request';
import type { Reservation } from '../domain/quota';
import type { RequestStatus, TerminalReason } from '../domain/status';
import type { Step } from '../domain/steps';
import type { StageOutcome } from '../domain/votes';

/** The time, from one clock: the wiring's, or a test's fixed one. */
export type Clock = () => Date;

// --- RequestStore -----------------------------------------------------------------------------------

export interface StatusChange {
  readonly status: RequestStatus;
  /** Why a request ended; a change without one clears the previous reason (a retried FAILED request). */
  readonly reason?: TerminalReason;
  /** The statuses the change may start from; default: the transition table's sources of `status`. */
  readonly from?: readonly RequestStatus[];
  /** The request's retry count after the change (a retry sets it). */
  readonly retries?: number;
}

export interface StepResult {
  /** False when the step was already recorded (a retry): nothing changed. */
  readonly recorded: boolean;
  readonly request: PoolRequestRecord;
}

/** The request indexes of contracts/table.ts. */
export type RequestIndexName = 'byTeam' | 'byRequester' | 'byStatus';

/** What else a step's write changes on the request item. */
export interface StepExtras {
  /** People who may now be asked to decide (escalation contacts a reminder adds): added to `approverEmails`. */
  readonly addApprovers?: readonly string[];
}

export interface RequestPage {
  readonly requests: readonly PoolRequestRecord[];
  /** Where the next page starts; absent at the end. */
  readonly next?: IndexPosition;
}

export interface RequestStore {
  /** Stores a new request with its first step. Returns false if it already exists (a resumed submission). */
  create(request: PoolRequestRecord): Promise<boolean>;
  get(requestId: string): Promise<PoolRequestRecord | undefined>;
  /** Several requests at once; missing ones are left out. */
  getMany(requestIds: readonly string[]): Promise<Map<string, PoolRequestRecord>>;
  /** One page of an index partition, newest first (a filtered page may be short, even empty, and still have a `next`). */
  page(
    index: RequestIndexName,
    partition: string,
    options: {
      limit: number;
      status?: RequestStatus;
      kind?: RequestKind;
      approver?: string;
      startAt?: IndexPosition;
    },
  ): Promise<RequestPage>;
  /** Appends `step` and, when given, the status change it causes, in one write; a step id recorded already changes nothing. */
  recordStep(requestId: string, step: Step, change?: StatusChange, extras?: StepExtras): Promise<StepResult>;
  recordSteps(
    requestId: string,
    steps: readonly Step[],
    change?: StatusChange,
    extras?: StepExtras,
  ): Promise<StepResult>;
}

// --- ApprovalStore ----------------------------------------------------------------------------------

export type OpenApproval = Omit<
  ApprovalRecord,
  'votes' | 'decision' | 'decidedAt' | 'closed' | 'notifiedAt' | 'reminders' | 'slackMessages'
>;

export type VoteResult =
  | { readonly ok: true; readonly approval: ApprovalRecord }
  | { readonly ok: false; readonly approval: ApprovalRecord | undefined };

export interface ApprovalStore {
  /** Creates the approval, or only replaces the task token of one that exists. */
  open(approval: OpenApproval): Promise<ApprovalRecord>;
  get(approvalId: string): Promise<ApprovalRecord | undefined>;
  getMany(approvalIds: readonly string[]): Promise<Map<string, ApprovalRecord>>;
  /** Records one approver's vote once (and, with `decision`, the stage decision in the same write). */
  castVote(
    approvalId: string,
    approver: string,
    vote: CastVote,
    decision?: Exclude<StageOutcome, 'pending'>,
  ): Promise<VoteResult>;
  /** Sets the stage decision once; false when another writer decided first. */
  decide(approvalId: string, decision: Exclude<StageOutcome, 'pending'>, at: string): Promise<boolean>;
  markNotified(approvalId: string, at: string, slackMessages: readonly SlackMessageRef[]): Promise<void>;
  /** Counts a reminder and adds approvers; undefined when decided or closed meanwhile. */
  remind(
    approvalId: string,
    added: ReadonlyArray<{ email: string; slackUserId?: string }>,
  ): Promise<ApprovalRecord | undefined>;
  close(approvalId: string, reason: NonNullable<ApprovalRecord['closed']>): Promise<void>;
}

// --- QuotaStore -------------------------------------------------------------------------------------

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

export interface QuotaStore {
  reserve(share: QuotaShare, maxInUseBefore: number): Promise<Reservation>;
  takeOver(share: QuotaShare & { readonly attempt: number }): Promise<boolean>;
  renew(share: QuotaShare): Promise<boolean>;
  reserveForAttempt(share: QuotaShare & { readonly attempt: number }, maxInUseBefore: number): Promise<Reservation>;
  commit(share: QuotaShare): Promise<boolean>;
  commitOrCount(share: QuotaShare): Promise<void>;
  release(share: QuotaShare): Promise<boolean>;
  shares(team: string): Promise<HeldShare[]>;
  reconcileUse(share: Omit<QuotaShare, 'count'>, from: number, to: number): Promise<boolean>;
  counters(team: string, flavor: string): Promise<QuotaCounters>;
  /** Marks the node pool's share as being changed by `changeId` (reconciliation leaves it alone). */
  markOpen(share: ChangeShare): Promise<boolean>;
  /** Removes `changeId`'s marker; false when it is not there. */
  clearOpen(share: ChangeShare): Promise<boolean>;
  /** The node pool is gone: removes its share and the marker; the nodes released (0: no share). */
  removeUse(share: ChangeShare): Promise<number>;
  /** The node pool's share now (`use#<createId>`; 0: none). */
  useOf(share: Omit<ChangeShare, 'changeId'>): Promise<number>;
  /**
   * A scale-up's nodes are there: its reservation (`hold#<changeId>`) moves into the node pool's share,
   * with the marker removed, in one conditional write. Returns the nodes moved (0: none held).
   */
  moveIntoUse(share: ChangeShare): Promise<number>;
  /**
   * A scale-down's nodes are gone: the share is lowered to `to`, conditional on its old value, with the
   * marker removed. Returns the nodes released (0: the share was at most `to`).
   */
  lowerUse(share: ChangeShare, to: number): Promise<number>;
}

// --- Claims -----------------------------------------------------------------------------------------

/** How a request claims a node pool. */
export interface ClaimOptions {
  /** Default `create`. */
  readonly kind?: RequestKind;
  /** A create's facts, written with its claim (they replace those of a creation that never made the node pool). */
  readonly facts?: NodePoolFacts;
  /**
   * A retried request takes its node pool back only if nobody claimed it since: a later request that
   * has finished meanwhile makes the retry `superseded`.
   */
  readonly retry?: boolean;
}

/**
 * Why a claim was refused: `open` another request holds it (the default, `why` absent); `present` a
 * create found a node pool poolgate created under that name; `absent` a change found no node pool
 * poolgate created; `superseded` a retry found a later request finished on it.
 */
export type ClaimResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly holderId: string; readonly why?: 'present' | 'absent' | 'superseded' };

export interface RecordPage {
  readonly records: readonly NodePoolRecord[];
  readonly next?: IndexPosition;
}

/** The idempotency keys and the node-pool records (adapters/dynamodb/claim-repository.ts). */
export interface Claims {
  /**
   * Claims the key for `requestId`; returns the request id that holds it (ours or an earlier one).
   * `holderIsOpen`, when given, lets the claim take the key over from a request no longer open.
   */
  claimIdempotencyKey(
    keyHash: string,
    requestId: string,
    now: Date,
    holderIsOpen?: (holderId: string) => Promise<boolean>,
  ): Promise<string>;
  holderOf(name: NodePoolName): Promise<string | undefined>;
  /** The node-pool record (or the bare name claim of a request stored before records). */
  record(name: NodePoolName): Promise<NodePoolRecord | undefined>;
  /** Several records at once; absent ones are left out. */
  records(names: readonly NodePoolName[]): Promise<NodePoolRecord[]>;
  claimNodePoolName(
    name: NodePoolName,
    requestId: string,
    holderIsOpen: (holderId: string, claimedAt: Date) => Promise<boolean>,
    now: Date,
    options?: ClaimOptions,
  ): Promise<ClaimResult>;
  /** The create recorded its node pool (or the backfill of one created before records); false: not this creation's. */
  markPresent(facts: NodePoolFacts, createdAt: string, backfill?: boolean): Promise<boolean>;
  /** A scale settled: the record counts `count` nodes; false when `changeId` no longer holds the record. */
  markCount(name: NodePoolName, changeId: string, count: number): Promise<boolean>;
  /** ModelArts no longer shows the node pool; false when `deleteId` no longer holds the record. */
  markDeleted(name: NodePoolName, deleteId: string, at: string): Promise<boolean>;
  /** One page of a team's present node pools, newest first. */
  inventory(team: string, options: { limit: number; startAt?: IndexPosition }): Promise<RecordPage>;
  /**
   * Claims a drift observation (its deterministic id) on the node pool's record: true for the one
   * caller that adds it; false when it was seen before (whichever request is the latest now) or the
   * record is gone. A new creation under the name forgets what was seen.
   */
  claimDriftObservation(name: NodePoolName, observationId: string): Promise<boolean>;
}

export type { NodePoolName };

/** The lease fields of node-pool records (adapters/dynamodb/claim-repository.ts), each write conditional. */
export interface LeaseRecords {
  /** Records whose next lease event is due at `now` (ISO), oldest first, at most `limit`. */
  dueLeases(now: string, limit: number): Promise<NodePoolRecord[]>;
  moveLeaseNext(name: NodePoolName, from: string, to: string): Promise<boolean>;
  claimLeaseDeletion(
    name: NodePoolName,
    claim: { endsAt: string; deleteId: string; attempt: number; nextAt: string; previousId?: string },
  ): Promise<boolean>;
  stopLease(name: NodePoolName, deleteId: string, why: string): Promise<boolean>;
  /** Takes a record with nothing left to do out of the index, if nobody moved its next event since `from`. */
  leaveLeaseIndex(name: NodePoolName, from: string, why: string): Promise<boolean>;
  claimExtension(name: NodePoolName, extensionId: string, previousId?: string): Promise<boolean>;
  applyExtension(
    name: NodePoolName,
    change: {
      extensionId: string;
      fromEndsAt: string;
      toEndsAt: string;
      seconds: number;
      nextAt: string;
      /** The cap: applied only if the lease was extended by at most this many seconds before. */
      maxExtendedBefore?: number;
    },
  ): Promise<boolean>;
  releaseExtension(name: NodePoolName, extensionId: string): Promise<boolean>;
}

// --- WorkflowRuns -----------------------------------------------------------------------------------

export type TaskAnswer = 'delivered' | 'gone';

/** What starting an execution did: `started` it, found it `running`, or found that it has `ended`. */
export type StartOutcome = 'started' | 'running' | 'ended';

export interface WorkflowRuns {
  /**
   * Starts the request's run (a retry's: `resume`; `kind`, what the request does, absent: create); a
   * second start of the same run is harmless.
   */
  start(requestId: string, resume?: Resumption, kind?: RequestKind): Promise<StartOutcome>;
  /** Stops the request's run at once (cancellation). */
  stop(requestId: string, cause: string): Promise<void>;
  /** Answers a waiting approval task; `gone` when it no longer waits. */
  answer(taskToken: string, outcome: ApprovalOutcome): Promise<TaskAnswer>;
  fail(taskToken: string, error: string, cause: string): Promise<TaskAnswer>;
}

// --- ModelArts --------------------------------------------------------------------------------------

/** What CheckRequest and the dry run read: the pool, a node pool of the same name, the flavors. */
export interface CapacityApi {
  showPool(projectId: string, poolName: string): Promise<Pool | undefined>;
  /** A node pool of the request's name that exists already (ModelArts would refuse the create). */
  showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined>;
  listResourceFlavors(projectId: string): Promise<ResourceFlavor[]>;
}

/** What CreateNodePool does: show first, create if absent. */
export interface NodePoolApi {
  showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePoolRequest | undefined>;
  createNodePool(projectId: string, poolName: string, body: NodePoolRequest): Promise<unknown>;
}

/** What CheckNodes reads: the node pool with its node counts. */
export interface NodeStatusApi {
  showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined>;
}

/** What quota reconciliation reads: the node pools of a pool. */
export interface NodePoolListApi {
  listNodePools(
    projectId: string,
    poolName: string,
  ): Promise<ReadonlyArray<Pick<NodePoolRequest, 'metadata' | 'spec'>>>;
}

/** What the reads of node pools answer: ModelArts' ShowNodePool and ListNodePools as they come. */
export interface NodePoolReadApi {
  showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined>;
  /** ListNodePools' items as ModelArts gives them. */
  listNodePools(projectId: string, poolName: string): Promise<NodePool[]>;
}

/**
 * What ApplyChange does to an existing node pool: show first, then delete (the accepted NodePool, or
 * undefined if gone) or patch (ModelArts' answer `{metadata, spec}`).
 */
export interface ChangeApi {
  showNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined>;
  deleteNodePool(projectId: string, poolName: string, nodePoolName: string): Promise<NodePool | undefined>;
  patchNodePool(projectId: string, poolName: string, nodePoolName: string, body: PatchBody): Promise<unknown>;
}

/** The whole ModelArts port (adapters/modelarts/projects.ts); each use case asks for its part only. */
export type ModelArts = CapacityApi & NodePoolApi & NodeStatusApi & NodePoolListApi & NodePoolReadApi & ChangeApi;
export type { NodeCounts, NodePool, Pool, ResourceFlavor };

// --- Notifier's channels ----------------------------------------------------------------------------

/** Sends one e-mail (adapters/mailer.ts); answers the message id, if any. */
export interface MailSender {
  send(message: MailMessage): Promise<string | undefined>;
}

/** Slack's Web API as poolgate uses it (adapters/slack.ts). */
export interface ChatPoster {
  post(channel: string, message: SlackMessage): Promise<SlackMessageRef>;
  update(ref: SlackMessageRef, message: SlackMessage): Promise<void>;
  ephemeral(channel: string, user: string, text: string): Promise<void>;
}

/** Who is told what (use-cases/notifier.ts): approvers asked and reminded, settled stages shown, requesters told. */
export type { Notifier } from './notifier';
