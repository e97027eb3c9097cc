/**
 * A stand-in for the ModelArts node-pool API of shared/reference/: signed requests only (401
 * `APIG.0301` otherwise), the API page's validation with ModelArts' error shape, node pools that
 * move from creating to available after a delay, state on disk across restarts. `/_sim/*` is the
 * test and operator view (unsigned): the calls received, and deleting a node pool "in the console".
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../lambdas/adapters/modelarts/signer';
import { ModelArtsNodePoolSchema, parseNodePoolRequest } from '../../lambdas/domain/nodepool-request';
import { SimulatorState, type ReceivedCall, type StoredNodePool } from './state';

export interface SimulatorOptions {
  readonly port: number;
  readonly host?: string;
  readonly dataDir: string;
  readonly credentials: { readonly accessKey: string; readonly secretKey: string };
  /** Time from creation until a node pool's nodes are available. */
  readonly nodeReadyDelayMs?: number;
}

export interface ModelArtsSimulator {
  readonly url: string;
  readonly port: number;
  /** Create calls received (newest last), for tests and the benchmark. */
  calls(): readonly ReceivedCall[];
  close(): Promise<void>;
}

const PROJECT_ID = /^[0-9a-f]{32}$/;
/** Inferred: the v2 API documents no "node pool not found" code; pool-not-found is ModelArts.50015001. */
const NODE_POOL_NOT_FOUND = 'ModelArts.50015002';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': randomUUID() });
  res.end(JSON.stringify(body));
}

const error = (res: ServerResponse, status: number, code: string, msg: string) => send(res, status, { error_code: code, error_msg: msg });

export async function startModelArtsSimulator(options: SimulatorOptions): Promise<ModelArtsSimulator> {
  const state = new SimulatorState(options.dataDir);
  const received: ReceivedCall[] = [];
  const readyDelay = options.nodeReadyDelayMs ?? 3000;

  function view(n: StoredNodePool) {
    const resources = n.body.spec?.resources ?? {};
    const bucket = [{ flavor: resources.flavor, count: resources.count, maxCount: resources.maxCount }];
    // The SDK types each status bucket as one object; the Terraform provider reads a list. A list here.
    const ready = Date.now() - n.createdAt >= readyDelay;
    return { ...n.body, status: { resources: ready ? { available: bucket } : { creating: bucket } } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (url.pathname === '/_sim/calls') return send(res, 200, { calls: received });
    const deletePath = /^\/_sim\/v2\/([^/]+)\/pools\/([^/]+)\/nodepools\/([^/]+)$/.exec(url.pathname);
    if (deletePath && method === 'DELETE') {
      const [projectId, poolName, name] = deletePath.slice(1).map(decodeURIComponent);
      return state.remove(projectId, poolName, name) ? send(res, 200, {}) : error(res, 404, NODE_POOL_NOT_FOUND, `node pool ${name} not found`);
    }

    const host = req.headers.host ?? 'localhost';
    const verification = verifySignature(
      { method, url: new URL(req.url ?? '/', `http://${host}`), headers: req.headers as Record<string, string>, body },
      (ak) => (ak === options.credentials.accessKey ? options.credentials.secretKey : undefined),
    );
    if (!verification.ok) return error(res, 401, 'APIG.0301', `Incorrect IAM authentication information: verify aksk signature fail (${verification.reason})`);

    const route = /^\/v2\/([^/]+)\/pools\/([^/]+)(?:\/nodepools(?:\/([^/]+))?)?$/.exec(url.pathname);
    if (!route) return error(res, 404, 'APIG.0101', 'The API does not exist or has not been published in the environment');
    const [projectId, poolName, name] = route.slice(1).map((s) => (s === undefined ? undefined : decodeURIComponent(s)));
    if (!projectId || !PROJECT_ID.test(projectId)) return error(res, 400, 'ModelArts.50004000', 'Bad request. invalid project id');
    const nodePoolsPath = url.pathname.includes('/nodepools');

    if (!nodePoolsPath && method === 'GET') {
      return send(res, 200, { apiVersion: 'v2', kind: 'Pool', metadata: { name: poolName }, spec: { type: 'Dedicate' }, status: { phase: 'Running', clusters: [{ providerId: 'local' }] } });
    }
    if (nodePoolsPath && !name && method === 'POST') {
      received.push({ method, path: url.pathname, headers: req.headers as Record<string, string>, body, at: Date.now() });
      const parsed = parseNodePoolRequest(body, ModelArtsNodePoolSchema);
      if (!parsed.ok) return error(res, 400, 'ModelArts.50004000', `Bad request. ${parsed.message}`);
      const nodePool = parsed.value as StoredNodePool['body'];
      if (state.find(projectId, poolName!, nodePool.metadata.name)) {
        return error(res, 400, 'ModelArts.50004000', `Bad request. node pool ${nodePool.metadata.name} already exists`);
      }
      state.add({ projectId, poolName: poolName!, body: nodePool, createdAt: Date.now() });
      return send(res, 200, nodePool);
    }
    if (nodePoolsPath && !name && method === 'GET') {
      return send(res, 200, { apiVersion: 'v2', kind: 'NodePoolList', items: state.list(projectId, poolName!).map(view) });
    }
    if (nodePoolsPath && name && method === 'GET') {
      const found = state.find(projectId, poolName!, name);
      return found ? send(res, 200, view(found)) : error(res, 404, NODE_POOL_NOT_FOUND, `node pool ${name} not found`);
    }
    return error(res, 405, 'APIG.0101', `${method} is not supported on ${url.pathname}`);
  }

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      await handle(req, res, Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      process.stderr.write(`modelarts simulator: ${(e as Error).stack}\n`);
      if (!res.headersSent) error(res, 500, 'ModelArts.50005000', 'internal error');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    calls: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
