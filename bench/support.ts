/**
 * Shared by the API benches: start a real `tracechain start` process, a keep-alive HTTP client
 * with low per-request overhead (node:http, not fetch), and percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVING_NODE_OPTIONS } from '../src/node/gc-tuning.js';

/** bin/tracechain.js of this checkout (from bench/ or dist/bench/). */
export function binPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'bin', 'tracechain.js');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find bin/tracechain.js above ' + fileURLToPath(import.meta.url));
}

export interface BenchNode {
  proc: ChildProcess;
  api: string;
  stop(): Promise<void>;
  /** Resolves true once the node has logged a line with this `msg` (at any time since it started), false after timeoutMs. */
  logged(msg: string, timeoutMs: number): Promise<boolean>;
}

/** Start `tracechain start` with args; resolves once its API listens. Its logs are read and dropped (last lines kept for errors). */
export function startBenchNode(args: string[], timeoutMs = 60_000): Promise<BenchNode> {
  // TRACECHAIN_BENCH_NODE_FLAGS: extra Node flags for the node under test (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const flags = (process.env.TRACECHAIN_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  const proc = spawn(process.execPath, [...SERVING_NODE_OPTIONS, ...flags, binPath(), 'start', '--api', '127.0.0.1:0', '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    let started = false;
    let warned = 0;
    /** Messages logged so far (distinct `msg` values: a bounded set), and who waits for which. */
    const seen = new Set<string>();
    const waiters = new Map<string, (() => void)[]>();
    const logged = (msg: string, ms: number): Promise<boolean> =>
      seen.has(msg)
        ? Promise.resolve(true)
        : new Promise((res) => {
            const t = setTimeout(() => res(false), ms);
            const list = waiters.get(msg) ?? [];
            list.push(() => {
              clearTimeout(t);
              res(true);
            });
            waiters.set(msg, list);
          });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`node did not start:\n${tail.join('\n')}`));
    }, timeoutMs);
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        tail.push(line);
        if (tail.length > 50) tail.shift();
        try {
          const rec = JSON.parse(line) as { msg?: string; api?: string; level?: number };
          // The node's warnings and errors (load shedding, a stalled store) go to the bench's
          // stderr, so a figure that looks wrong comes with the node's own reason (at most 20).
          if ((rec.level ?? 0) >= 40 && warned < 20) {
            warned++;
            process.stderr.write(`bench node: ${line.length > 600 ? `${line.slice(0, 600)}…` : line}\n`);
          }
          if (typeof rec.msg === 'string' && seen.size < 1000 && !seen.has(rec.msg)) {
            seen.add(rec.msg);
            for (const w of waiters.get(rec.msg) ?? []) w();
            waiters.delete(rec.msg);
          }
          if (!started && rec.msg === 'node started' && rec.api !== undefined) {
            started = true;
            clearTimeout(timer);
            const api = rec.api;
            resolve({
              proc,
              api,
              logged,
              stop: () =>
                new Promise<void>((res) => {
                  if (proc.exitCode !== null || proc.signalCode !== null) return res();
                  const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
                  proc.once('exit', () => {
                    clearTimeout(t);
                    res();
                  });
                  proc.kill('SIGTERM');
                }),
            });
          }
        } catch {
          // not a JSON log line
        }
      }
    });
    proc.stderr?.on('data', (d: Buffer) => {
      tail.push(d.toString());
      if (tail.length > 50) tail.shift();
    });
    proc.on('exit', (code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`node exited with ${code}:\n${tail.join('\n')}`));
      }
    });
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly send: typeof request;

  /** `ca`: the PEM certificate(s) to trust when `base` is https:// (keep-alive TLS sessions, as a real client would). */
  constructor(base: string, maxSockets: number, ca?: string) {
    const u = new URL(base);
    this.host = u.hostname;
    this.port = Number(u.port);
    if (u.protocol === 'https:') {
      this.agent = new HttpsAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ...(ca !== undefined ? { ca } : {}) });
      this.send = httpsRequest;
    } else {
      this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
      this.send = request;
    }
  }

  request(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string | number> = { ...headers };
      if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
      const req = this.send({ host: this.host, port: this.port, method, path, headers: h, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      });
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * A node's resident memory (its /metrics: prom-client's process metrics) and of it the process's
 * own (anonymous) memory: the rest is LevelDB's memory-mapped table files, pages of the OS file
 * cache the kernel takes back under pressure (Linux: /proc/PID/status; null elsewhere).
 */
export async function nodeMemory(node: BenchNode, http: HttpClient): Promise<{ rssBytes: number | null; anonBytes: number | null }> {
  const metrics = await http.request('GET', '/metrics');
  const rss = /^tracechain_process_process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(metrics.body);
  const status = node.proc.pid === undefined ? '' : await readFile(`/proc/${node.proc.pid}/status`, 'utf8').catch(() => '');
  const anon = /^RssAnon:\s+(\d+) kB$/m.exec(status);
  return { rssBytes: rss === null ? null : Math.round(Number(rss[1])), anonBytes: anon === null ? null : Number(anon[1]) * 1024 };
}

/** Bytes of the files under a directory (what a node's data directory takes on disk, before block rounding). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await dirBytes(path);
    else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size; // a LevelDB file compacted away meanwhile
  }
  return total;
}
