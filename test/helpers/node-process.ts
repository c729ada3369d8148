/**
 * Start real `tracechain` processes for integration tests: loopback only, port 0, bounded
 * waits, and everything started is stopped (tracked and killed in stopAll()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchSettled } from './retry.js';
import { SERVING_NODE_OPTIONS } from '../../src/node/gc-tuning.js';
import { testTlsFiles } from './test-tls.js';

export const BIN = fileURLToPath(new URL('../../bin/tracechain.js', import.meta.url));

const running = new Set<ChildProcess>();

export interface NodeProc {
  proc: ChildProcess;
  api: string;
  dataDir: string;
  logs: string[];
  /** The all-scopes operator token (DATA/api-token). */
  token(): Promise<string>;
  /** Secrets of the scoped tokens asked for with `tokens` (made with `tracechain token create`). */
  tokens: Record<string, string>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** GET; asks again only while the node sheds the request (429, 503 with Retry-After). */
  get(path: string): Promise<Response>;
}

export async function tempDir(prefix = 'tracechain-it-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Run the CLI to completion; resolves with exit code and output. */
export function runCli(args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`tracechain ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      running.delete(proc);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(opts.input ?? '');
  });
}

/**
 * `TRACECHAIN_TEST_HTTPS=1` (`npm run test:reliability:https`, docs/security.md) serves every test
 * node's API over HTTPS with the run's test certificate, unless a test names the scheme itself
 * (`tls: false`): the same tests, the same assertions, over TLS.
 */
export const HTTPS_BY_DEFAULT = process.env.TRACECHAIN_TEST_HTTPS === '1';

/** The `start` flags that serve the API over HTTPS with the run's test certificate (none for plain HTTP). */
export function tlsArgs(tls: boolean = HTTPS_BY_DEFAULT): string[] {
  if (!tls) return [];
  const f = testTlsFiles();
  return ['--tls-cert', f.cert, '--tls-key', f.key];
}

export interface StartOptions {
  dataDir?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /**
   * Serve the API over HTTPS with the run's test certificate (test/helpers/test-tls.ts: signed by
   * a private CA every test worker and spawned process trusts). `api` is then an https:// URL.
   * Default: plain HTTP, or HTTPS under `TRACECHAIN_TEST_HTTPS=1`.
   */
  tls?: boolean;
  /** Scoped tokens to make once the node runs, name → comma-separated scopes (`token create`). */
  tokens?: Record<string, string>;
}

/** Start `tracechain start` and wait until its API is listening. */
export async function startNode(args: string[], opts: StartOptions = {}): Promise<NodeProc> {
  const dataDir = opts.dataDir ?? (await tempDir());
  const tls = opts.tls ?? HTTPS_BY_DEFAULT;
  const proc = spawn(process.execPath, [...SERVING_NODE_OPTIONS, BIN, 'start', '--data', dataDir, '--api', '127.0.0.1:0', ...tlsArgs(tls), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  running.add(proc);
  const logs: string[] = [];
  const api = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`node did not start in time:\n${logs.join('\n')}`)), opts.timeoutMs ?? 30_000);
    const onLine = (line: string): void => {
      logs.push(line);
      if (logs.length > 5000) logs.shift();
      try {
        const rec = JSON.parse(line) as { msg?: string; api?: string };
        if (rec.msg === 'node started' && rec.api) {
          clearTimeout(timer);
          resolve(rec.api);
        }
      } catch {
        // not a JSON log line (e.g. a stack trace): kept in logs for the failure message
      }
    };
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    proc.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before starting:\n${logs.join('\n')}`));
    });
  });
  proc.removeAllListeners('exit');
  proc.on('exit', () => running.delete(proc));
  if (tls && !api.startsWith('https://')) throw new Error(`asked for HTTPS, the node serves ${api}`);
  const tokens: Record<string, string> = {};
  for (const [name, scopes] of Object.entries(opts.tokens ?? {})) {
    // The CLI edits DATA/tokens.json while the node runs; the node reads it at its next request.
    const r = await runCli(['token', 'create', name, '--scope', scopes, '--data', dataDir], { timeoutMs: 30_000 });
    const secret = r.stdout.trim();
    if (r.code !== 0 || !secret.startsWith('tc_')) throw new Error(`token create ${name} --scope ${scopes} failed (${r.code}): ${r.stderr}`);
    tokens[name] = secret;
  }
  return {
    proc,
    api,
    dataDir,
    logs,
    tokens,
    token: async () => (await readFile(join(dataDir, 'api-token'), 'utf8')).trim(),
    kill: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        proc.once('exit', (code) => {
          clearTimeout(t);
          resolve(code);
        });
        proc.kill(signal);
      }),
    // A GET the node sheds (429, 503 + Retry-After) is asked again (retry.ts); every other answer is returned.
    get: (path: string) => fetchSettled(api + path, { requestTimeoutMs: 10_000 }),
  };
}

/** Error codes of a request that got no answer (the node not listening yet, or gone). */
const NO_ANSWER_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * True when `err` says an HTTP request got no answer: connection refused or reset, or the
 * request's own time-out (AbortSignal.timeout). Not an answer the node gave (a status code is
 * never an error here), and not a failure of the test's own code.
 */
export function isNoAnswer(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return err instanceof TypeError && typeof code === 'string' && NO_ANSWER_CODES.has(code);
}

export interface WaitOptions {
  /**
   * Which exceptions of `check` mean "not yet" (polled again, and named if time runs out).
   * Default: a request that got no answer (isNoAnswer). Any other exception fails the wait at
   * once: it is a real failure (a wrong answer, a failed assertion, a bug), not slowness.
   */
  notYet?: (err: unknown) => boolean;
}

/**
 * Poll until `check` returns a truthy value (resolved with it) or `timeoutMs` runs out (rejects
 * naming `what`, the number of checks, and the last "not yet" error if there was one). A falsy
 * value is "not yet"; an exception is a failure unless `opts.notYet` says otherwise.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 100, opts: WaitOptions = {}): Promise<T> {
  const notYet = opts.notYet ?? isNoAnswer;
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  let checks = 0;
  let errors = 0;
  while (Date.now() < deadline) {
    checks++;
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      if (!notYet(err)) {
        if (err instanceof Error) err.message = `while waiting for ${what}: ${err.message}`;
        throw err;
      }
      errors++;
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const last = lastErr instanceof Error ? `${lastErr.name}: ${lastErr.message}${(lastErr.cause as { code?: string } | undefined)?.code ? ` (${(lastErr.cause as { code: string }).code})` : ''}` : String(lastErr);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${checks} checks${errors > 0 ? `, ${errors} got no answer; the last: ${last}` : ''})`);
}

export function stopAll(): void {
  for (const p of running) p.kill('SIGKILL');
  running.clear();
}
