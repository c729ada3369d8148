/**
 * The parent side of the p2p benches: bench node processes (bench/p2p-node.ts) forked and
 * driven over IPC, with bounded waits, and all of them stopped at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { nodeScript, type FromNode, type ToNode } from './p2p-common.js';

type Reply<K extends FromNode['type']> = Extract<FromNode, { type: K }>;

export class BenchNodeProc extends EventEmitter<{ message: [m: FromNode] }> {
  private readonly proc: ChildProcess;
  readonly stderr: string[] = [];
  private exited = false;

  constructor(readonly name: string) {
    super();
    this.proc = fork(nodeScript(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr.push(d.toString());
      if (this.stderr.length > 50) this.stderr.shift();
    });
    this.proc.on('message', (m: FromNode) => this.emit('message', m));
    this.proc.on('exit', () => {
      this.exited = true;
    });
  }

  send(m: ToNode): void {
    if (!this.exited) this.proc.send(m);
  }

  /** Send a message and wait for the first reply of a type (or an error). */
  request<K extends FromNode['type']>(m: ToNode, type: K, timeoutMs = 30_000): Promise<Reply<K>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', on);
        reject(new Error(`${this.name}: no ${type} within ${timeoutMs} ms\n${this.stderr.join('')}`));
      }, timeoutMs);
      const on = (r: FromNode): void => {
        if (r.type === 'error') {
          clearTimeout(timer);
          this.off('message', on);
          reject(new Error(`${this.name}: ${r.message}`));
        } else if (r.type === type) {
          clearTimeout(timer);
          this.off('message', on);
          resolve(r as Reply<K>);
        }
      };
      this.on('message', on);
      this.send(m);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited) return resolve();
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.send({ type: 'stop' });
    });
  }
}

/** Poll until `check` holds, or fail after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
