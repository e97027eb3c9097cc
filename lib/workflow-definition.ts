/**
 * The approval workflow, as Amazon States Language (JSONPath: the local engine does not run JSONata).
 *
 * Pure: no CDK import. The stack passes `${Token}` placeholders for the function ARNs (resolved through
 * `definitionSubstitutions`); the local stack passes its own function names and runs the very same
 * object on aws-local-stepfunctions.
 *
 * State carried through the execution (all small): `requestId` and `kind` (the input), `approval` (what the
 * last step says comes next: status pending/approved/rejected/refused/expired, the stage and how long
 * to wait on it), `error` (set by a Catch that ends the request) and `created`.
 *
 *   CheckRequest -> Checked? -> RequestApproval (callback, waits until reminder or expiry) -> Decision?
 *        Checked?: a retried request goes straight to Kind? (approved) or CheckNodes (created); a change
 *                  no stage applies to (a delete by default) is approved at once
 *        Decision?: pending -> RequestApproval (next stage) | approved -> Kind? | else -> Finalize
 *        RequestApproval timeout -> ApprovalTimedOut (remind, or expire) -> Decision?
 *   Kind?: create -> CreateNodePool | a change (scale, delete, extend) -> ApplyChange (show first, then patch or
 *          delete; an extension moves its lease's end in one conditional write and is not tracked)
 *   CreateNodePool | ApplyChange -> Track? -> WaitForNodes -> CheckNodes -> NodesReady? -> WaitForNodes ... -> Finalize
 *        (no check the moment ModelArts accepted the change: nodes are never ready then; every wait is what the
 *        last task said, `$.created.waitSeconds`, from the tracking schedule: domain/tracking-schedule.ts;
 *        CheckNodes writes its answer over `$.created`, so the paths are those a run saved before still has)
 * Every task dispatches on the request's kind (CheckRequest, CheckNodes and Finalize read it from the
 * request); an execution started before kinds has no `kind` and is a create.
 */
import type { RequestKind } from '../contracts/api-values';
import type { WorkflowFunctionId } from '../contracts/functions';
import {
  answerFields,
  errorsRetriedBy,
  LAMBDA_TRANSIENT_ERRORS,
  payloadFrom,
  statePath,
  statePathOf,
  WORKFLOW_STATES,
  type ApprovalOutcome,
  type ApprovalTimedOutPayload,
  type CreatedState,
  type ErrorEqualsName,
  type FinalizePayload,
  type NodesState,
  type RequestApprovalPayload,
  type RequestTaskPayload,
} from '../contracts/workflow';

export { WORKFLOW_STATES };
export type WorkflowFunctionRefs = Record<WorkflowFunctionId, string>;

/** One `Retry` entry; its `ErrorEquals` take only names the workflow contract knows. */
interface Retrier {
  readonly ErrorEquals: readonly ErrorEqualsName[];
  readonly IntervalSeconds: number;
  readonly BackoffRate: number;
  readonly MaxAttempts: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy: 'FULL';
}

/** One `Catch` entry, likewise. */
interface Catcher {
  readonly ErrorEquals: readonly ErrorEqualsName[];
  readonly ResultPath: string;
  readonly Next: string;
}

/** CreateNodePool's and ApplyChange's answer at `$.created`: the node pool, whether to track it, the first wait. */
const createdFields = answerFields<CreatedState>(['nodePoolName', 'track', 'waitSeconds']);

const WAITING = 'waiting' satisfies NodesState['status'];

/** Longest a task may run before Step Functions gives up on it. */
const TASK_TIMEOUT_SECONDS = 60;
/**
 * ModelArts calls retry longer: up to 10 retries, backoff with full jitter, each wait at most 30 s
 * (about 2 minutes in all on average, 3.5 at most). Attempts matter more than waits: a state makes up
 * to two calls per attempt, and with 6 retries about 1 request in 4,000 still ended FAILED (half of
 * them after approval) when ModelArts refused 15% of the calls (test/reliability/load-with-faults.test.ts).
 */
const MODELARTS_RETRY: Retrier = {
  ErrorEquals: [...errorsRetriedBy('modelArts'), ...LAMBDA_TRANSIENT_ERRORS],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 10,
  MaxDelaySeconds: 30,
  JitterStrategy: 'FULL',
};
/** Throttles and cold-start faults of the Lambda service (ModelArts' own errors are not retried here). */
const TRANSIENT_RETRY: Retrier = {
  ErrorEquals: LAMBDA_TRANSIENT_ERRORS,
  IntervalSeconds: 1,
  BackoffRate: 2,
  MaxAttempts: 4,
  JitterStrategy: 'FULL',
};

function invoke(partition: string, functionArn: string, payload: Record<string, unknown>) {
  return {
    Type: 'Task',
    Resource: `arn:${partition}:states:::lambda:invoke`,
    Parameters: { FunctionName: functionArn, Payload: payload },
    ResultSelector: { 'value.$': '$.Payload' },
    TimeoutSeconds: TASK_TIMEOUT_SECONDS,
  };
}

const catchAllTo = (next: string): Catcher[] => [
  { ErrorEquals: ['States.ALL'], ResultPath: statePath('error'), Next: next },
];

/**
 * `partition`: of the service integrations' ARNs (`aws`, `aws-cn` in the AWS China regions,
 * `aws-us-gov`); the stack passes a placeholder resolved to the deployment's partition.
 */
export function buildWorkflowDefinition(fns: WorkflowFunctionRefs, partition = 'aws') {
  const s = WORKFLOW_STATES;
  const approvalStatus = statePathOf('approval', 'status');
  const status = (value: ApprovalOutcome['status']) => value;
  const task = (functionArn: string, payload: Record<string, unknown>) => invoke(partition, functionArn, payload);
  return {
    Comment: 'poolgate: checks, staged approvals, then the change of the request kind (create, scale, delete, extend)',
    StartAt: s.checkRequest,
    States: {
      [s.checkRequest]: {
        ...task(fns.checkRequest, payloadFrom<RequestTaskPayload>(['requestId'])),
        ResultSelector: answerFields<ApprovalOutcome>(['status', 'stageIndex', 'waitSeconds']),
        ResultPath: statePath('approval'),
        // It reads ModelArts (pool, flavors) besides DynamoDB.
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.checked,
      },
      [s.checked]: {
        Type: 'Choice',
        Choices: [
          { Variable: approvalStatus, StringEquals: status('pending'), Next: s.requestApproval },
          // A retried request resumes where it failed (POST /requests/{id}/retry): no approval again.
          { Variable: approvalStatus, StringEquals: status('approved'), Next: s.kind },
          { Variable: approvalStatus, StringEquals: status('created'), Next: s.checkNodes },
        ],
        Default: s.finalize,
      },
      [s.requestApproval]: {
        Type: 'Task',
        Resource: `arn:${partition}:states:::lambda:invoke.waitForTaskToken`,
        Parameters: {
          FunctionName: fns.requestApproval,
          Payload: {
            ...payloadFrom<RequestApprovalPayload>(['requestId']),
            'stageIndex.$': statePathOf('approval', 'stageIndex'),
            'taskToken.$': '$$.Task.Token',
          } satisfies Record<`${keyof RequestApprovalPayload}.$`, string>,
        },
        // Until the next reminder or the expiry, whichever comes first.
        TimeoutSecondsPath: statePathOf('approval', 'waitSeconds'),
        ResultPath: statePath('approval'),
        Retry: [TRANSIENT_RETRY],
        Catch: [
          { ErrorEquals: ['States.Timeout'], ResultPath: statePath('timeout'), Next: s.approvalTimedOut },
          ...catchAllTo(s.finalize),
        ] satisfies Catcher[],
        Next: s.decision,
      },
      [s.approvalTimedOut]: {
        ...task(fns.approvalTimedOut, {
          ...payloadFrom<ApprovalTimedOutPayload>(['requestId']),
          'stageIndex.$': statePathOf('approval', 'stageIndex'),
        } satisfies Record<`${keyof ApprovalTimedOutPayload}.$`, string>),
        ResultSelector: answerFields<ApprovalOutcome>(['status', 'stageIndex', 'waitSeconds']),
        ResultPath: statePath('approval'),
        Retry: [TRANSIENT_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.decision,
      },
      [s.decision]: {
        Type: 'Choice',
        Choices: [
          { Variable: approvalStatus, StringEquals: status('approved'), Next: s.kind },
          { Variable: approvalStatus, StringEquals: status('pending'), Next: s.requestApproval },
        ],
        Default: s.finalize,
      },
      [s.kind]: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: statePath('kind'), IsPresent: true },
              {
                Or: [
                  { Variable: statePath('kind'), StringEquals: 'delete' satisfies RequestKind },
                  { Variable: statePath('kind'), StringEquals: 'scale' satisfies RequestKind },
                ],
              },
            ],
            Next: s.applyChange,
          },
          {
            And: [
              { Variable: statePath('kind'), IsPresent: true },
              { Variable: statePath('kind'), StringEquals: 'extend' satisfies RequestKind },
            ],
            Next: s.applyChange,
          },
        ],
        Default: s.createNodePool,
      },
      [s.applyChange]: {
        // A change to an existing node pool: show first (still the one poolgate created?), then change it.
        ...task(fns.applyChange, payloadFrom<RequestTaskPayload>(['requestId'])),
        ResultSelector: createdFields,
        ResultPath: statePath('created'),
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.track,
      },
      [s.createNodePool]: {
        ...task(fns.createNodePool, payloadFrom<RequestTaskPayload>(['requestId'])),
        ResultSelector: createdFields,
        ResultPath: statePath('created'),
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.track,
      },
      [s.track]: {
        Type: 'Choice',
        Choices: [{ Variable: statePathOf('created', 'track'), BooleanEquals: true, Next: s.waitForNodes }],
        Default: s.finalize,
      },
      [s.checkNodes]: {
        ...task(fns.checkNodes, payloadFrom<RequestTaskPayload>(['requestId'])),
        ResultSelector: answerFields<NodesState>(['nodePoolName', 'track', 'status', 'waitSeconds']),
        ResultPath: statePath('created'),
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.nodesReady,
      },
      [s.nodesReady]: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: statePathOf('created', 'status'), IsPresent: true },
              { Variable: statePathOf('created', 'status'), StringEquals: WAITING },
            ],
            Next: s.waitForNodes,
          },
          {
            // A run saved by an older poolgate, resumed here by the local stack: its check's answer is at `$.nodes`.
            And: [
              { Not: { Variable: statePathOf('created', 'status'), IsPresent: true } },
              { Variable: statePathOf('nodes', 'status'), IsPresent: true },
              { Variable: statePathOf('nodes', 'status'), StringEquals: WAITING },
            ],
            Next: s.waitForNodes,
          },
        ],
        Default: s.finalize,
      },
      [s.waitForNodes]: { Type: 'Wait', SecondsPath: statePathOf('created', 'waitSeconds'), Next: s.checkNodes },
      [s.finalize]: {
        ...task(fns.finalize, payloadFrom<FinalizePayload>(['requestId', 'attempt', 'approval', 'error', 'created'])),
        ResultPath: null,
        Retry: [{ ...TRANSIENT_RETRY, ErrorEquals: ['States.TaskFailed'] } satisfies Retrier],
        End: true,
      },
    },
  };
}

export type WorkflowDefinition = ReturnType<typeof buildWorkflowDefinition>;
