/**
 * The workflow's contract, shared by the state graph (lib/workflow-definition.ts) and the tasks that
 * run in it (lambdas/): the state names, what flows through an execution, what each task is given and
 * answers, and the one table of errors a task throws for the workflow to act on (Retry or Catch, and
 * the `reason` a failure records). Plain types and data: no CDK, no SDK.
 *
 * The definition reads its JSONPath field names and its `ErrorEquals` from here, and Finalize its
 * failure reasons, so renaming a field or an error here fails to compile wherever it is still used
 * under its old name (test/unit/workflow-contract.test.ts).
 */
import type { RequestKind } from './api-values';

/**
 * The state names. Kept as they are: executions saved by the local stack resume by state name, and
 * AWS execution histories name them.
 */
export const WORKFLOW_STATES = {
  checkRequest: 'CheckRequest',
  checked: 'Checked?',
  requestApproval: 'RequestApproval',
  approvalTimedOut: 'ApprovalTimedOut',
  decision: 'Decision?',
  kind: 'Kind?',
  createNodePool: 'CreateNodePool',
  applyChange: 'ApplyChange',
  track: 'Track?',
  checkNodes: 'CheckNodes',
  nodesReady: 'NodesReady?',
  waitForNodes: 'WaitForNodes',
  finalize: 'Finalize',
} as const;
export type WorkflowStateName = (typeof WORKFLOW_STATES)[keyof typeof WORKFLOW_STATES];

/** Where a retried request's run picks the work up again (POST /requests/{id}/retry): three task states. */
export const RESUME_POINTS = [
  WORKFLOW_STATES.createNodePool,
  WORKFLOW_STATES.checkNodes,
  WORKFLOW_STATES.applyChange,
] as const;
export type ResumePoint = (typeof RESUME_POINTS)[number];

// ---------------------------------------------------------------------------------------------------
// What flows through an execution
// ---------------------------------------------------------------------------------------------------

/**
 * What CreateNodePool and ApplyChange hand on (the `$.created` of the definition), and what CheckNodes
 * writes over it at each check (NodesState carries the same fields): WaitForNodes always reads
 * `$.created.waitSeconds`, the tracking schedule's next wait.
 */
export interface CreatedState {
  readonly nodePoolName: string;
  readonly track: boolean;
  /** Seconds until the next node check (lambdas/domain/tracking-schedule.ts). */
  readonly waitSeconds: number;
  /** What the last node check found; absent before the first one. */
  readonly status?: NodesState['status'];
}

/** What a decided approval hands back to the workflow (the `$.approval` of the definition). */
export interface ApprovalOutcome {
  /** `created`: a retried request resumes at its node tracking (CheckRequest says so, nothing else does). */
  readonly status: 'approved' | 'rejected' | 'pending' | 'refused' | 'expired' | 'created';
  readonly stageIndex: number;
  readonly waitSeconds: number;
  readonly reason?: string;
}

/** What CheckNodes answers (written over `$.created`, so it names the node pool and tracking again). */
export interface NodesState {
  readonly nodePoolName: string;
  readonly track: true;
  /** `gone`: a delete's node pool is no longer shown by ModelArts. */
  readonly status: 'waiting' | 'active' | 'gone';
  readonly waitSeconds: number;
  readonly available: number;
}

/**
 * CheckNodes' answer where a run saved by an older poolgate keeps it (`$.nodes`): the local stack resumes
 * such a run by state name, so NodesReady? still reads it when `$.created.status` is absent.
 */
export type SavedNodesState = Pick<NodesState, 'status' | 'waitSeconds'>;

/** What a Catch puts in `$.error`: the thrown error's name and, from Lambda, a JSON `Cause`. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** The input every execution starts with: all the paths the definition reads exist from the start. */
export interface ExecutionInput {
  readonly requestId: string;
  /** What the request does (contracts/api-values.ts): the definition's `Kind?` dispatches on it. */
  readonly kind: RequestKind;
  readonly approval: null;
  readonly error: null;
  /** 0 for the request's first run, n for its n-th retry: Finalize acts only for the request's latest run. */
  readonly attempt: number;
  /** Set when a retry resumes a request whose node pool exists (its nodes are followed again). */
  readonly created: CreatedState | null;
}

/** The execution's state as it goes: the input, then what each task adds at its `ResultPath`. */
export interface ExecutionState {
  readonly requestId: string;
  /** Absent in an execution started before kinds existed: a create. */
  readonly kind?: RequestKind;
  readonly attempt: number;
  readonly approval: ApprovalOutcome | null;
  readonly error: CaughtError | null;
  readonly created: CreatedState | null;
  /** Only in a run saved by an older poolgate (see SavedNodesState). */
  readonly nodes?: SavedNodesState;
  /** Set by RequestApproval's States.Timeout Catch (its content is not read). */
  readonly timeout?: CaughtError;
}

/** A retried request's run: the attempt names the execution, `created` says whether the node pool exists. */
export interface Resumption {
  readonly attempt: number;
  readonly created: CreatedState | null;
}

// ---------------------------------------------------------------------------------------------------
// What each task is given (its Lambda payload) and answers
// ---------------------------------------------------------------------------------------------------

/** CheckRequest, CreateNodePool, ApplyChange and CheckNodes are given the request id only. */
export interface RequestTaskPayload {
  readonly requestId: string;
}

/** RequestApproval (waitForTaskToken): the stage to ask, and the token to answer it with. */
export interface RequestApprovalPayload {
  readonly requestId: string;
  readonly stageIndex: number;
  readonly taskToken: string;
}

/** ApprovalTimedOut: the stage whose wait ran out. */
export interface ApprovalTimedOutPayload {
  readonly requestId: string;
  readonly stageIndex: number;
}

/** Finalize, on every path: everything the run learnt. */
export interface FinalizePayload {
  readonly requestId: string;
  /** The run: 0 for the first, n for the n-th retry (absent: 0, the first). */
  readonly attempt?: number;
  readonly approval: ApprovalOutcome | null;
  readonly error: CaughtError | null;
  readonly created: unknown;
}

// ---------------------------------------------------------------------------------------------------
// JSONPath, typed against the state above
// ---------------------------------------------------------------------------------------------------

/** `$.<field>` of the execution state. */
export const statePath = <K extends keyof ExecutionState>(field: K): `$.${K}` => `$.${field}`;

/** `$.<field>.<sub>` of the execution state (e.g. `$.approval.stageIndex`). */
export const statePathOf = <
  K extends 'approval' | 'created' | 'nodes',
  F extends keyof NonNullable<ExecutionState[K]> & string,
>(
  field: K,
  sub: F,
): `$.${K}.${F}` => `$.${field}.${sub}`;

/**
 * A task's `Parameters.Payload`: each field of its payload type read from the state field of the same
 * name (`{ 'requestId.$': '$.requestId' }`).
 */
export function payloadFrom<P, F extends keyof P & keyof ExecutionState = keyof P & keyof ExecutionState>(
  fields: readonly F[],
): { [K in F as `${K}.$`]: `$.${K}` } {
  return Object.fromEntries(fields.map((field) => [`${field}.$`, statePath(field)])) as {
    [K in F as `${K}.$`]: `$.${K}`;
  };
}

/** A task's `ResultSelector`: the named fields of the Lambda's answer (`{ 'status.$': '$.Payload.status' }`). */
export function answerFields<A>(fields: ReadonlyArray<keyof A & string>): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [`${field}.$`, `$.Payload.${field}`]));
}

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

/** Which Retry of the definition applies to an error: ModelArts' long backoff, or none (straight to Catch). */
export type WorkflowRetry = 'modelArts' | 'none';

export interface WorkflowErrorSpec {
  readonly retry: WorkflowRetry;
  /** The `reason` a request that fails on it records (Finalize). */
  readonly reason: string;
}

/**
 * Every error a task throws on purpose, by the name Step Functions matches (`error.name`; each class
 * declares `override readonly name = '...' satisfies WorkflowErrorName`). Anything else a task throws
 * is caught too, and the request ends FAILED with reason INTERNAL_ERROR.
 */
export const WORKFLOW_ERRORS = {
  /** A ModelArts call that may succeed when tried again: 429/APIG.0308, 5xx, network error, timeout. */
  ModelArtsRetryableError: { retry: 'modelArts', reason: 'MODELARTS_ERROR' },
  /** Any other ModelArts 4xx: the same call will fail again. */
  ModelArtsError: { retry: 'none', reason: 'MODELARTS_ERROR' },
  /** A node pool of that name exists with another spec, or not made by this request. */
  NodePoolConflictError: { retry: 'none', reason: 'NODE_POOL_CONFLICT' },
  /** A node became abnormal, or the node pool disappeared, while its nodes were followed. */
  NodesAbnormalError: { retry: 'none', reason: 'NODES_ABNORMAL' },
  /** The nodes were not all available within the policy's deadline. */
  NodesTimeoutError: { retry: 'none', reason: 'NODES_TIMEOUT' },
  /** A retried run found no room for its nodes in the team's quota. */
  QuotaExceededError: { retry: 'none', reason: 'QUOTA_EXCEEDED' },
  /** A retried run's team may no longer use its flavor. */
  FlavorNotAllowedError: { retry: 'none', reason: 'FLAVOR_NOT_ALLOWED' },
  /** A change (delete) found a node pool of that name poolgate did not create (label or flavor differ). */
  NodePoolNotOursError: { retry: 'none', reason: 'NODE_POOL_NOT_OURS' },
  /** An approved scale found the node pool's count changed since its submission (outside its plan): nothing sent. */
  NodePoolChangedError: { retry: 'none', reason: 'NODE_POOL_CHANGED' },
  /** An approved extension found the lease's deletion claimed first (or the node pool gone): nothing moved. */
  LeaseEndedError: { retry: 'none', reason: 'LEASE_ENDED' },
  /** An approved extension would take the lease past its cap (`lease.maxTotal`): nothing moved. */
  LeaseMaxTotalError: { retry: 'none', reason: 'LEASE_MAX_TOTAL' },
} as const satisfies Record<string, WorkflowErrorSpec>;

export type WorkflowErrorName = keyof typeof WORKFLOW_ERRORS;
export type WorkflowErrorReason = (typeof WORKFLOW_ERRORS)[WorkflowErrorName]['reason'];

/** The names of the workflow errors one Retry applies to. */
export function errorsRetriedBy(retry: WorkflowRetry): WorkflowErrorName[] {
  return (Object.keys(WORKFLOW_ERRORS) as WorkflowErrorName[]).filter((name) => WORKFLOW_ERRORS[name].retry === retry);
}

/** Errors of the Lambda service itself around an invocation (throttles, cold-start faults): worth retrying. */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/** Step Functions' own error names the definition matches. */
export const STATES_ERRORS = ['States.ALL', 'States.Timeout', 'States.TaskFailed'] as const;

/** Every name an `ErrorEquals` of the definition may hold: a misspelt or renamed one does not compile. */
export type ErrorEqualsName =
  WorkflowErrorName | (typeof LAMBDA_TRANSIENT_ERRORS)[number] | (typeof STATES_ERRORS)[number];

/** The same names as a list, for tests that read a built definition. */
export const ERROR_EQUALS_NAMES: readonly ErrorEqualsName[] = [
  ...(Object.keys(WORKFLOW_ERRORS) as WorkflowErrorName[]),
  ...LAMBDA_TRANSIENT_ERRORS,
  ...STATES_ERRORS,
];
