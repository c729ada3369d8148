/**
 * Start real `tracechain` processes for integration tests: loopback only, port 0, bounded
 * waits, and everything started is stopped (tracked and killed in stopAll()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/tracechain.js', import.meta.url));

const running = new Set<ChildProcess>();

export interface NodeProc {
  proc: ChildProcess;
  api: string;
  dataDir: string;
  logs: string[];
  token(): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
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

/** Start `tracechain start` and wait until its API is listening. */
export async function startNode(args: string[], opts: { dataDir?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<NodeProc> {
  const dataDir = opts.dataDir ?? (await tempDir());
  const proc = spawn(process.execPath, [BIN, 'start', '--data', dataDir, '--api', '127.0.0.1:0', ...args], {
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
  return {
    proc,
    api,
    dataDir,
    logs,
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
    get: (path: string) => fetch(api + path, { signal: AbortSignal.timeout(10_000) }),
  };
}

/** Poll until `check` returns a truthy value or the time runs out. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

export function stopAll(): void {
  for (const p of running) p.kill('SIGKILL');
  running.clear();
}
