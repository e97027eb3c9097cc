/** Small HTTP helpers for end-to-end tests and the benchmark: the calls a requester and an approver make. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './poll';
import type { RunningStack } from './stack';

export const PROJECT_ID = '0123456789abcdef0123456789abcdef';
export const POOL = 'pool-e2e';

export interface ExampleBody {
  kind: string;
  apiVersion: string;
  metadata: { name: string; annotations: Record<string, string> };
  spec: { resources: Record<string, unknown> & { nodePool?: string; count: number; maxCount: number; flavor: string } };
}

/** The API page's example request, renamed so each test has its own node pool. */
export function exampleBody(name = 'nodepool-1', change: (b: ExampleBody) => void = () => undefined): ExampleBody {
  const body = JSON.parse(
    readFileSync(join(__dirname, '../../test/fixtures/example-nodepool.json'), 'utf8'),
  ) as ExampleBody;
  body.metadata.name = name;
  body.spec.resources.nodePool = name;
  change(body);
  return body;
}

export async function submit(
  stack: RunningStack,
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
  pool = POOL,
) {
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${pool}/nodepools`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

export async function getRequest(stack: RunningStack, token: string, requestId: string) {
  const response = await fetch(`${stack.endpoints.api}/requests/${requestId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown> & { status: string; steps: Array<Record<string, string>> },
  };
}

/** The steps a request records on the happy path, from submission to its nodes up, in order. */
export const HAPPY_PATH_STEPS = [
  'submitted',
  'capacity_checked',
  'quota_checked',
  'approval_requested',
  'approved',
  'node_pool_created',
  'nodes_active',
] as const;

/** Polls the request (as the holder of `token` sees it) until its status is `wanted`, and returns that view. */
export async function waitForStatus(
  stack: RunningStack,
  token: string,
  requestId: string,
  wanted: string,
  timeoutMs = 30_000,
  intervalMs?: number,
) {
  return eventually(
    async () => {
      const { json } = await getRequest(stack, token, requestId);
      return json.status === wanted ? json : undefined;
    },
    `${requestId} to be ${wanted}`,
    timeoutMs,
    intervalMs,
  );
}

/** The hidden inputs of the approval page's form. */
export function formFields(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1],
      m[2].replace(/&amp;/g, '&'),
    ]),
  );
}

export async function openLink(link: string) {
  const response = await fetch(link, { headers: { accept: 'text/html' } });
  return { status: response.status, html: await response.text() };
}

/** Posts the approval form as a browser would (the hidden fields come from the page). */
export async function postDecision(
  link: string,
  fields: Record<string, string>,
  decision: 'approve' | 'reject',
  comment = '',
) {
  const response = await fetch(link.split('?')[0], {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ ...fields, decision, comment }).toString(),
  });
  return { status: response.status, html: await response.text() };
}

/** Opens the link, then submits its form with `decision`. */
export async function decide(link: string, decision: 'approve' | 'reject', comment = '') {
  const fields = formFields((await openLink(link)).html);
  return { ...(await postDecision(link, fields, decision, comment)), fields };
}

/**
 * The body ModelArts accepted for node pool `name`, as the simulator received it (`/_sim/calls`).
 * Show and List answer `metadata` with the name only, as ModelArts does, so the annotations sent are
 * read here.
 */
export async function acceptedCreateBody(stack: RunningStack, name: string): Promise<ExampleBody | undefined> {
  const { calls } = (await (await fetch(`${stack.endpoints.modelArts}/_sim/calls`)).json()) as {
    calls: Array<{ method: string; body: string; status: number }>;
  };
  return calls
    .filter((c) => c.method === 'POST' && c.status === 200)
    .map((c) => JSON.parse(c.body) as ExampleBody)
    .findLast((b) => b.metadata?.name === name);
}

/** Node pool `name` changed as someone in the ModelArts console would: `patch` merges into it (JSON merge patch). */
export async function changeInConsole(
  stack: RunningStack,
  where: { projectId: string; pool: string; name: string },
  patch: unknown,
): Promise<void> {
  const path = [where.projectId, where.pool, where.name].map(encodeURIComponent).join('/');
  const response = await fetch(`${stack.endpoints.modelArts}/_sim/nodepools/${path}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(patch),
  });
  if (response.status !== 200)
    throw new Error(`console change of ${path}: ${response.status} ${await response.text()}`);
}
