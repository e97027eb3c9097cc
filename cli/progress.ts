/**
 * `submit --wait`: follows a request until it reaches a final status, showing each new step as it is
 * recorded. On a terminal a spinner shows what the request is doing now; elsewhere (CI logs, pipes)
 * each step is one plain line. Polls the API with a deadline; a failed poll is retried with backoff.
 */
import { createSpinner } from 'nanospinner';
import { ApiError, UnreachableError, type PoolgateApi, type RequestView } from './api';
import { colorsFor, statusText, stepLine } from './render';

const POLL_INTERVAL_MS = 1000;
const MAX_POLL_BACKOFF_MS = 15_000;

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  constructor(readonly last: RequestView) {
    super(`still ${last.status} after the --timeout; the request goes on (poolgate status ${last.requestId})`);
  }
}

export interface WaitOptions {
  /** Give up after this long (the request itself goes on). */
  readonly timeoutMs?: number;
  /** Print progress (false for --json: only the final view is printed). */
  readonly show: boolean;
  readonly stream?: NodeJS.WriteStream;
}

function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export async function waitUntilFinal(api: PoolgateApi, requestId: string, options: WaitOptions): Promise<RequestView> {
  const stream = options.stream ?? process.stdout;
  const colors = colorsFor(stream);
  const started = Date.now();
  const deadline = options.timeoutMs === undefined ? Infinity : started + options.timeoutMs;
  // A spinner only on an interactive terminal (as nanospinner itself decides: not under CI, not
  // TERM=dumb) that knows its width (nanospinner divides by it to count the lines to redraw).
  const interactive =
    Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && process.env.TERM !== 'dumb' && !('CI' in process.env);
  const spinner = options.show && interactive ? createSpinner('', { stream }) : undefined;
  let shownSteps = 0;
  let backoff = POLL_INTERVAL_MS;
  let last: RequestView | undefined;

  const show = (view: RequestView) => {
    const fresh = view.steps.slice(shownSteps);
    shownSteps = view.steps.length;
    if (!options.show) return;
    if (spinner) {
      for (const step of fresh) spinner.clear().write(`${stepLine(step, colors)}\n`);
      spinner.update({ text: `${view.status}: ${statusText(view)} ${colors.dim(`(${elapsed(started)})`)}` });
      if (!spinner.isSpinning()) spinner.start();
    } else {
      for (const step of fresh) stream.write(`${stepLine(step, colors)}\n`);
    }
  };

  try {
    for (;;) {
      try {
        last = await api.call<RequestView>('GET', `/requests/${encodeURIComponent(requestId)}`);
        backoff = POLL_INTERVAL_MS;
        show(last);
        if (last.final) return last;
      } catch (error) {
        // A client error will not mend itself; a network hiccup or a 5xx may.
        if (!(error instanceof UnreachableError) && !(error instanceof ApiError && error.status >= 500)) throw error;
        if (options.show && !spinner) stream.write(`(${error.message}; trying again)\n`);
        backoff = Math.min(backoff * 2, MAX_POLL_BACKOFF_MS);
      }
      if (Date.now() + backoff > deadline) {
        if (last) throw new WaitTimeoutError(last);
        throw new UnreachableError(`no answer about request ${requestId} before the --timeout`);
      }
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  } finally {
    spinner?.clear();
    spinner?.stop();
  }
}
