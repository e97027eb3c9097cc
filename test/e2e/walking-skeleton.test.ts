/**
 * The walking skeleton, end to end on the real local stack (child process, real HTTP, dynalite,
 * the real state machine on aws-local-stepfunctions, the signed ModelArts simulator).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ModelArtsClient } from '../../lambdas/adapters/modelarts/client';
import { DEV_HUAWEI_ACCESS_KEY, DEV_HUAWEI_SECRET_KEY } from '../../local/settings';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import {
  acceptedCreateBody,
  decide,
  exampleBody,
  formFields,
  getRequest,
  HAPPY_PATH_STEPS,
  openLink,
  POOL,
  postDecision,
  PROJECT_ID,
  submit,
  waitForStatus,
} from '../../local/harness/requests';

jest.setTimeout(90_000);

let stack: RunningStack;
let alice: string;

beforeAll(async () => {
  stack = await startStack();
  alice = await stack.token('alice@example.com');
});
afterAll(() => stack?.stop());

function modelArts(): ModelArtsClient {
  return new ModelArtsClient({
    endpoint: stack.endpoints.modelArts,
    credentials: async () => ({ accessKey: DEV_HUAWEI_ACCESS_KEY, secretKey: DEV_HUAWEI_SECRET_KEY }),
    timeoutMs: 5000,
  });
}

async function mailFor(approver: string, nodePool: string) {
  return eventually(
    () => readOutbox(stack).find((m) => m.to.includes(approver) && m.subject.includes(nodePool)),
    `approval mail to ${approver}`,
  );
}

it('runs the API page example from submission through approval to a created node pool with its nodes up', async () => {
  const submitted = await submit(stack, alice, exampleBody('nodepool-1'), { 'x-justification': 'training run for Q4' });
  expect(submitted.status).toBe(202);
  const requestId = submitted.json.requestId as string;
  expect(submitted.json).toEqual({
    requestId,
    status: 'SUBMITTED',
    kind: 'create',
    links: { self: `/requests/${requestId}` },
  });
  expect(submitted.headers.get('location')).toBe(`/requests/${requestId}`);

  // Both eligible approvers are asked, each with a personal link; the requester is not.
  const bobMail = await mailFor('bob@example.com', 'nodepool-1');
  await mailFor('dave@example.com', 'nodepool-1');
  expect(readOutbox(stack).some((m) => m.to.includes('alice@example.com'))).toBe(false);
  expect(bobMail.links).toHaveLength(1);
  expect(bobMail.links[0].startsWith(`${stack.endpoints.publicUrl}/approvals/`)).toBe(true);
  expect(stack.output()).toContain(bobMail.links[0]);

  // The page shows the request, and opening it decides nothing.
  const page = await openLink(bobMail.links[0]);
  expect(page.status).toBe(200);
  for (const fact of [PROJECT_ID, POOL, 'nodepool-1', 'modelarts.vm.2u4g.dcc', 'pay-per-use', 'training run for Q4'])
    expect(page.html).toContain(fact);
  expect(page.html).toMatch(/<form method="post">/);
  expect(page.html).toContain('<button type="submit" name="decision" value="approve">');
  expect(page.html).toContain('<button type="submit" name="decision" value="reject">');
  expect(page.html).toContain('name="comment"');
  expect((await openLink(bobMail.links[0])).status).toBe(200);
  expect((await getRequest(stack, alice, requestId)).json.status).toBe('AWAITING_APPROVAL');

  const fields = formFields(page.html);
  const approved = await postDecision(bobMail.links[0], fields, 'approve', 'go ahead');
  expect(approved.status).toBe(200);
  expect(approved.html).toContain('approval is recorded');
  expect((await postDecision(bobMail.links[0], fields, 'approve')).status).toBe(409);

  // Node tracking is on by default: CREATED (ModelArts accepted it), then ACTIVE (nodes available).
  const done = await waitForStatus(stack, alice, requestId, 'ACTIVE');
  expect(done.steps.map((s) => s.step)).toEqual(HAPPY_PATH_STEPS);
  for (const step of done.steps) {
    expect(step.outcome).toBe('ok');
    expect(Number.isNaN(Date.parse(step.at))).toBe(false);
  }
  expect(done.steps.find((s) => s.step === 'approved')?.actor).toBe('bob@example.com');

  // ModelArts received the body with the billing annotations and poolgate's label, signed.
  expect((await acceptedCreateBody(stack, 'nodepool-1'))?.metadata.annotations).toMatchObject({
    'os.modelarts/billing.mode': '0',
  });
  // ShowNodePool answers the SDK model's NodePool: metadata with the name only, the spec as created.
  const created = await modelArts().showNodePool(PROJECT_ID, POOL, 'nodepool-1');
  expect(created?.metadata).toEqual({ name: 'nodepool-1' });
  expect(created?.spec.resources.labels).toMatchObject({ 'poolgate/request-id': requestId });
  expect(created?.spec.resources.network).toEqual(exampleBody().spec.resources.network);
});

it('accepts the token `npx poolgate dev-token` prints, and only a token is printed', () => {
  const result = spawnSync('npx', ['poolgate', 'dev-token', 'alice@example.com'], {
    cwd: resolve(__dirname, '../..'),
    env: { ...process.env, POOLGATE_HOME: stack.home },
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return submit(stack, result.stdout.trim(), exampleBody('nodepool-cli')).then((response) =>
    expect(response.status).toBe(202),
  );
});

it('ends REJECTED when an approver rejects, and creates nothing', async () => {
  const submitted = await submit(stack, alice, exampleBody('nodepool-rejected'));
  expect(submitted.status).toBe(202);
  const requestId = submitted.json.requestId as string;
  const mail = await mailFor('dave@example.com', 'nodepool-rejected');
  const rejected = await decide(mail.links[0], 'reject', 'too big');
  expect(rejected.status).toBe(200);

  const done = await waitForStatus(stack, alice, requestId, 'REJECTED');
  expect(done.reason).toBe('APPROVER_REJECTED');
  expect(done.steps.at(-1)).toMatchObject({ step: 'rejected', outcome: 'refused', actor: 'dave@example.com' });
  // The other approver's link no longer decides.
  const bob = await mailFor('bob@example.com', 'nodepool-rejected');
  expect((await openLink(bob.links[0])).status).toBe(409);
  expect(await modelArts().showNodePool(PROJECT_ID, POOL, 'nodepool-rejected')).toBeUndefined();
});
