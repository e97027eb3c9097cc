/**
 * Stopping and restarting `npm start` (even with SIGKILL) keeps every request and its history, and a
 * request that was waiting for approval can still be approved afterwards.
 */
import { rmSync } from 'node:fs';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import { decide, exampleBody, HAPPY_PATH_STEPS, submit, waitForStatus } from '../../local/harness/requests';

jest.setTimeout(90_000);

let stack: RunningStack | undefined;
afterAll(async () => {
  const home = stack?.home;
  await stack?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

it('approves, after a crash and a restart, a request that was waiting for approval', async () => {
  stack = await startStack();
  const alice = await stack.token('alice@example.com');
  const submitted = await submit(stack, alice, exampleBody('np-restart'));
  expect(submitted.status).toBe(202);
  const requestId = submitted.json.requestId as string;
  const mail = await eventually(
    () => readOutbox(stack!).find((m) => m.to.includes('bob@example.com') && m.subject.includes('np-restart')),
    'mail to bob',
  );
  await waitForStatus(stack, alice, requestId, 'AWAITING_APPROVAL');

  const home = stack.home;
  await stack.stop('SIGKILL', true);
  stack = await startStack({ home });

  // The link was printed before the crash; its host:port changed with the restart, its path did not.
  const link = `${stack.endpoints.publicUrl}${new URL(mail.links[0]).pathname}${new URL(mail.links[0]).search}`;
  const decided = await decide(link, 'approve');
  expect(decided.status).toBe(200);

  const done = await waitForStatus(stack, alice, requestId, 'ACTIVE');
  expect(done.steps.map((s) => s.step)).toEqual(HAPPY_PATH_STEPS);
});
