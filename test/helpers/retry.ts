/**
 * Asking a node again, only when the node says to (docs/api.md): 429 `RATE_LIMITED`, and a 503
 * that carries `Retry-After` (load shedding `UNDER_PRESSURE`, `CAPTURE_BUSY`, `MEMPOOL_FULL`,
 * `STORE_UNAVAILABLE`, `STORE_UNWRITABLE`). Everything else is an answer and is returned as it
 * came: a 500 (`STORE_DAMAGED`, an internal error) is never retried, nor is a 503 without
 * `Retry-After` (a server that is closing), nor a request that got no answer (refused, reset,
 * timed out), which throws.
 */

/** Milliseconds the node asks us to wait before asking again, or undefined when it did not ask. */
export function retryAfterMs(res: Response): number | undefined {
  if (res.status !== 429 && res.status !== 503) return undefined;
  const header = res.headers.get('retry-after');
  if (header === null) return res.status === 429 ? 1_000 : undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1_000 : Math.max(0, date - Date.now());
}

/** One answer that was retried: its status and problem code. */
export interface Retried {
  status: number;
  code: string | undefined;
}

export interface SettledOptions {
  /** Give up retrying after this long and return the last (retryable) answer. Default 30 s. */
  timeoutMs?: number;
  /** Each request's own time-out. Default 15 s. */
  requestTimeoutMs?: number;
  /** Longest single wait, whatever Retry-After says (the deadline still bounds the total). */
  maxWaitMs?: number;
  /** Called for every answer that is retried. */
  onRetry?: (r: Retried) => void;
  init?: RequestInit;
}

/**
 * fetch(url) and ask again while the node answers "retry later" (see above), honouring its
 * Retry-After up to `maxWaitMs`, until `timeoutMs`. Returns the first other answer, or the last
 * retryable one when time runs out (so the caller sees the 503/429 and fails on it).
 */
export async function fetchSettled(url: string, opts: SettledOptions = {}): Promise<Response> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const res = await fetch(url, { ...opts.init, signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 15_000) });
    const wait = retryAfterMs(res);
    const left = deadline - Date.now();
    if (wait === undefined || left <= 0) return res;
    let code: string | undefined;
    try {
      code = ((await res.json()) as { code?: unknown }).code as string | undefined;
    } catch {
      code = undefined; // a body that is not a problem document: the status says enough
    }
    opts.onRetry?.({ status: res.status, code });
    await new Promise((r) => setTimeout(r, Math.max(50, Math.min(wait, opts.maxWaitMs ?? 2_000, left))));
  }
}
