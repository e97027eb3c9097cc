/**
 * Bad input and faults over real HTTP on the local stack: always a clear 4xx in the documented shape,
 * nothing recorded twice, nothing half-written.
 */
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import {
  exampleBody,
  formFields,
  getRequest,
  openLink,
  postDecision,
  POOL,
  PROJECT_ID,
  submit,
  waitForStatus,
} from '../../local/harness/requests';
import { ACCEPTED_FORMS, SDK_REQUIRED_FIELDS, sdkFullBody, without } from '../support/sdk-bodies';

jest.setTimeout(60_000);

let stack: RunningStack;
let alice: string;

beforeAll(async () => {
  stack = await startStack();
  alice = await stack.token('alice@example.com');
});
afterAll(() => stack?.stop());

const errorShape = { error_code: expect.any(String), error_msg: expect.any(String) };

it('refuses a request without a token, or with a token whose signature is wrong, with 401', async () => {
  const none = await submit(stack, undefined, exampleBody('np-auth'));
  expect(none.status).toBe(401);
  expect(none.json).toEqual({ error_code: 'PoolGate.0401', error_msg: expect.stringContaining('bearer token') });
  const forged = await submit(stack, `${alice.slice(0, -4)}AAAA`, exampleBody('np-auth'));
  expect(forged.status).toBe(401);
  expect(forged.json).toEqual({ error_code: 'PoolGate.0401', error_msg: expect.stringContaining('invalid token') });
});

it('refuses a token whose e-mail its issuer has not verified, and one signed with an algorithm not configured, with 401', async () => {
  for (const claim of [false, 'false']) {
    const unverified = await stack.token('alice@example.com', { extraClaims: { email_verified: claim } });
    const response = await submit(stack, unverified, exampleBody('np-unverified'));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(response.json).toEqual({
      error_code: 'PoolGate.0401',
      error_msg: "the e-mail address alice@example.com is not verified by the token's issuer (email_verified: false)",
    });
  }
  // ES384 is in no list of the default policy; the dev issuer's key set has no key for it either.
  const es384 = await stack.token('alice@example.com', { algorithm: 'ES384' });
  const response = await submit(stack, es384, exampleBody('np-unverified'));
  expect(response.status).toBe(401);
  expect(response.json).toEqual({
    error_code: 'PoolGate.0401',
    error_msg: 'invalid token: signed with ES384, but poolgate accepts ES256, RS256 only (policy auth.algorithms)',
  });

  // Verified, or silent about it (the policy does not require the claim): the caller is named.
  for (const claim of [true, 'true', undefined]) {
    const verified = await stack.token('alice@example.com', { extraClaims: { email_verified: claim } });
    const listed = await fetch(`${stack.endpoints.api}/requests`, { headers: { authorization: `Bearer ${verified}` } });
    expect([claim, listed.status]).toEqual([claim, 200]);
  }
});

it('refuses a user in no team with 403 before looking at the body', async () => {
  const mallory = await stack.token('mallory@example.com');
  const response = await submit(stack, mallory, 'not even json');
  expect(response.status).toBe(403);
  expect(response.json).toEqual({
    error_code: 'PoolGate.0403',
    error_msg: 'mallory@example.com is not a member of any team',
  });
});

it.each([
  ['not JSON', '{"kind":', 'request body is not valid JSON'],
  ['an array', '[]', 'request body must be a JSON object'],
  ['null', 'null', 'request body must be a JSON object'],
])('answers a body that is %s with 400 ModelArts.50004000', async (_what, body, message) => {
  const response = await submit(stack, alice, body);
  expect(response.status).toBe(400);
  expect(response.json).toEqual({ error_code: 'ModelArts.50004000', error_msg: message });
});

it('names the field path and the rule of each violation', async () => {
  const body = exampleBody('np-bad', (b) => {
    b.spec.resources.count = 0;
    (b.spec.resources as Record<string, unknown>).colour = 'blue';
  });
  const response = await submit(stack, alice, body);
  expect(response.status).toBe(400);
  expect(response.json.error_code).toBe('ModelArts.50004000');
  expect(response.json.error_msg).toContain('spec.resources.count: must be an integer >= 1');
  expect(response.json.error_msg).toContain('spec.resources.colour: unknown field');
});

it.each(SDK_REQUIRED_FIELDS.map(({ path, named }) => [named, path] as const))(
  'answers a body without %s (required by the SDK models) with 400 ModelArts.50004000 naming its path',
  async (named, path) => {
    const response = await submit(stack, alice, without(sdkFullBody('np-sdk-missing'), path));
    expect(response.status).toBe(400);
    expect(response.json.error_code).toBe('ModelArts.50004000');
    expect(response.json.error_msg).toMatch(new RegExp(`(^|; )${named.replace(/[.[\]]/g, '\\$&')}: is required`));
  },
);

it.each(ACCEPTED_FORMS)('accepts a body with %s (a dry run: validated, nothing recorded)', async (_form, edit) => {
  const body = sdkFullBody('np-sdk-form');
  edit(body);
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools?dryRun=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { checks: { check: string; outcome: string }[] }).checks[0]).toMatchObject({
    check: 'validation',
    outcome: 'ok',
  });
});

it('answers a body over 64 KiB with 413 in the same shape', async () => {
  const body = exampleBody('np-huge', (b) => {
    b.spec.resources.labels = { big: 'x'.repeat(70_000) };
  });
  const response = await submit(stack, alice, body);
  expect(response.status).toBe(413);
  expect(response.json).toEqual({ error_code: 'PoolGate.0413', error_msg: 'request body exceeds 65536 bytes' });
});

it('keeps one open request per node pool: a second one gets 409, a retry gets the same request', async () => {
  const first = await submit(stack, alice, exampleBody('np-once'), { 'idempotency-key': 'k-1' });
  expect(first.status).toBe(202);
  const retry = await submit(stack, alice, exampleBody('np-once'), { 'idempotency-key': 'k-1' });
  expect(retry.status).toBe(202);
  expect(retry.json.requestId).toBe(first.json.requestId);

  const other = await submit(stack, alice, exampleBody('np-once'), { 'idempotency-key': 'k-2' });
  expect(other.status).toBe(409);
  expect(other.json).toEqual({
    error_code: 'PoolGate.0409',
    error_msg: `request ${String(first.json.requestId)} for this node pool is still open`,
  });

  const reused = await submit(stack, alice, exampleBody('np-other'), { 'idempotency-key': 'k-1' });
  expect(reused.status).toBe(422);
  expect(reused.json).toEqual(errorShape);

  // The retry recorded nothing twice: one submission, one approval request.
  const json = await waitForStatus(stack, alice, first.json.requestId as string, 'AWAITING_APPROVAL');
  expect(json.steps.filter((s) => s.step === 'submitted')).toHaveLength(1);
  expect(json.steps.filter((s) => s.step === 'approval_requested')).toHaveLength(1);
});

it('refuses a tampered approval link with 403 and decides nothing', async () => {
  const submitted = await submit(stack, alice, exampleBody('np-tamper'));
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.to.includes('bob@example.com') && m.subject.includes('np-tamper')),
    'mail to bob',
  );
  const link = mail.links[0];
  const tampered = link.replace(/sig=./, (s) => (s.endsWith('A') ? 'sig=B' : 'sig=A'));
  expect((await openLink(tampered)).status).toBe(403);
  const foreign = link.replace('approver=bob%40example.com', 'approver=mallory%40example.com');
  expect((await openLink(foreign)).status).toBe(403);

  const fields = formFields((await openLink(link)).html);
  const forged = await postDecision(link, { ...fields, approver: 'dave@example.com' }, 'approve');
  expect(forged.status).toBe(403);
  const json = await fetch(tampered.split('?')[0], {
    method: 'POST',
    body: new URLSearchParams({ ...fields, sig: 'x', decision: 'approve' }),
  });
  expect(json.status).toBe(403);
  expect(await json.json()).toEqual({ error_code: 'PoolGate.1403', error_msg: expect.any(String) });
  expect((await getRequest(stack, alice, submitted.json.requestId as string)).json.status).toBe('AWAITING_APPROVAL');
});

it('hides a request from someone outside its team and its approvers', async () => {
  const submitted = await submit(stack, alice, exampleBody('np-private'));
  const mallory = await stack.token('mallory@example.com');
  const response = await getRequest(stack, mallory, submitted.json.requestId as string);
  expect(response.status).toBe(404);
  expect(response.json).toEqual({ error_code: 'PoolGate.0404', error_msg: expect.any(String) });
});

it('answers unknown routes and methods in the error shape', async () => {
  const unknown = await fetch(`${stack.endpoints.api}/nope`);
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toEqual({ error_code: 'PoolGate.0404', error_msg: 'no route for GET /nope' });
  const method = await fetch(`${stack.endpoints.api}/health`, { method: 'DELETE' });
  expect(method.status).toBe(405);
  expect(await method.json()).toEqual(errorShape);
});
