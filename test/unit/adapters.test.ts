import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Mailer } from '../../lambdas/adapters/mailer';
import { Workflow } from '../../lambdas/adapters/workflow';

const sfn = mockClient(SFNClient);
const ses = mockClient(SESv2Client);

beforeEach(() => {
  sfn.reset();
  ses.reset();
});

function awsError(name: string): Error {
  const error = new Error(name);
  error.name = name;
  return error;
}

describe('Workflow adapter', () => {
  const workflow = new Workflow('arn:aws:states:us-east-1:000000000000:stateMachine:poolgate');

  it('starts one execution named after the request, with every path the definition reads', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    await expect(workflow.start('r-1')).resolves.toBe('started');
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:poolgate',
      name: 'r-1',
      input: JSON.stringify({
        requestId: 'r-1',
        kind: 'create',
        approval: null,
        error: null,
        attempt: 0,
        created: null,
      }),
    });
  });

  it("names a retry's run after its attempt, and hands the attempt to the run", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const created = { nodePoolName: 'np', track: true, waitSeconds: 5 };
    await expect(workflow.start('r-1', { attempt: 2, created })).resolves.toBe('started');
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      name: 'r-1-retry-2',
      input: JSON.stringify({ requestId: 'r-1', kind: 'create', approval: null, error: null, attempt: 2, created }),
    });
  });

  it('tells an execution found running (Step Functions answers its earlier start date) from one it started', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date(Date.now() - 60_000) });
    await expect(workflow.start('r-1')).resolves.toBe('running');
  });

  it('treats an execution that already exists as started, and says it has ended', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists'));
    await expect(workflow.start('r-1')).resolves.toBe('ended');
  });

  it('passes other start failures on', async () => {
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException'));
    await expect(workflow.start('r-1')).rejects.toThrow('ThrottlingException');
  });

  it('answers the task token with the outcome as JSON', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    await expect(workflow.answer('token-1', { status: 'approved', stageIndex: 0, waitSeconds: 0 })).resolves.toBe(
      'delivered',
    );
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-1',
      output: '{"status":"approved","stageIndex":0,"waitSeconds":0}',
    });
  });

  it.each(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'])(
    'reports a task that no longer waits (%s) as gone',
    async (name) => {
      sfn.on(SendTaskSuccessCommand).rejects(awsError(name));
      await expect(workflow.answer('t', { status: 'approved', stageIndex: 0, waitSeconds: 0 })).resolves.toBe('gone');
    },
  );
});

describe('Mailer adapter', () => {
  it('sends text and HTML through SESv2 from the configured sender', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    const id = await new Mailer('poolgate@example.com').send({
      to: ['bob@example.com'],
      subject: 'S',
      text: 'T',
      html: '<p>H</p>',
    });
    expect(id).toBe('m-1');
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      FromEmailAddress: 'poolgate@example.com',
      Destination: { ToAddresses: ['bob@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'S', Charset: 'UTF-8' },
          Body: { Text: { Data: 'T', Charset: 'UTF-8' }, Html: { Data: '<p>H</p>', Charset: 'UTF-8' } },
        },
      },
    });
  });
});
