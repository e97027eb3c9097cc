/**
 * A stand-in for the ModelArts node-pool API (docs/modelarts.md; README.md beside this file):
 * plain node:http; every request signed (401 `APIG.0301` otherwise, as API Gateway answers), the
 * API page's validation with ModelArts' error shape, node pools that move from creating to
 * available after a delay, state on disk across restarts.
 *
 * `/_sim/*` is the unsigned test and operator view: `GET /_sim/calls` lists the create and patch calls
 * received, `GET /_sim/nodepools` the node pools it holds (what a user would see in the ModelArts console),
 * `GET /_sim/state` the node pools and the DeleteNodePool and PatchNodePool calls counted per node pool,
 * `PATCH /_sim/nodepools/{project_id}/{pool_name}/{nodepool_name}` changes a node pool as someone in the
 * console would (a JSON merge patch of the whole node pool, unchecked).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { verifySignature } from '../../lambdas/adapters/modelarts/signer';
import { errorResponse, isRecordedCall, modelArtsApi, operationOf, type SimResponse } from './api';
import type { SimulatorCatalog } from './catalog';
import { Faults, type FaultPlanInput } from './faults';
import { NodePoolStore, type StoredNodePool } from './store';
import { closeServer, listen } from '../listen';

export type { FaultPlan, FaultPlanInput, FaultRule, InjectedFailure, SimOperation } from './faults';
export { parseFaultPlan } from './faults';
export type { StoredNodePool } from './store';
export type { SimulatorCatalog } from './catalog';

export interface SimulatorOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** Where the node pools are kept (created if missing). */
  readonly dataDir: string;
  /** The one AK/SK pair the simulator accepts. */
  readonly credentials: { readonly accessKey: string; readonly secretKey: string };
  /** Time from creation until a node pool's nodes are available; 3000 ms by default. */
  readonly nodeReadyDelayMs?: number;
  /** Time from an accepted DeleteNodePool until the node pool is gone (nodes `deleting` meanwhile); 0 by default. */
  readonly nodeDeleteDelayMs?: number;
  /** Pools and flavors other than the defaults (./catalog.ts). */
  readonly catalog?: SimulatorCatalog;
  /** Rate-based faults from the start (./faults.ts), as a plan or its JSON text; `PUT /_sim/faults` replaces them. */
  readonly faults?: FaultPlanInput | string;
}

/** A create-node-pool call as received, whatever the answer was. */
export interface ReceivedCall {
  readonly method: string;
  /** With the query, as on the wire. */
  readonly path: string;
  /** As received, names in lower case; a security token is redacted. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** ISO 8601. */
  readonly receivedAt: string;
  /** The status the simulator answered with. */
  readonly status: number;
}

export interface ModelArtsSimulator {
  readonly url: string;
  readonly port: number;
  /** Create- and patch-node-pool calls received since start, oldest first (not kept across restarts). */
  calls(): readonly ReceivedCall[];
  /** Every node pool stored, oldest first (kept across restarts). */
  nodePools(): readonly StoredNodePool[];
  /** DeleteNodePool calls received per `<project>/<pool>/<name>` (kept across restarts). */
  deleteCalls(): Readonly<Record<string, number>>;
  /** PatchNodePool calls received per `<project>/<pool>/<name>` (kept across restarts). */
  patchCalls(): Readonly<Record<string, number>>;
  readonly faults: Faults;
  close(): Promise<void>;
}

const DEFAULT_NODE_READY_DELAY_MS = 3000;
/** `PATCH /_sim/nodepools/{project_id}/{pool_name}/{nodepool_name}`: a change made in the console (unsigned). */
const CONSOLE_ROUTE = /^\/_sim\/nodepools\/([^/]+)\/([^/]+)\/([^/]+)$/;

/** `GET /_sim/nodepools`: every node pool, oldest first, with where it lives. */
function nodePoolsView(all: readonly StoredNodePool[]) {
  return {
    nodePools: all.map((n) => ({
      projectId: n.projectId,
      poolName: n.poolName,
      name: n.nodePool.metadata.name,
      createdAt: n.createdAt,
      /** The create body as ModelArts accepted it: annotations, labels, resources. */
      nodePool: n.nodePool,
    })),
  };
}
const AUTH_FAILURE = errorResponse(
  401,
  'APIG.0301',
  'Incorrect IAM authentication information: verify aksk signature fail',
);

export async function startModelArtsSimulator(options: SimulatorOptions): Promise<ModelArtsSimulator> {
  const host = options.host ?? '127.0.0.1';
  const store = NodePoolStore.open(options.dataDir);
  const api = modelArtsApi(store, {
    nodeReadyDelayMs: options.nodeReadyDelayMs ?? DEFAULT_NODE_READY_DELAY_MS,
    nodeDeleteDelayMs: options.nodeDeleteDelayMs ?? 0,
    catalog: options.catalog,
  });
  const faults = new Faults();
  if (options.faults) faults.setPlan(options.faults);
  const calls: ReceivedCall[] = [];
  const secretKeyFor = (accessKey: string) =>
    accessKey === options.credentials.accessKey ? options.credentials.secretKey : undefined;

  function simulatorView(method: string, path: string, body: Buffer): SimResponse {
    if (method === 'GET' && path === '/_sim/calls') return { status: 200, body: { calls } };
    if (method === 'GET' && path === '/_sim/nodepools') return { status: 200, body: nodePoolsView(store.all()) };
    if (method === 'GET' && path === '/_sim/state') {
      return {
        status: 200,
        body: { nodePools: store.all(), deleteCalls: store.deleteCalls(), patchCalls: store.patchCalls() },
      };
    }
    const inConsole = method === 'PATCH' ? CONSOLE_ROUTE.exec(path) : null;
    if (inConsole) {
      const [projectId = '', poolName = '', name = ''] = inConsole.slice(1).map((s) => decodeURIComponent(s));
      let patch: unknown;
      try {
        patch = JSON.parse(body.toString('utf8'));
      } catch {
        return errorResponse(400, 'ModelArts.50004000', 'Bad request. request body is not valid JSON');
      }
      return api.changeInConsole(projectId, poolName, name, patch);
    }
    if (path === '/_sim/faults') {
      if (method === 'PUT') {
        try {
          faults.setPlan(body.toString('utf8'));
        } catch (error) {
          return errorResponse(400, 'ModelArts.50004000', (error as Error).message);
        }
      } else if (method === 'DELETE') {
        faults.setPlan({ rules: [] });
      } else if (method !== 'GET') {
        return errorResponse(404, 'APIG.0101', `no simulator route ${method} ${path}`);
      }
      return { status: 200, body: { plan: faults.currentPlan(), ...faults.counts() } };
    }
    return errorResponse(404, 'APIG.0101', `no simulator route ${method} ${path}`);
  }

  /** The answer to one request, and how long to hold it (an injected latency). */
  function respond(
    method: string,
    path: string,
    query: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): { answer: SimResponse; delayMs: number } {
    if (path.startsWith('/_sim/')) return { answer: simulatorView(method, path, body), delayMs: 0 };
    const fault = faults.decide(operationOf(method, path));
    const delayMs = fault?.delayMs ?? 0;
    const injected =
      fault?.failure && errorResponse(fault.failure.status, fault.failure.errorCode, fault.failure.errorMsg);
    if (injected && !fault.afterServing) return { answer: injected, delayMs };
    const verdict = verifySignature({ method, path, query, headers, body }, secretKeyFor);
    // The body is API Gateway's, word for word; the reason only helps whoever debugs a client.
    if (!verdict.ok) return { answer: { ...AUTH_FAILURE, headers: { 'x-simulator-reason': verdict.reason } }, delayMs };
    const contentType = headers['content-type'];
    const served = api.handle({ method, path, query, body: body.toString('utf8'), contentType });
    // After serving: whatever the call did stays done, but its answer is lost.
    return { answer: injected || served, delayMs };
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = request.method ?? 'GET';
      const target = request.url ?? '/';
      const queryAt = target.indexOf('?');
      const path = queryAt === -1 ? target : target.slice(0, queryAt);
      const query = queryAt === -1 ? '' : target.slice(queryAt);
      let answer: SimResponse;
      let delayMs = 0;
      try {
        ({ answer, delayMs } = respond(method, path, query, request.headers, body));
      } catch (error) {
        process.stderr.write(
          `modelarts simulator: ${method} ${path} failed: ${(error as Error).stack ?? String(error)}\n`,
        );
        answer = errorResponse(500, 'ModelArts.50005000', 'Internal error.');
      }
      if (isRecordedCall(method, path)) {
        calls.push({
          method,
          path: target,
          headers: recordedHeaders(request.headers),
          body: body.toString('utf8'),
          receivedAt: new Date().toISOString(),
          status: answer.status,
        });
      }
      const send = () => {
        response.writeHead(answer.status, {
          'content-type': 'application/json;charset=UTF-8',
          'x-request-id': randomUUID(),
          ...answer.headers,
        });
        response.end(JSON.stringify(answer.body));
      };
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });

  const { url, port } = await listen(server, options.port, host);
  return {
    url,
    port,
    calls: () => calls,
    nodePools: () => store.all(),
    deleteCalls: () => store.deleteCalls(),
    patchCalls: () => store.patchCalls(),
    faults,
    close: () => closeServer(server),
  };
}

function recordedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    recorded[name] = name === 'x-security-token' ? '<redacted>' : Array.isArray(value) ? value.join(', ') : value;
  }
  return recorded;
}
