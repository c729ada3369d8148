/**
 * A budget of refused authentications per client address. Requests refused with a 401 (no
 * credentials where a route needs them, a malformed header, a token the node never issued, an
 * expired, revoked or rotated-out one) are counted per remote address in a fixed window; once an
 * address has used up its budget, its requests that need authentication are answered 429 until
 * the window ends, before any credential is looked at. Authenticated requests and open reads
 * are limited by the ordinary per-client limits (api/server.ts), never by this.
 *
 * Bounded: at most `maxClients` addresses are remembered (least recently refused dropped first).
 * No clock of its own: the caller passes one.
 */
import { LruCache } from '../common/lru.js';

export interface AuthFailureOptions {
  /** Refusals allowed per address in one window. */
  max: number;
  windowMs: number;
  /** Addresses remembered at most. */
  maxClients: number;
}

interface Window {
  start: number;
  count: number;
}

export class AuthFailureLimiter {
  private readonly windows: LruCache<string, Window>;

  constructor(
    private readonly opts: AuthFailureOptions,
    private readonly modules: { clock: () => number },
  ) {
    this.windows = new LruCache(opts.maxClients);
  }

  /** Milliseconds until `address` may authenticate again (0: now). */
  blockedFor(address: string): number {
    const w = this.windows.get(address);
    if (w === undefined) return 0;
    const left = w.start + this.opts.windowMs - this.modules.clock();
    if (left <= 0) return 0;
    return w.count >= this.opts.max ? left : 0;
  }

  /** Count one refused authentication from `address`. */
  refused(address: string): void {
    const now = this.modules.clock();
    const w = this.windows.get(address);
    if (w === undefined || now >= w.start + this.opts.windowMs) this.windows.set(address, { start: now, count: 1 });
    else w.count++;
  }
}
