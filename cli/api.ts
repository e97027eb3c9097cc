/**
 * The CLI's HTTP client: the poolgate API and nothing else (the CLI never imports lambdas/).
 * Every non-2xx answer becomes an ApiError carrying the server's `error_code` and `error_msg`.
 */

import type { ErrorBody, RequestSummary } from '../contracts/api';

/** Default server: the local stack `npm start` runs. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';
/** Each call gives up after this long (the wait loop polls again). */
const CALL_TIMEOUT_MS = 30_000;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** The server's error body, for --json. */
  body(): ErrorBody {
    return { error_code: this.code, error_msg: this.message };
  }
}

/** The server could not be reached, or did not answer HTTP. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

/** A usage or configuration problem the user must fix (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CallOptions {
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string | undefined>;
  /** Whether the call needs the bearer token (all but /health and /openapi.json). */
  readonly auth?: boolean;
}

export class PoolgateApi {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string | undefined,
  ) {
    if (!URL.canParse(baseUrl))
      throw new UsageError(`not a URL: ${baseUrl} (set POOLGATE_URL or --url, e.g. ${DEFAULT_URL})`);
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'poolgate-cli',
      ...options.headers,
    };
    if (options.auth !== false) {
      if (!this.token) {
        throw new UsageError(
          'no token: set POOLGATE_TOKEN or pass --token (locally: export POOLGATE_TOKEN=$(npx poolgate dev-token you@example.com))',
        );
      }
      headers.authorization = `Bearer ${this.token}`;
    }
    const query = new URLSearchParams(
      Object.entries(options.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const url = `${this.baseUrl}${path}${query.size ? `?${query.toString()}` : ''}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body,
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new UnreachableError(`cannot reach poolgate at ${this.baseUrl}: ${cause}`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const body = json as Partial<ErrorBody> | undefined;
      throw new ApiError(
        response.status,
        body?.error_code ?? `HTTP ${response.status}`,
        body?.error_msg ?? (text.slice(0, 200) || response.statusText),
      );
    }
    if (json === undefined)
      throw new UnreachableError(`${method} ${path}: the server at ${this.baseUrl} did not answer JSON`);
    return json as T;
  }
}

/**
 * The API's bodies, from the API contract (contracts/api.ts, also behind /openapi.json). Type-only:
 * the CLI does not load zod.
 */
export type {
  DeleteDryRun,
  ModelArtsNodePoolView,
  ScaleDryRun,
  DryRunResult,
  Inventory,
  ListedRequest,
  RequestList,
  RequestStep as Step,
  RequestSummary,
  RequestView,
  SubmitAccepted,
} from '../contracts/api';

/**
 * A request reached its goal: a create's nodes are up (or it is created and the nodes are not tracked),
 * a scale's new count is shown (ACTIVE), a delete's node pool is gone (DELETED).
 */
export function succeeded(view: Pick<RequestSummary, 'status' | 'final'>): boolean {
  return view.status === 'ACTIVE' || view.status === 'DELETED' || (view.status === 'CREATED' && view.final);
}
