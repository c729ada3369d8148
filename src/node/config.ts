/**
 * Node configuration: defaults, a config file (JSON, or YAML for .yaml/.yml), environment
 * variables (ENV_OVERRIDES), then CLI flags, each overriding the one before. docs/config.md
 * lists every option; `tracechain config check` reports every problem at once.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { isObject } from '../common/json.js';
import { DEFAULT_API_OPTIONS, type ResolvedApiOptions } from '../api/options.js';

export interface NodeConfig {
  dataDir: string;
  /** The HTTP API's options (api/options.ts): every one of them, defaults included. */
  api: ResolvedApiOptions;
  p2p: { listen: string[]; bootstrap: string[] };
  mining: { enabled: boolean; workers: number; refreshMs: number };
  mempool: { maxTxs: number; maxBytes: number };
  /** Worker threads verifying txs from peers and POST /txs (signatures, EPCIS rules). */
  verifier: { workers: number };
  /**
   * Disk-space guard of the chain store: below minFreeMiB free, writes are suspended (captures
   * answer 503, mining pauses) until twice that is free again; checked every checkIntervalMs.
   */
  storage: { minFreeMiB: number; checkIntervalMs: number };
  /**
   * The tx log (DATA/txlog): a capture or POST /txs is answered 202 only once its tx is fsynced
   * there. `enabled: false` exists for benchmark comparisons only (a 202 then survives nothing
   * but the mempool in memory: a stop or crash loses pending txs).
   */
  txLog: { enabled: boolean; segmentMiB: number; maxQueueMiB: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; pretty: boolean };
  /** Used only when `start` creates a one-member dev consortium in an empty data dir. */
  dev: { blockIntervalMs: number };
  /**
   * Webhook subscriptions and WebSocket streams (docs/notifications.md): plain http to
   * non-loopback hosts (allowHttp), the request timeout, the retry backoff, when a failing
   * subscription is paused, and the bounds on queries, subscriptions, streams and delivery size.
   */
  notify: {
    allowHttp: boolean;
    timeoutMs: number;
    retryBaseMs: number;
    retryMaxMs: number;
    pauseAfterMs: number;
    maxBacklogBlocks: number;
    maxQueries: number;
    maxSubscriptions: number;
    maxStreams: number;
    maxEventsPerDelivery: number;
  };
}

export function defaultConfig(): NodeConfig {
  return {
    dataDir: './data',
    api: structuredClone(DEFAULT_API_OPTIONS),
    p2p: { listen: [], bootstrap: [] },
    mining: { enabled: true, workers: Math.max(1, availableParallelism() - 1), refreshMs: 1_000 },
    mempool: { maxTxs: 50_000, maxBytes: 256 * 1024 * 1024 },
    verifier: { workers: 1 },
    storage: { minFreeMiB: 64, checkIntervalMs: 1_000 },
    txLog: { enabled: true, segmentMiB: 16, maxQueueMiB: 64 },
    log: { level: 'info', pretty: false },
    dev: { blockIntervalMs: 2_000 },
    notify: {
      allowHttp: false,
      timeoutMs: 10_000,
      retryBaseMs: 1_000,
      retryMaxMs: 60_000,
      pauseAfterMs: 86_400_000,
      maxBacklogBlocks: 100_000,
      maxQueries: 1_000,
      maxSubscriptions: 1_000,
      maxStreams: 100,
      maxEventsPerDelivery: 1_000,
    },
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
  return mergeConfig(base, parseConfigText(text, path), path);
}

// ---------------------------------------------------------------------------------------------
// Checking a config as a whole (every problem at once), YAML files, environment overrides.
// ---------------------------------------------------------------------------------------------

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Edit distance, for "did you mean" on unknown options. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

function suggestion(key: string, known: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean ${best}?)` : '';
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Merge a parsed config over `base`, collecting every problem (unknown or forbidden keys, wrong
 * types) instead of stopping at the first; values in range are checked by checkConfigValues.
 */
export function mergeConfigCollect(base: NodeConfig, file: unknown): { config: NodeConfig; problems: string[] } {
  const problems: string[] = [];
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  if (!isObject(file)) return { config: base, problems: [`the file must hold an object (a map of options), not ${typeName(file)}`] };
  const walk = (target: Record<string, unknown>, src: Record<string, unknown>, path: string): void => {
    for (const [k, v] of Object.entries(src)) {
      const name = `${path}${k}`;
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') {
        problems.push(`${name}: forbidden key`);
        continue;
      }
      if (!Object.prototype.hasOwnProperty.call(target, k)) {
        problems.push(`${name}: unknown option${suggestion(k, Object.keys(target))}`);
        continue;
      }
      const cur = target[k];
      if (isObject(cur)) {
        if (!isObject(v)) problems.push(`${name}: must be an object, got ${typeName(v)}`);
        else walk(cur, v, `${name}.`);
      } else if (Array.isArray(cur)) {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) problems.push(`${name}: must be an array of strings, got ${typeName(v)}`);
        else target[k] = v;
      } else if (typeof v !== typeof cur || v === null) {
        problems.push(`${name}: must be a ${typeof cur}, got ${typeName(v)}`);
      } else {
        target[k] = v;
      }
    }
  };
  walk(out, file, '');
  return { config: out as unknown as NodeConfig, problems };
}

/** Range and enum checks on a complete config; one message per problem. */
export function checkConfigValues(c: NodeConfig): string[] {
  const problems: string[] = [];
  const int = (name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name}: must be a whole number from ${min} to ${max}, got ${v}`);
  };
  if (c.dataDir.trim() === '') problems.push('dataDir: must not be empty');
  if (c.api.host.trim() === '') problems.push('api.host: must not be empty');
  int('api.port', c.api.port, 0, 65535);
  int('api.bodyLimit', c.api.bodyLimit, 1024);
  int('api.requestTimeoutMs', c.api.requestTimeoutMs, 100);
  int('api.rateLimit.writeMax', c.api.rateLimit.writeMax, 1);
  int('api.rateLimit.readMax', c.api.rateLimit.readMax, 1);
  int('api.rateLimit.authFailMax', c.api.rateLimit.authFailMax, 1);
  int('api.rateLimit.timeWindowMs', c.api.rateLimit.timeWindowMs, 1);
  int('api.captureWorkers', c.api.captureWorkers, 0, 64);
  int('api.captureQueue', c.api.captureQueue, 1);
  int('api.maxEventLoopDelayMs', c.api.maxEventLoopDelayMs, 1);
  if (!(c.api.maxHeapFraction > 0 && c.api.maxHeapFraction <= 1)) problems.push(`api.maxHeapFraction: must be a number above 0 and at most 1, got ${c.api.maxHeapFraction}`);
  int('api.blockCacheBytes', c.api.blockCacheBytes, 0);
  int('api.proofCacheBytes', c.api.proofCacheBytes, 0);
  int('api.maxTraceEvents', c.api.maxTraceEvents, 1);
  int('api.traceBytesBudget', c.api.traceBytesBudget, 1);
  int('api.queryScanBudget', c.api.queryScanBudget, 1);
  if ((c.api.tls.cert === '') !== (c.api.tls.key === '')) problems.push('api.tls: cert and key go together (both PEM files, or neither)');
  if (c.api.tls.clientCa !== '' && c.api.tls.cert === '') problems.push('api.tls.clientCa: client certificates need HTTPS (api.tls.cert and api.tls.key)');
  c.api.cors.origins.forEach((o, i) => {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`api.cors.origins[${i}]: "${o}" is not an origin (https://host[:port], or *)`);
  });
  int('api.audit.maxFileMiB', c.api.audit.maxFileMiB, 1, 4096);
  int('api.audit.maxFiles', c.api.audit.maxFiles, 1, 100_000);
  for (const [name, list] of [
    ['p2p.listen', c.p2p.listen],
    ['p2p.bootstrap', c.p2p.bootstrap],
  ] as const) {
    list.forEach((a, i) => {
      if (!a.startsWith('/')) problems.push(`${name}[${i}]: "${a}" is not a multiaddr (e.g. /ip4/0.0.0.0/tcp/4001)`);
    });
  }
  c.p2p.bootstrap.forEach((a, i) => {
    if (a.startsWith('/') && !/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(a)) problems.push(`p2p.bootstrap[${i}]: "${a}" must end with /p2p/<peer ID>`);
  });
  int('mining.workers', c.mining.workers, 1, 256);
  int('mining.refreshMs', c.mining.refreshMs, 10);
  int('mempool.maxTxs', c.mempool.maxTxs, 1);
  int('mempool.maxBytes', c.mempool.maxBytes, 1024);
  int('verifier.workers', c.verifier.workers, 0, 64);
  int('storage.minFreeMiB', c.storage.minFreeMiB, 0, 1_048_576);
  int('storage.checkIntervalMs', c.storage.checkIntervalMs, 50, 3_600_000);
  int('txLog.segmentMiB', c.txLog.segmentMiB, 1, 1024);
  int('txLog.maxQueueMiB', c.txLog.maxQueueMiB, 1, 4096);
  if (!(LOG_LEVELS as readonly string[]).includes(c.log.level)) problems.push(`log.level: must be one of ${LOG_LEVELS.join(', ')}, got "${c.log.level}"`);
  int('dev.blockIntervalMs', c.dev.blockIntervalMs, 100, 3_600_000);
  int('notify.timeoutMs', c.notify.timeoutMs, 100, 600_000);
  int('notify.retryBaseMs', c.notify.retryBaseMs, 10, 3_600_000);
  int('notify.retryMaxMs', c.notify.retryMaxMs, c.notify.retryBaseMs, 86_400_000);
  int('notify.pauseAfterMs', c.notify.pauseAfterMs, 1_000);
  int('notify.maxBacklogBlocks', c.notify.maxBacklogBlocks, 1);
  int('notify.maxQueries', c.notify.maxQueries, 1, 1_000_000);
  int('notify.maxSubscriptions', c.notify.maxSubscriptions, 1, 100_000);
  int('notify.maxStreams', c.notify.maxStreams, 0, 100_000);
  int('notify.maxEventsPerDelivery', c.notify.maxEventsPerDelivery, 1, 10_000);
  return problems;
}

/** Parse a config file's text: YAML for .yaml/.yml, else JSON. */
export function parseConfigText(text: string, path: string): unknown {
  if (/\.ya?ml$/i.test(path)) {
    try {
      return parseYaml(text, { uniqueKeys: true, merge: false, maxAliasCount: 0 });
    } catch (err) {
      throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export interface EnvOverride {
  name: string;
  /** The option(s) it sets. */
  option: string;
  example: string;
  apply(config: NodeConfig, value: string): void;
}

function envList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function envInt(name: string, value: string): number {
  if (!/^[0-9]+$/.test(value.trim())) throw new ConfigError(`${name}: must be a whole number, got "${value}"`);
  return Number(value.trim());
}

function envBool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new ConfigError(`${name}: must be true or false (1/0, yes/no), got "${value}"`);
}

/** Environment variables, applied after the config file and before command-line flags. */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { name: 'TRACECHAIN_DATA', option: 'dataDir', example: '/data', apply: (c, v) => (c.dataDir = v) },
  {
    name: 'TRACECHAIN_API',
    option: 'api.host, api.port',
    example: '0.0.0.0:8080',
    apply: (c, v) => {
      try {
        Object.assign(c.api, parseHostPort(v.trim()));
      } catch (err) {
        throw new ConfigError(`TRACECHAIN_API: ${(err as Error).message}`);
      }
    },
  },
  { name: 'TRACECHAIN_P2P_LISTEN', option: 'p2p.listen', example: '/ip4/0.0.0.0/tcp/4001', apply: (c, v) => (c.p2p.listen = envList(v)) },
  { name: 'TRACECHAIN_BOOTSTRAP', option: 'p2p.bootstrap', example: '/ip4/10.0.0.2/tcp/4001/p2p/12D3KooW…,/ip4/…', apply: (c, v) => (c.p2p.bootstrap = envList(v)) },
  { name: 'TRACECHAIN_WORKERS', option: 'mining.workers', example: '2', apply: (c, v) => (c.mining.workers = envInt('TRACECHAIN_WORKERS', v)) },
  { name: 'TRACECHAIN_NO_MINE', option: 'mining.enabled (inverted)', example: '1', apply: (c, v) => (c.mining.enabled = !envBool('TRACECHAIN_NO_MINE', v)) },
  { name: 'TRACECHAIN_CAPTURE_WORKERS', option: 'api.captureWorkers', example: '1', apply: (c, v) => (c.api.captureWorkers = envInt('TRACECHAIN_CAPTURE_WORKERS', v)) },
  { name: 'TRACECHAIN_VERIFIER_WORKERS', option: 'verifier.workers', example: '1', apply: (c, v) => (c.verifier.workers = envInt('TRACECHAIN_VERIFIER_WORKERS', v)) },
  {
    name: 'TRACECHAIN_REQUIRE_TOKEN_FOR_READS',
    option: 'api.requireTokenForReads',
    example: 'true',
    apply: (c, v) => (c.api.requireTokenForReads = envBool('TRACECHAIN_REQUIRE_TOKEN_FOR_READS', v)),
  },
  { name: 'TRACECHAIN_TLS_CERT', option: 'api.tls.cert', example: '/etc/tracechain/api.crt', apply: (c, v) => (c.api.tls.cert = v) },
  { name: 'TRACECHAIN_TLS_KEY', option: 'api.tls.key', example: '/etc/tracechain/api.key', apply: (c, v) => (c.api.tls.key = v) },
  { name: 'TRACECHAIN_TLS_CLIENT_CA', option: 'api.tls.clientCa', example: '/etc/tracechain/clients-ca.crt', apply: (c, v) => (c.api.tls.clientCa = v) },
  { name: 'TRACECHAIN_CORS_ORIGINS', option: 'api.cors.origins', example: 'https://dashboard.example', apply: (c, v) => (c.api.cors.origins = envList(v)) },
  {
    name: 'TRACECHAIN_LOG_LEVEL',
    option: 'log.level',
    example: 'info',
    apply: (c, v) => {
      if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new ConfigError(`TRACECHAIN_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got "${v}"`);
      c.log.level = v as NodeConfig['log']['level'];
    },
  },
  { name: 'TRACECHAIN_LOG_PRETTY', option: 'log.pretty', example: 'false', apply: (c, v) => (c.log.pretty = envBool('TRACECHAIN_LOG_PRETTY', v)) },
  { name: 'TRACECHAIN_MIN_FREE_MIB', option: 'storage.minFreeMiB', example: '64', apply: (c, v) => (c.storage.minFreeMiB = envInt('TRACECHAIN_MIN_FREE_MIB', v)) },
  { name: 'TRACECHAIN_BLOCK_INTERVAL', option: 'dev.blockIntervalMs', example: '2000', apply: (c, v) => (c.dev.blockIntervalMs = envInt('TRACECHAIN_BLOCK_INTERVAL', v)) },
];

/** Names of the override variables set (non-empty) in `env`; an empty variable is ignored. */
export function envOverridesIn(env: NodeJS.ProcessEnv): string[] {
  return ENV_OVERRIDES.filter((o) => env[o.name] !== undefined && env[o.name] !== '').map((o) => o.name);
}

/** Apply the environment overrides present in `env` to a copy of `config`. */
export function applyEnv(config: NodeConfig, env: NodeJS.ProcessEnv): NodeConfig {
  const out = structuredClone(config);
  for (const o of ENV_OVERRIDES) {
    const v = env[o.name];
    if (v !== undefined && v !== '') o.apply(out, v);
  }
  return out;
}

export interface ResolvedConfig {
  config: NodeConfig;
  /** The config file read, if any. */
  file: string | undefined;
  /** The environment variables that changed something. */
  env: string[];
  /** Everything wrong, file and environment together (empty when the config is usable). */
  problems: string[];
}

/**
 * Defaults, then the config file (`file`, else $TRACECHAIN_CONFIG), then the environment.
 * Never throws for a bad config: every problem is listed (command-line flags come after, in cli.ts).
 */
export async function resolveConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ResolvedConfig> {
  const env = opts.env ?? process.env;
  const file = opts.file ?? (env.TRACECHAIN_CONFIG !== undefined && env.TRACECHAIN_CONFIG !== '' ? env.TRACECHAIN_CONFIG : undefined);
  let config = defaultConfig();
  const problems: string[] = [];
  if (file !== undefined) {
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    if (text !== undefined) {
      try {
        const merged = mergeConfigCollect(config, parseConfigText(text, file));
        config = merged.config;
        problems.push(...merged.problems.map((p) => `${file}: ${p}`));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(err.message);
      }
    }
  }
  for (const o of ENV_OVERRIDES) {
    const v = env[o.name];
    if (v === undefined || v === '') continue;
    try {
      o.apply(config, v);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(`environment ${err.message}`);
    }
  }
  problems.push(...checkConfigValues(config));
  return { config, file, env: envOverridesIn(env), problems };
}

/** resolveConfig for `start`: throws one ConfigError listing every problem. */
export async function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): Promise<NodeConfig> {
  const r = await resolveConfig(opts);
  if (r.problems.length > 0) throw new ConfigError(r.problems.length === 1 ? (r.problems[0] as string) : `invalid configuration:\n  ${r.problems.join('\n  ')}`);
  return r.config;
}
