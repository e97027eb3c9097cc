/**
 * Scaled retry waits of the local Step Functions emulator (POOLGATE_SFN_RETRY_SCALE): each wait is
 * the definition's own (IntervalSeconds x BackoffRate^n, capped, jittered as asked) times the scale,
 * while what is retried and how many times stays the definition's.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStepFunctionsEmulator, type AslDefinition, type StepFunctionsEmulator } from '../../local/step-functions';
import { scaledWaitMs } from '../../local/step-functions/retry-scale';
import { eventually } from '../../local/harness/poll';

const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:retry-scale';

/** One Lambda task that retries `Boom` three times (2 s, 4 s, 8 s as written), then gives up. */
const DEFINITION: AslDefinition = {
  StartAt: 'Call',
  States: {
    Call: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'fn', Payload: {} },
      TimeoutSeconds: 60,
      Retry: [{ ErrorEquals: ['Boom'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3 }],
      End: true,
    },
  },
};

let dir: string;
let emulator: StepFunctionsEmulator;
let attempts: number[];

async function run(failures: number, retryScale: number) {
  attempts = [];
  emulator = await startStepFunctionsEmulator({
    port: 0,
    dataDir: dir,
    stateMachineArn: ARN,
    definition: DEFINITION,
    retryScale,
    invokeFunction: async () => {
      attempts.push(Date.now());
      if (attempts.length <= failures) throw Object.assign(new Error('boom'), { name: 'Boom' });
      return { ok: true };
    },
  });
  const sfn = new SFNClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  await sfn.send(new StartExecutionCommand({ stateMachineArn: ARN, name: 'e1', input: '{}' }));
  sfn.destroy();
  return eventually(
    () => {
      const record = emulator.describe('e1');
      return record && record.status !== 'RUNNING' ? record : undefined;
    },
    'the execution to end',
    20_000,
    5,
  );
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'poolgate-retry-scale-'));
});
afterEach(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('waits IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds, times the scale', () => {
  const retrier = { IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 30 };
  expect([0, 1, 2, 3, 4, 5].map((n) => scaledWaitMs(retrier, n, 0.01))).toEqual([20, 40, 80, 160, 300, 300]);
  for (let i = 0; i < 50; i++) {
    const jittered = scaledWaitMs({ ...retrier, JitterStrategy: 'FULL' }, 3, 0.01);
    expect(jittered).toBeGreaterThanOrEqual(0);
    expect(jittered).toBeLessThanOrEqual(160);
  }
});

it('retries as often as the definition says, with the backoff shrunk by the scale', async () => {
  const record = await run(3, 0.01);
  expect(record.status).toBe('SUCCEEDED');
  expect(attempts).toHaveLength(4);
  const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
  // 20, 40 and 80 ms as scaled (14 s in all unscaled), give or take the engine's own work.
  expect(gaps[0]).toBeGreaterThanOrEqual(15);
  expect(gaps[2]).toBeGreaterThanOrEqual(70);
  expect(gaps.reduce((a, b) => a + b, 0)).toBeLessThan(2000);
  expect(emulator.history('e1')?.stateTransitions).toBe(4);
});

it('still gives up after MaxAttempts retries', async () => {
  const record = await run(10, 0.01);
  expect(record.status).toBe('FAILED');
  expect(record.error).toBe('Boom');
  expect(attempts).toHaveLength(4);
});
