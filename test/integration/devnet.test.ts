/**
 * `tracechain devnet` as the external contract states it: N members on loopback, roles in
 * order, the manufacturers owning the given prefixes, one JSON line per ready node, and every
 * node stopped on SIGTERM; and no node outlives a devnet killed with SIGKILL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomDevnetBasePort, readDevnetLines, type DevnetLine } from '../helpers/devnet-lines.js';
import { BIN, removeDir, tempDir, waitFor } from '../helpers/node-process.js';
import { fetchSettled } from '../helpers/retry.js';
import type { Genesis } from '../../src/chain/types.js';

type Line = DevnetLine;

let proc: ChildProcess | undefined;
let dir = '';
/** Node processes a devnet started: killed here if a test left any behind. */
const orphans: number[] = [];
afterAll(async () => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  for (const pid of orphans) if (alive(pid)) process.kill(pid, 'SIGKILL');
  if (dir) await removeDir(dir);
});

/** Linux /proc: a process's parent PID and state, or undefined once it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] as string, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Running (a zombie waiting for its reaper has exited). */
function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z';
}

function childrenOf(ppid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^[0-9]+$/.test(d))
    .map(Number)
    .filter((pid) => procStat(pid)?.ppid === ppid);
}


function commissioning(prefix: string, serial: string): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: now,
    epcisBody: {
      eventList: [
        { type: 'ObjectEvent', eventTime: now, eventTimeZoneOffset: '+00:00', epcList: [`urn:epc:id:sgtin:${prefix}.107346.${serial}`], action: 'ADD', bizStep: 'commissioning', disposition: 'active' },
      ],
    },
  });
}

describe('tracechain devnet', () => {
  it('starts N members, prints one line per ready node, and stops them all on SIGTERM', async () => {
    dir = await tempDir('tracechain-devnet-');
    const base = randomDevnetBasePort();
    const stderr: string[] = [];
    proc = spawn(process.execPath, [BIN, 'devnet', '--nodes', '3', '--dir', join(dir, 'net'), '--base-port', String(base), '--block-interval', '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const lines = await readDevnetLines(proc, 3, 90_000, stderr);

    expect(lines.map((l) => [l.name, l.role])).toEqual([
      ['manufacturer-1', 'manufacturer'],
      ['wholesaler-1', 'wholesaler'],
      ['pharmacy-1', 'pharmacy'],
    ]);
    lines.forEach((l, i) => {
      expect(Object.keys(l).sort()).toEqual(['api', 'data', 'name', 'peerId', 'role', 'token']);
      expect(l.api).toBe(`http://127.0.0.1:${base + i}`);
      expect(l.token.length).toBeGreaterThan(20);
      expect(l.peerId).toMatch(/^12D3KooW/);
      expect(existsSync(join(l.data, 'genesis.json'))).toBe(true);
    });
    const genesis = JSON.parse(readFileSync(join(lines[0]!.data, 'genesis.json'), 'utf8')) as Genesis;
    expect(genesis.members.map((m) => [m.name, m.gs1CompanyPrefixes, m.canSeal])).toEqual([
      ['manufacturer-1', ['0614141', '4012345', '9521234'], true],
      ['wholesaler-1', [], true],
      ['pharmacy-1', [], true],
    ]);

    for (const l of lines) {
      const h = await fetch(l.api + '/health');
      expect(h.status).toBe(200);
      // A node may still be dialling its last peer (or shedding load) right after it reports ready.
      const expected = lines.filter((o) => o !== l).map((o) => o.name).sort();
      const names = await waitFor(`${l.name} sees every other member`, async () => {
        const res = await fetch(l.api + '/peers');
        if (res.status !== 200) return undefined;
        const got = ((await res.json()) as { peers: { name: string }[] }).peers.map((p) => p.name).sort();
        return JSON.stringify(got) === JSON.stringify(expected) ? got : undefined;
      }, 30_000);
      expect(names).toEqual(expected);
    }

    // The token works, and roles hold: the manufacturer commissions its own prefix, the wholesaler may not.
    // A capture the node sheds (429, 503 + Retry-After) is asked again; every other answer counts.
    const post = (l: Line, body: string): Promise<Response> =>
      fetchSettled(l.api + '/capture', { requestTimeoutMs: 20_000, init: { method: 'POST', headers: { authorization: `Bearer ${l.token}`, 'content-type': 'application/ld+json' }, body } });
    const ok = await post(lines[0]!, commissioning('0614141', `${process.pid}1`));
    expect(ok.status, await ok.clone().text()).toBe(202);
    const refused = await post(lines[1]!, commissioning('0614141', `${process.pid}2`));
    expect(refused.status).toBe(403);

    const exited = new Promise<number | null>((r) => proc!.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const l of lines) {
      await waitFor(`${l.name} down`, async () => {
        try {
          await fetch(l.api + '/health', { signal: AbortSignal.timeout(1_000) });
          return false;
        } catch (err) {
          return err instanceof TypeError;
        }
      }, 10_000);
    }
  });

  it('takes its nodes down with it when it is killed with SIGKILL', async () => {
    dir ||= await tempDir('tracechain-devnet-');
    const base = randomDevnetBasePort();
    const stderr: string[] = [];
    const devnet = spawn(process.execPath, [BIN, 'devnet', '--nodes', '2', '--dir', join(dir, 'killed'), '--base-port', String(base), '--block-interval', '500'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = devnet;
    devnet.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const lines = await readDevnetLines(devnet, 2, 90_000, stderr);
    const pids = childrenOf(devnet.pid as number);
    orphans.push(...pids);
    expect(pids).toHaveLength(2);

    const exited = new Promise<void>((r) => devnet.once('exit', () => r()));
    devnet.kill('SIGKILL');
    await exited;
    // Each node sees its devnet gone and shuts down as on SIGTERM: within a few seconds, not never.
    await waitFor('every devnet node gone', async () => pids.every((pid) => !alive(pid)), 10_000);
    for (const l of lines) {
      const log = readFileSync(join(l.data, 'node.log'), 'utf8');
      expect(log).toMatch(/"reason":"parent process gone".*"msg":"shutting down"/);
      expect(log).toMatch(/"msg":"node stopped"/);
    }
  });
});
