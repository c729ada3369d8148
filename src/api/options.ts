/**
 * The HTTP API's options and their defaults: the one set. buildApi (server.ts) fills what its
 * caller leaves out from DEFAULT_API_OPTIONS, and a node's config (node/config.ts, `api`) starts
 * from the same object, so the two cannot drift.
 */
import { DEFAULT_QUERY_LIMITS } from './query.js';
import type { CorsOptions } from './cors.js';

export interface ApiOptions {
  host: string;
  port: number;
  /** Largest request body, bytes (413 above). */
  bodyLimit: number;
  /** Whole-request and idle-connection timeout, ms. */
  requestTimeoutMs: number;
  /** Require the bearer token on read routes too (default: reads are open). */
  requireTokenForReads?: boolean;
  /**
   * Let admin tokens manage client tokens over HTTP (/admin/tokens; docs/security.md). Off by
   * default: tokens are then made only with `tracechain token` on the node's host.
   */
  tokenApi?: boolean;
  /**
   * Per-client limits (token or IP) in one window: writes (capture, txs) and reads; and refused
   * authentications (401) per remote address, past which that address gets 429 for whatever
   * needs a token until the window ends.
   */
  rateLimit?: { writeMax: number; readMax: number; authFailMax: number; timeWindowMs: number };
  /** Capture worker threads (0: prepare captures on the main thread). */
  captureWorkers?: number;
  /** Captures in flight before 503. */
  captureQueue?: number;
  /** Mean event-loop delay above which requests get 503 + Retry-After. */
  maxEventLoopDelayMs?: number;
  /** Share of V8's heap limit above which requests get 503 + Retry-After. */
  maxHeapFraction?: number;
  /** Cache budgets of the proof reader, bytes. */
  blockCacheBytes?: number;
  proofCacheBytes?: number;
  /** Most events per /trace answer, and proof-tx bytes after which it stops early. */
  maxTraceEvents?: number;
  traceBytesBudget?: number;
  /** Most events one /events page examines. */
  queryScanBudget?: number;
  /**
   * HTTPS: PEM files of the server certificate (chain) and key; both empty: plain HTTP. With
   * clientCa, clients may present a certificate signed by it (mTLS); a token bound to that
   * certificate (`token create --cert`) then needs no bearer secret. Reloaded on SIGHUP and when
   * the files change.
   */
  tls?: { cert: string; key: string; clientCa: string };
  /** Cross-origin browsers: allowed origins (reads), and whether they may write (docs/security.md). */
  cors?: CorsOptions;
  /** The audit log of write requests (DATA/audit): rotated at maxFileMiB, maxFiles rotated files kept. */
  audit?: { enabled: boolean; maxFileMiB: number; maxFiles: number };
}

export type ResolvedApiOptions = Required<ApiOptions>;

export const DEFAULT_API_OPTIONS: ResolvedApiOptions = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimit: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  requireTokenForReads: false,
  tokenApi: false,
  rateLimit: { writeMax: 6_000, readMax: 200_000, authFailMax: 100, timeWindowMs: 10_000 },
  captureWorkers: 1,
  captureQueue: 256,
  maxEventLoopDelayMs: 1_000,
  maxHeapFraction: 0.9,
  // Off: tx texts kept on the JS heap cost more in GC than reading them again (docs/api.md).
  blockCacheBytes: 0,
  proofCacheBytes: 64 * 1024 * 1024,
  maxTraceEvents: 1_000,
  traceBytesBudget: 32 * 1024 * 1024,
  queryScanBudget: DEFAULT_QUERY_LIMITS.scanBudget,
  tls: { cert: '', key: '', clientCa: '' },
  cors: { origins: [], writes: false },
  audit: { enabled: true, maxFileMiB: 16, maxFiles: 100 },
};

export function resolveApiOptions(opts: ApiOptions): ResolvedApiOptions {
  const out = { ...DEFAULT_API_OPTIONS } as Record<string, unknown>;
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) out[k] = v;
  return out as unknown as ResolvedApiOptions;
}
