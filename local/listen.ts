/** Starting and stopping the local stack's HTTP servers (API, Step Functions, ModelArts, DynamoDB): one way. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** `http://<host>:<port>` (an IPv6 host in brackets). */
  readonly url: string;
  /** The port bound: the one asked for, or a free one for 0. */
  readonly port: number;
}

/** Starts `server` on `host`:`port`; rejects if it cannot listen there (the port is taken, the host unknown). */
export async function listen(server: Server, port: number, host: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://${urlHost(host)}:${bound}`, port: bound };
}

/** Stops accepting, drops the open (keep-alive) connections, and resolves once the server is closed. */
export function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  server.closeAllConnections();
  return closed;
}

/** A host as it stands in a URL that reaches it: loopback for a wildcard address, an IPv6 address in brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
