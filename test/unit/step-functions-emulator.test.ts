/**
 * The local Step Functions service, driven through the real @aws-sdk/client-sfn and running the REAL
 * workflow definition of lib/workflow-definition.ts. The `invokeFunction` fakes below are not mocks of
 * the emulator: they play the Lambda functions the definition calls.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionId } from '../../contracts/functions';
import type { NodesState } from '../../contracts/workflow';
import { buildWorkflowDefinition, WORKFLOW_STATES, type WorkflowFunctionRefs } from '../../lib/workflow-definition';
import { startStepFunctionsEmulator, type AslDefinition, type StepFunctionsEmulator } from '../../local/step-functions';
import { eventually } from '../../local/harness/poll';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:poolgate-test';
const FUNCTION_REFS = Object.fromEntries(
  WORKFLOW_FUNCTIONS.map((id) => [id, `poolgate-${id}`]),
) as WorkflowFunctionRefs;
const DEFINITION = buildWorkflowDefinition(FUNCTION_REFS);
const S = WORKFLOW_STATES;

interface Call {
  readonly functionRef: string;
  readonly payload: Record<string, unknown>;
  readonly signal: AbortSignal;
}

type Behaviour = (payload: Record<string, unknown>, attempt: number) => unknown;

/** Plays the Lambda functions: records every call, answers with the given behaviour or a default. */
class FakeLambdas {
  readonly calls: Call[] = [];

  constructor(private readonly behaviour: Partial<Record<string, Behaviour>> = {}) {}

  readonly invoke = async (functionRef: string, payload: unknown, signal: AbortSignal): Promise<unknown> => {
    const call: Call = { functionRef, payload: payload as Record<string, unknown>, signal };
    this.calls.push(call);
    const id = functionRef.replace(/^poolgate-/, '');
    const attempt = this.calls.filter((c) => c.functionRef === functionRef).length;
    const behaviour = this.behaviour[id] ?? this.behaviour[functionRef] ?? DEFAULTS[id];
    return behaviour ? behaviour(call.payload, attempt) : null;
  };

  of(id: WorkflowFunctionId): Call[] {
    return this.calls.filter((c) => c.functionRef === FUNCTION_REFS[id]);
  }

  /** The task tokens requestApproval was given, oldest first. */
  tokens(): string[] {
    return this.of('requestApproval').map((c) => c.payload.taskToken as string);
  }
}

const DEFAULTS: Partial<Record<string, Behaviour>> = {
  checkRequest: () => ({ status: 'pending', stageIndex: 0, waitSeconds: 300 }),
  approvalTimedOut: (payload) => ({ status: 'expired', stageIndex: payload.stageIndex, waitSeconds: 1 }),
  createNodePool: () => ({ nodePoolName: 'np-1', alreadyExisted: false, track: false, waitSeconds: 1 }),
};

/** CheckNodes' answer (contracts/workflow.ts NodesState). */
function checked(nodePoolName: string, status: NodesState['status'], waitSeconds: number): NodesState {
  return { nodePoolName, track: true, status, waitSeconds, available: 0 };
}

class Named extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const emulators: StepFunctionsEmulator[] = [];
const dirs: string[] = [];

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'poolgate-sfn-'));
  dirs.push(dir);
  return dir;
}

async function emulator(
  lambdas: FakeLambdas,
  dataDir = newDataDir(),
  definition: AslDefinition = DEFINITION,
): Promise<StepFunctionsEmulator> {
  const started = await startStepFunctionsEmulator({
    port: 0,
    dataDir,
    stateMachineArn: STATE_MACHINE_ARN,
    definition,
    invokeFunction: lambdas.invoke,
  });
  emulators.push(started);
  return started;
}

function client(emu: StepFunctionsEmulator): SFNClient {
  return new SFNClient({
    endpoint: emu.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The input the app starts every execution with (lambdas/adapters/workflow.ts): every path the definition reads exists. */
function appInput(requestId: string): string {
  return JSON.stringify({ requestId, approval: null, error: null, attempt: 0, created: null });
}

async function start(sfn: SFNClient, name: string, input = appInput(name)): Promise<string> {
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name, input }));
  return started.executionArn!;
}

async function until(
  sfn: SFNClient,
  executionArn: string,
  status: ExecutionStatus,
): Promise<DescribeExecutionCommandOutput> {
  return eventually(async () => {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status === status) return described;
    if (described.status !== 'RUNNING')
      throw new Error(`execution ended ${described.status}: ${described.error} ${described.cause}`);
    return undefined;
  }, `execution ${status}`);
}

function statesEntered(emu: StepFunctionsEmulator, name: string): string[] {
  return (emu.history(name)?.events ?? []).filter((e) => e.type.endsWith('StateEntered')).map((e) => e.stateName ?? '');
}

/** A request as the AWS JSON 1.0 protocol carries it, without the SDK. */
async function rawCall(
  emu: StepFunctionsEmulator,
  operation: string,
  body: object,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(emu.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${operation}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function errorOf(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('local Step Functions emulator', () => {
  it('runs the happy path through an approval answered with SendTaskSuccess', async () => {
    const lambdas = new FakeLambdas();
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-happy');
    expect(arn).toBe('arn:aws:states:us-east-1:000000000000:execution:poolgate-test:req-happy');

    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(lambdas.of('requestApproval')[0].payload).toEqual({
      requestId: 'req-happy',
      stageIndex: 0,
      taskToken: token,
    });
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');

    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'approved' }) }));
    const described = await until(sfn, arn, 'SUCCEEDED');

    expect(described.input).toBe(appInput('req-happy'));
    expect(described.startDate).toBeInstanceOf(Date);
    expect(lambdas.of('finalize').map((c) => c.payload)).toEqual([
      {
        requestId: 'req-happy',
        attempt: 0,
        approval: { status: 'approved' },
        error: null,
        created: { nodePoolName: 'np-1', track: false, waitSeconds: 1 },
      },
    ]);
    expect(statesEntered(emu, 'req-happy')).toEqual([
      S.checkRequest,
      S.checked,
      S.requestApproval,
      S.decision,
      S.kind,
      S.createNodePool,
      S.track,
      S.finalize,
    ]);
    expect(emu.history('req-happy')?.stateTransitions).toBe(8);

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const types = history.events!.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(types.filter((t) => t?.endsWith('StateEntered'))).toHaveLength(8);
    expect(history.events!.find((e) => e.type === 'TaskStateEntered')?.stateEnteredEventDetails?.name).toBe(
      S.checkRequest,
    );
    expect(history.events!.every((e) => e.timestamp instanceof Date)).toBe(true);
    // The transition count rides along as a local extension member of GetExecutionHistory.
    expect((await rawCall(emu, 'GetExecutionHistory', { executionArn: arn })).json.stateTransitions).toBe(8);

    // A used token is gone.
    const reused = await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })));
    expect(reused.name).toBe('TaskDoesNotExist');
  });

  it('follows the nodes after creation: waits first (no check the moment ModelArts accepted), then between checks until they are active', async () => {
    const lambdas = new FakeLambdas({
      createNodePool: () => ({ nodePoolName: 'np-1', alreadyExisted: false, track: true, waitSeconds: 1 }),
      checkNodes: (_payload, attempt) => (attempt < 2 ? checked('np-1', 'waiting', 1) : checked('np-1', 'active', 0)),
    });
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-track');
    const token = await eventually(() => lambdas.tokens()[0], 'the approval token');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'approved' }) }));
    await until(sfn, arn, 'SUCCEEDED');
    expect(statesEntered(emu, 'req-track').slice(6)).toEqual([
      S.track,
      S.waitForNodes,
      S.checkNodes,
      S.nodesReady,
      S.waitForNodes,
      S.checkNodes,
      S.nodesReady,
      S.finalize,
    ]);
    expect(lambdas.of('checkNodes')).toHaveLength(2);
    // What the last check said is written over `$.created` (where WaitForNodes reads its wait), and handed to Finalize.
    expect(lambdas.of('finalize')[0].payload).toMatchObject({
      created: { nodePoolName: 'np-1', track: true, status: 'active', waitSeconds: 0 },
    });
  });

  it('takes the rejection path when the approval says rejected', async () => {
    const lambdas = new FakeLambdas();
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-rejected');
    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );

    await sfn.send(
      new SendTaskSuccessCommand({
        taskToken: token,
        output: JSON.stringify({ status: 'rejected', stageIndex: 0, waitSeconds: 1 }),
      }),
    );
    await until(sfn, arn, 'SUCCEEDED');

    expect(statesEntered(emu, 'req-rejected')).toEqual([
      S.checkRequest,
      S.checked,
      S.requestApproval,
      S.decision,
      S.finalize,
    ]);
    expect(lambdas.of('createNodePool')).toHaveLength(0);
    expect(lambdas.of('finalize')[0].payload).toMatchObject({
      approval: { status: 'rejected' },
      created: null,
      error: null,
    });
  });

  it('dispatches a delete to ApplyChange and follows it until gone, in the same definition (an input without kind is a create)', async () => {
    const lambdas = new FakeLambdas({
      checkRequest: () => ({ status: 'approved', stageIndex: -1, waitSeconds: 0 }),
      applyChange: () => ({ nodePoolName: 'np-1', alreadyExisted: true, track: true, waitSeconds: 1 }),
      checkNodes: (_payload, attempt) => checked('np-del', attempt < 2 ? 'waiting' : 'gone', 1),
    });
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const input = JSON.stringify({
      requestId: 'req-del',
      kind: 'delete',
      approval: null,
      error: null,
      attempt: 0,
      created: null,
    });
    await until(sfn, await start(sfn, 'req-del', input), 'SUCCEEDED');
    expect(statesEntered(emu, 'req-del')).toEqual([
      S.checkRequest,
      S.checked,
      S.kind,
      S.applyChange,
      S.track,
      S.waitForNodes,
      S.checkNodes,
      S.nodesReady,
      S.waitForNodes,
      S.checkNodes,
      S.nodesReady,
      S.finalize,
    ]);
    expect(lambdas.of('createNodePool')).toHaveLength(0);
    expect(lambdas.of('finalize')[0].payload).toMatchObject({ created: { track: true }, error: null });
  });

  it('branches in a Choice on the JSONPath condition (JSONata would silently take the Default)', async () => {
    const lambdas = new FakeLambdas({ checkRequest: () => ({ status: 'refused', stageIndex: 0, waitSeconds: 1 }) });
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-refused');
    await until(sfn, arn, 'SUCCEEDED');

    // 'refused' goes straight to Finalize; 'pending' (the happy path above) enters RequestApproval.
    expect(statesEntered(emu, 'req-refused')).toEqual([S.checkRequest, S.checked, S.finalize]);
    expect(lambdas.of('requestApproval')).toHaveLength(0);
    expect(lambdas.of('finalize')[0].payload).toMatchObject({ approval: { status: 'refused' } });
  });

  it('refuses definitions the engine would run differently from AWS', async () => {
    const jsonata = { ...DEFINITION, QueryLanguage: 'JSONata' };
    await expect(emulator(new FakeLambdas(), newDataDir(), jsonata)).rejects.toThrow(/JSONata/);
    const otherService = {
      StartAt: 'Put',
      States: {
        Put: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:putItem',
          Parameters: { TableName: 't', Item: {} },
          End: true,
        },
      },
    };
    await expect(emulator(new FakeLambdas(), newDataDir(), otherService)).rejects.toThrow(/not supported locally/);
    // The engine never matches a type test set to false (AWS matches it when the test fails).
    const negatedTest = {
      StartAt: 'Present?',
      States: {
        'Present?': {
          Type: 'Choice',
          Choices: [{ And: [{ Variable: '$.a', IsPresent: false }], Next: 'Done' }],
          Default: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    };
    await expect(emulator(new FakeLambdas(), newDataDir(), negatedTest)).rejects.toThrow(/"IsPresent": false/);
  });

  it('retries a transient error name, then goes on', async () => {
    const lambdas = new FakeLambdas({
      checkRequest: (_payload, attempt) => {
        if (attempt === 1) throw new Named('ModelArtsRetryableError', 'ModelArts answered 503');
        return { status: 'refused', stageIndex: 0, waitSeconds: 1 };
      },
    });
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-retry');
    await until(sfn, arn, 'SUCCEEDED');

    expect(lambdas.of('checkRequest')).toHaveLength(2);
    const failed = emu.history('req-retry')!.events.filter((e) => e.type === 'TaskFailed');
    expect(failed).toEqual([expect.objectContaining({ stateName: S.checkRequest, error: 'ModelArtsRetryableError' })]);
    expect(JSON.parse(failed[0].cause!)).toEqual({
      errorType: 'ModelArtsRetryableError',
      errorMessage: 'ModelArts answered 503',
    });
    expect(lambdas.of('finalize')[0].payload).toMatchObject({ error: null, approval: { status: 'refused' } });
    // CheckRequest, its retry, Checked?, Finalize.
    expect(emu.history('req-retry')!.stateTransitions).toBe(4);
  });

  it('catches a non-transient error into Finalize with the error name and the Lambda-style Cause', async () => {
    const lambdas = new FakeLambdas({
      createNodePool: () => {
        throw new Named('ModelArtsRequestRefused', 'ModelArts.0000: flavor sold out');
      },
    });
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-catch');
    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'approved' }) }));
    await until(sfn, arn, 'SUCCEEDED');

    expect(lambdas.of('createNodePool')).toHaveLength(1); // not a retryable error
    expect(lambdas.of('finalize')[0].payload.error).toEqual({
      Error: 'ModelArtsRequestRefused',
      Cause: JSON.stringify({ errorType: 'ModelArtsRequestRefused', errorMessage: 'ModelArts.0000: flavor sold out' }),
    });
  });

  it('fails a callback task with SendTaskFailure: its error name and cause reach the Catch', async () => {
    const lambdas = new FakeLambdas();
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-task-failure');
    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Approval.Broken', cause: 'no approver left' }),
    );
    await until(sfn, arn, 'SUCCEEDED');

    expect(lambdas.of('finalize')[0].payload.error).toEqual({ Error: 'Approval.Broken', Cause: 'no approver left' });
  });

  it('times a callback task out after TimeoutSecondsPath: States.Timeout, aborted invocation, TaskTimedOut token', async () => {
    const lambdas = new FakeLambdas({ checkRequest: () => ({ status: 'pending', stageIndex: 0, waitSeconds: 1 }) });
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-timeout');
    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );
    const invocation = lambdas.of('requestApproval')[0];

    await until(sfn, arn, 'SUCCEEDED');
    const events = emu.history('req-timeout')!.events;
    const timedOut = events.findIndex((e) => e.type === 'TaskTimedOut');
    expect(events[timedOut]).toMatchObject({ stateName: S.requestApproval, error: 'States.Timeout' });
    // The state the Catch leads to receives the States.Timeout error object.
    const next = events.slice(timedOut).find((e) => e.type.endsWith('StateEntered'))!;
    expect(Object.values(next.data as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ Error: 'States.Timeout' }),
    );
    expect(statesEntered(emu, 'req-timeout').at(-1)).toBe(S.finalize);
    expect(invocation.signal.aborted).toBe(true);

    const late = await errorOf(
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'approved' }) })),
    );
    expect(late.name).toBe('TaskTimedOut');
    expect(lambdas.of('createNodePool')).toHaveLength(0);
  });

  it('caps a timeout beyond what a Node timer can hold instead of firing at once', async () => {
    const thirtyDays = 30 * 24 * 3600;
    const lambdas = new FakeLambdas({
      checkRequest: () => ({ status: 'pending', stageIndex: 0, waitSeconds: thirtyDays }),
    });
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-long-wait');
    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );

    // An overflowing timer would have fired after 1 ms, long before this call.
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'approved' }) }));
    await until(sfn, arn, 'SUCCEEDED');
    expect(emu.history('req-long-wait')!.events.some((e) => e.type === 'TaskTimedOut')).toBe(false);
  });

  it('stops an execution at once with StopExecution', async () => {
    const lambdas = new FakeLambdas();
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const arn = await start(sfn, 'req-stop');
    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );

    const stopped = await sfn.send(
      new StopExecutionCommand({ executionArn: arn, error: 'Cancelled', cause: 'requester cancelled' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'requester cancelled' });
    expect(lambdas.of('requestApproval')[0].signal.aborted).toBe(true);
    expect((await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })))).name).toBe(
      'TaskDoesNotExist',
    );

    await emu.flush();
    expect(lambdas.of('finalize')).toHaveLength(0);
    expect(emu.history('req-stop')!.events.at(-1)).toMatchObject({ type: 'ExecutionAborted', error: 'Cancelled' });
    expect((await sfn.send(new StopExecutionCommand({ executionArn: arn }))).stopDate).toBeInstanceOf(Date);
  });

  it('answers unknown tokens and executions with the AWS error shapes', async () => {
    const emu = await emulator(new FakeLambdas());
    const sfn = client(emu);

    const bogus = await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: 'bogus-token', output: '{}' })));
    expect(bogus).toBeInstanceOf(TaskDoesNotExist);
    expect(bogus.name).toBe('TaskDoesNotExist');
    expect(bogus.$metadata?.httpStatusCode).toBe(400);
    expect((await errorOf(sfn.send(new SendTaskFailureCommand({ taskToken: 'bogus-token', error: 'X' })))).name).toBe(
      'TaskDoesNotExist',
    );
    expect(await rawCall(emu, 'SendTaskSuccess', { taskToken: 'bogus-token', output: '{}' })).toEqual({
      status: 400,
      json: { __type: 'com.amazonaws.sfn#TaskDoesNotExist', message: 'Task Does Not Exist' },
    });

    const missing = await errorOf(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:nope`,
        }),
      ),
    );
    expect(missing.name).toBe('ExecutionDoesNotExist');
    const badInput = await errorOf(
      sfn.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'x', input: '{not json' })),
    );
    expect(badInput.name).toBe('InvalidExecutionInput');
    const badName = await errorOf(
      sfn.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: '../escape', input: '{}' })),
    );
    expect(badName.name).toBe('InvalidName');
    const otherMachine = await errorOf(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${STATE_MACHINE_ARN}-other`, input: '{}' })),
    );
    expect(otherMachine.name).toBe('StateMachineDoesNotExist');
  });

  it('treats a duplicate StartExecution like AWS: idempotent while running with the same input', async () => {
    const lambdas = new FakeLambdas();
    const emu = await emulator(lambdas);
    const sfn = client(emu);
    const first = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'req-dup', input: appInput('req-dup') }),
    );
    const again = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'req-dup', input: appInput('req-dup') }),
    );
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);

    const different = await errorOf(start(sfn, 'req-dup', appInput('another')));
    expect(different.name).toBe('ExecutionAlreadyExists');

    const [token] = await eventually(
      () => (lambdas.tokens().length ? lambdas.tokens() : undefined),
      'the approval task token',
    );
    expect(lambdas.of('checkRequest')).toHaveLength(1);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ status: 'rejected' }) }));
    await until(sfn, first.executionArn!, 'SUCCEEDED');
    // A closed execution's name cannot be started again, even with the same input.
    expect((await errorOf(start(sfn, 'req-dup'))).name).toBe('ExecutionAlreadyExists');

    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN }));
    expect(listed.executions?.map((e) => [e.name, e.status])).toEqual([['req-dup', 'SUCCEEDED']]);
  });

  it('resumes a waiting execution after a restart: the re-invoked task hands out a new token', async () => {
    const dataDir = newDataDir();
    const before = new FakeLambdas();
    const first = await emulator(before, dataDir);
    const arn = await start(client(first), 'req-restart');
    const [oldToken] = await eventually(
      () => (before.tokens().length ? before.tokens() : undefined),
      'the approval task token',
    );
    await first.close();
    expect(before.of('requestApproval')[0].signal.aborted).toBe(true);
    expect(readdirSync(join(dataDir, 'executions'))).toEqual(['req-restart.json']); // no temp file left
    expect(JSON.parse(readFileSync(join(dataDir, 'executions', 'req-restart.json'), 'utf8'))).toMatchObject({
      status: 'RUNNING',
      current: { stateName: S.requestApproval },
      openTokens: [{ token: oldToken, stateName: S.requestApproval }],
    });

    const after = new FakeLambdas();
    const second = await emulator(after, dataDir);
    const sfn = client(second);
    const [newToken] = await eventually(
      () => (after.tokens().length ? after.tokens() : undefined),
      'the re-issued task token',
    );
    expect(newToken).not.toBe(oldToken);
    expect(after.of('requestApproval')[0].payload).toEqual({
      requestId: 'req-restart',
      stageIndex: 0,
      taskToken: newToken,
    });
    expect(after.of('checkRequest')).toHaveLength(0); // done before the restart

    await sfn.send(new SendTaskSuccessCommand({ taskToken: newToken, output: JSON.stringify({ status: 'approved' }) }));
    const described = await until(sfn, arn, 'SUCCEEDED');
    expect(described.input).toBe(appInput('req-restart'));
    expect(after.of('finalize')[0].payload).toMatchObject({
      requestId: 'req-restart',
      approval: { status: 'approved' },
    });
    expect(statesEntered(second, 'req-restart')).toEqual([
      S.checkRequest,
      S.checked,
      S.requestApproval,
      S.requestApproval,
      S.decision,
      S.kind,
      S.createNodePool,
      S.track,
      S.finalize,
    ]);
    expect((await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: oldToken, output: '{}' })))).name).toBe(
      'TaskDoesNotExist',
    );
  });

  /**
   * Before the tracking schedule, CheckNodes' answer was kept at `$.nodes` and every wait read
   * `$.created.waitSeconds`. The local stack resumes a saved run by state name on the new definition, so a
   * run saved in node tracking by that version must still finish.
   */
  it.each([
    [S.waitForNodes, { status: 'waiting', waitSeconds: 1, available: 0 }],
    [S.nodesReady, { status: 'waiting', waitSeconds: 1, available: 0 }],
    [S.nodesReady, { status: 'active', waitSeconds: 0, available: 2 }],
    [S.track, undefined],
  ])('resumes a run saved in node tracking by an older poolgate, at %s with $.nodes %j', async (stateName, nodes) => {
    const dataDir = newDataDir();
    const first = new FakeLambdas({
      createNodePool: () => ({ nodePoolName: 'np-old', alreadyExisted: false, track: true, waitSeconds: 300 }),
      checkRequest: () => ({ status: 'approved', stageIndex: 0, waitSeconds: 1 }),
    });
    const before = await emulator(first, dataDir);
    await start(client(before), 'req-old');
    await eventually(
      () => (statesEntered(before, 'req-old').includes(S.waitForNodes) ? true : undefined),
      'the run waiting for nodes',
    );
    await before.close();
    // Rewrite the saved run as the older version would have kept it.
    const file = join(dataDir, 'executions', 'req-old.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { current: { stateName: string; input: unknown } };
    const oldInput = {
      ...JSON.parse(appInput('req-old')),
      approval: { status: 'approved', stageIndex: 0, waitSeconds: 1 },
      created: { nodePoolName: 'np-old', track: true, waitSeconds: 1 },
      ...(nodes ? { nodes } : {}),
    };
    saved.current = { stateName, input: oldInput };
    writeFileSync(file, JSON.stringify(saved));

    const after = new FakeLambdas({ checkNodes: () => checked('np-old', 'active', 0) });
    const resumed = await emulator(after, dataDir);
    const described = await until(
      client(resumed),
      `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:req-old`,
      'SUCCEEDED',
    );
    expect(described.status).toBe('SUCCEEDED');
    expect(after.of('finalize')).toHaveLength(1);
    // An older run that had seen its nodes active finalizes without another check; the others check once.
    expect(after.of('checkNodes')).toHaveLength(nodes?.status === 'active' ? 0 : 1);
  });

  it('still accepts, after a restart, a token handed out before it', async () => {
    const dataDir = newDataDir();
    const before = new FakeLambdas();
    const first = await emulator(before, dataDir);
    const arn = await start(client(first), 'req-old-token');
    const [oldToken] = await eventually(
      () => (before.tokens().length ? before.tokens() : undefined),
      'the approval task token',
    );
    await first.close();

    const after = new FakeLambdas();
    const second = await emulator(after, dataDir);
    const sfn = client(second);
    await eventually(() => (after.tokens().length ? true : undefined), 'the re-issued task token');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: oldToken, output: JSON.stringify({ status: 'rejected' }) }));
    await until(sfn, arn, 'SUCCEEDED');
    expect(after.of('finalize')[0].payload).toMatchObject({ approval: { status: 'rejected' } });
  });

  it('keeps $$.Execution.Input the original input in a resumed run', async () => {
    const definition: AslDefinition = {
      StartAt: 'Prepare',
      States: {
        Prepare: { Type: 'Pass', Result: { prepared: true }, Next: 'Wait' },
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: 'notify',
            Payload: { 'token.$': '$$.Task.Token', 'original.$': '$$.Execution.Input', 'state.$': '$' },
          },
          TimeoutSeconds: 300,
          ResultPath: '$.answer',
          Next: 'Echo',
        },
        Echo: {
          Type: 'Pass',
          Parameters: {
            'original.$': '$$.Execution.Input',
            'answer.$': '$.answer',
            'startTime.$': '$$.Execution.StartTime',
            'name.$': '$$.Execution.Name',
          },
          End: true,
        },
      },
    };
    const dataDir = newDataDir();
    const tokensOf = (lambdas: FakeLambdas) => lambdas.calls.map((c) => c.payload.token as string);
    const before = new FakeLambdas();
    const first = await emulator(before, dataDir, definition);
    const arn = await start(client(first), 'exec-input', JSON.stringify({ x: 1 }));
    await eventually(() => (tokensOf(before).length ? true : undefined), 'the first token');
    expect(before.calls[0].payload).toMatchObject({ original: { x: 1 }, state: { prepared: true } });
    await first.close();

    const after = new FakeLambdas();
    const second = await emulator(after, dataDir, definition);
    const sfn = client(second);
    const [token] = await eventually(
      () => (tokensOf(after).length ? tokensOf(after) : undefined),
      'the token after the restart',
    );
    expect(after.calls[0].payload).toMatchObject({ original: { x: 1 }, state: { prepared: true } });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ ok: true }) }));
    const described = await until(sfn, arn, 'SUCCEEDED');
    expect(JSON.parse(described.output!)).toEqual({
      original: { x: 1 },
      answer: { ok: true },
      startTime: described.startDate!.toISOString(),
      name: 'exec-input',
    });
  });
});
