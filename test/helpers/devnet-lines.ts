/**
 * Reading `tracechain devnet`'s stdout in tests: one JSON line per node once it is ready
 * (the external contract: {name, role, api, token, peerId, data}).
 */
import type { ChildProcess } from 'node:child_process';

export interface DevnetLine {
  name: string;
  role: string;
  api: string;
  token: string;
  peerId: string;
  data: string;
}

/** The first n lines the devnet prints; rejects (with its stderr so far) on time-out or exit. */
export function readDevnetLines(p: ChildProcess, n: number, timeoutMs: number, stderr: string[]): Promise<DevnetLine[]> {
  return new Promise((resolve, reject) => {
    const lines: DevnetLine[] = [];
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`devnet printed ${lines.length}/${n} lines in time\n${stderr.join('')}`)), timeoutMs);
    p.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)) as DevnetLine);
        buf = buf.slice(i + 1);
        if (lines.length === n) {
          clearTimeout(timer);
          resolve(lines);
        }
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devnet exited with ${code}\n${stderr.join('')}`));
    });
  });
}

/**
 * A random `--base-port` for a devnet whose API (base + i) and p2p (base + 100 + i) ports all lie
 * below Linux's ephemeral range (32768 and up), where an outgoing connection of any process may
 * already hold a port and the node would fail to listen.
 */
export function randomDevnetBasePort(): number {
  return 20_000 + Math.floor(Math.random() * 12_000);
}
