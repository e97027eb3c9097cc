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
 *   Kind?: create -> CreateNodePool | any other kind (delete) -> ApplyChange (show first, then change)
 *   CreateNodePool | ApplyChange -> Track? -> CheckNodes -> NodesReady? -> WaitForNodes -> CheckNodes ... -> Finalize
 * Every task dispatches on the request's kind (CheckRequest, CheckNodes and Finalize read it from the
 * request); an execution started before kinds has no `kind` and is a create.
 */
import type { WorkflowFunctionId } from '../contracts/functions';

export type WorkflowFunctionRefs = Record<WorkflowFunctionId, string>;

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

/** Errors a Lambda invocation may throw that are worth retrying (throttles, cold-start faults, ModelArts 429/5xx). */
const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientError',
];

/** Longest a task may run before Step Functions gives up on it. */
const TASK_TIMEOUT_SECONDS = 60;
/**
 * ModelArts calls retry longer: up to 10 retries, backoff with full jitter, each wait at most 30 s
 * (about 2 minutes in all on average, 3.5 at most). Attempts matter more than waits: a state makes up
 * to two calls per attempt, and with 6 retries about 1 request in 4,000 still ended FAILED (half of
 * them after approval) when ModelArts refused 15% of the calls (test/reliability/load-with-faults.test.ts).
 */
const MODELARTS_RETRY = {
  ErrorEquals: ['ModelArtsRetryableError', ...TRANSIENT_ERRORS],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 10,
  MaxDelaySeconds: 30,
  JitterStrategy: 'FULL',
};
const TRANSIENT_RETRY = {
  ErrorEquals: TRANSIENT_ERRORS,
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

const catchAllTo = (next: string) => [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }];

/**
 * `partition`: of the service integrations' ARNs (`aws`, `aws-cn` in the AWS China regions,
 * `aws-us-gov`); the stack passes a placeholder resolved to the deployment's partition.
 */
export function buildWorkflowDefinition(fns: WorkflowFunctionRefs, partition = 'aws') {
  const s = WORKFLOW_STATES;
  const task = (functionArn: string, payload: Record<string, unknown>) => invoke(partition, functionArn, payload);
  return {
    Comment: 'poolgate: checks, staged approvals, then the ModelArts change of the request kind (create, delete)',
    StartAt: s.checkRequest,
    States: {
      [s.checkRequest]: {
        ...task(fns.checkRequest, { 'requestId.$': '$.requestId' }),
        ResultSelector: {
          'status.$': '$.Payload.status',
          'stageIndex.$': '$.Payload.stageIndex',
          'waitSeconds.$': '$.Payload.waitSeconds',
        },
        ResultPath: '$.approval',
        // It reads ModelArts (pool, flavors) besides DynamoDB.
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.checked,
      },
      [s.checked]: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.approval.status', StringEquals: 'pending', Next: s.requestApproval },
          // A retried request resumes where it failed (POST /requests/{id}/retry): no approval again.
          { Variable: '$.approval.status', StringEquals: 'approved', Next: s.kind },
          { Variable: '$.approval.status', StringEquals: 'created', Next: s.checkNodes },
        ],
        Default: s.finalize,
      },
      [s.requestApproval]: {
        Type: 'Task',
        Resource: `arn:${partition}:states:::lambda:invoke.waitForTaskToken`,
        Parameters: {
          FunctionName: fns.requestApproval,
          Payload: {
            'requestId.$': '$.requestId',
            'stageIndex.$': '$.approval.stageIndex',
            'taskToken.$': '$$.Task.Token',
          },
        },
        // Until the next reminder or the expiry, whichever comes first.
        TimeoutSecondsPath: '$.approval.waitSeconds',
        ResultPath: '$.approval',
        Retry: [TRANSIENT_RETRY],
        Catch: [
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: s.approvalTimedOut },
          ...catchAllTo(s.finalize),
        ],
        Next: s.decision,
      },
      [s.approvalTimedOut]: {
        ...task(fns.approvalTimedOut, { 'requestId.$': '$.requestId', 'stageIndex.$': '$.approval.stageIndex' }),
        ResultSelector: {
          'status.$': '$.Payload.status',
          'stageIndex.$': '$.Payload.stageIndex',
          'waitSeconds.$': '$.Payload.waitSeconds',
        },
        ResultPath: '$.approval',
        Retry: [TRANSIENT_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.decision,
      },
      [s.decision]: {
        Type: 'Choice',
        Choices: [
          { Variable: '$.approval.status', StringEquals: 'approved', Next: s.kind },
          { Variable: '$.approval.status', StringEquals: 'pending', Next: s.requestApproval },
        ],
        Default: s.finalize,
      },
      [s.kind]: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.kind', IsPresent: true },
              { Variable: '$.kind', StringEquals: 'delete' },
            ],
            Next: s.applyChange,
          },
        ],
        Default: s.createNodePool,
      },
      [s.applyChange]: {
        // A change to an existing node pool: show first (still the one poolgate created?), then change it.
        ...task(fns.applyChange, { 'requestId.$': '$.requestId' }),
        ResultSelector: {
          'nodePoolName.$': '$.Payload.nodePoolName',
          'track.$': '$.Payload.track',
          'waitSeconds.$': '$.Payload.waitSeconds',
        },
        ResultPath: '$.created',
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.track,
      },
      [s.createNodePool]: {
        ...task(fns.createNodePool, { 'requestId.$': '$.requestId' }),
        ResultSelector: {
          'nodePoolName.$': '$.Payload.nodePoolName',
          'track.$': '$.Payload.track',
          'waitSeconds.$': '$.Payload.waitSeconds',
        },
        ResultPath: '$.created',
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.track,
      },
      [s.track]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.created.track', BooleanEquals: true, Next: s.checkNodes }],
        Default: s.finalize,
      },
      [s.checkNodes]: {
        ...task(fns.checkNodes, { 'requestId.$': '$.requestId' }),
        ResultSelector: { 'status.$': '$.Payload.status', 'waitSeconds.$': '$.Payload.waitSeconds' },
        ResultPath: '$.nodes',
        Retry: [MODELARTS_RETRY],
        Catch: catchAllTo(s.finalize),
        Next: s.nodesReady,
      },
      [s.nodesReady]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.nodes.status', StringEquals: 'waiting', Next: s.waitForNodes }],
        Default: s.finalize,
      },
      [s.waitForNodes]: { Type: 'Wait', SecondsPath: '$.created.waitSeconds', Next: s.checkNodes },
      [s.finalize]: {
        ...task(fns.finalize, {
          'requestId.$': '$.requestId',
          'attempt.$': '$.attempt',
          'approval.$': '$.approval',
          'error.$': '$.error',
          'created.$': '$.created',
        }),
        ResultPath: null,
        Retry: [{ ...TRANSIENT_RETRY, ErrorEquals: ['States.TaskFailed'] }],
        End: true,
      },
    },
  };
}

export type WorkflowDefinition = ReturnType<typeof buildWorkflowDefinition>;
