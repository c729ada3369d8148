/**
 * Node configuration: defaults, a JSON config file, environment variables, then CLI flags,
 * each overriding the one before.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

export interface NodeConfig {
  dataDir: string;
  api: {
    host: string;
    port: number;
    bodyLimit: number;
    requestTimeoutMs: number;
    /** Require the bearer token on read routes too. */
    requireTokenForReads: boolean;
    /** Per-client requests per window: writes (capture, txs) and reads. */
    rateLimit: { writeMax: number; readMax: number; timeWindowMs: number };
    /** Worker threads preparing captures (validate, hash, sign); 0 = main thread. */
    captureWorkers: number;
    /** 503 + Retry-After above this mean event-loop delay. */
    maxEventLoopDelayMs: number;
    /** Proof reader caches, bytes. */
    blockCacheBytes: number;
    proofCacheBytes: number;
  };
  p2p: { listen: string[]; bootstrap: string[] };
  mining: { enabled: boolean; workers: number; refreshMs: number };
  mempool: { maxTxs: number; maxBytes: number };
  /** Worker threads verifying txs from peers and POST /txs (signatures, EPCIS rules). */
  verifier: { workers: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; pretty: boolean };
  /** Used only when `start` creates a one-member dev consortium in an empty data dir. */
  dev: { blockIntervalMs: number };
}

export function defaultConfig(): NodeConfig {
  return {
    dataDir: './data',
    api: {
      host: '127.0.0.1',
      port: 8080,
      bodyLimit: 8 * 1024 * 1024,
      requestTimeoutMs: 30_000,
      requireTokenForReads: false,
      rateLimit: { writeMax: 6_000, readMax: 200_000, timeWindowMs: 10_000 },
      captureWorkers: 1,
      maxEventLoopDelayMs: 1_000,
      blockCacheBytes: 128 * 1024 * 1024,
      proofCacheBytes: 64 * 1024 * 1024,
    },
    p2p: { listen: [], bootstrap: [] },
    mining: { enabled: true, workers: Math.max(1, availableParallelism() - 1), refreshMs: 1_000 },
    mempool: { maxTxs: 50_000, maxBytes: 256 * 1024 * 1024 },
    verifier: { workers: 1 },
    log: { level: 'info', pretty: false },
    dev: { blockIntervalMs: 2_000 },
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parse "HOST:PORT" (IPv6 in brackets) for --api. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(value);
  if (!m) throw new ConfigError(`expected HOST:PORT, got "${value}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`port ${port} out of range`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge a parsed config file over defaults, refusing unknown keys and wrong types. */
export function mergeConfig(base: NodeConfig, file: unknown, where = 'config'): NodeConfig {
  if (!isObject(file)) throw new ConfigError(`${where}: must be a JSON object`);
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  const walk = (target: Record<string, unknown>, src: Record<string, unknown>, path: string): void => {
    for (const [k, v] of Object.entries(src)) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw new ConfigError(`${where}: forbidden key ${path}${k}`);
      if (!(k in target)) throw new ConfigError(`${where}: unknown option ${path}${k}`);
      const cur = target[k];
      if (isObject(cur)) {
        if (!isObject(v)) throw new ConfigError(`${where}: ${path}${k} must be an object`);
        walk(cur, v, `${path}${k}.`);
      } else if (Array.isArray(cur)) {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ConfigError(`${where}: ${path}${k} must be an array of strings`);
        target[k] = v;
      } else {
        if (typeof v !== typeof cur) throw new ConfigError(`${where}: ${path}${k} must be a ${typeof cur}`);
        target[k] = v;
      }
    }
  };
  walk(out, file, '');
  return out as unknown as NodeConfig;
}

export async function loadConfigFile(base: NodeConfig, path: string): Promise<NodeConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return mergeConfig(base, parsed, path);
}
