/**
 * Scenario 8: flapping partitions under load. A devnet of N members; for `seconds`, every few
 * seconds one random member is cut off from the others (PUT /admin/partition on every node)
 * and later healed, while captures go to random nodes. Then heal, and check: all nodes agree on
 * one tip, every event whose capture returned 202 and that was recorded is on every node, and
 * none is recorded twice (its EPC's trace holds it once).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BIN, waitFor } from '../helpers/node-process.js';
import { fetchSettled } from '../helpers/retry.js';
import { capture, commissionDoc, eventOf, rng, sleep, tipOf } from './lib.js';
import { randomDevnetBasePort, readDevnetLines, type DevnetLine } from '../helpers/devnet-lines.js';

export async function startDevnet(dir: string, n: number, intervalMs: number, base = randomDevnetBasePort()): Promise<{ proc: ChildProcess; lines: DevnetLine[] }> {
  const proc = spawn(process.execPath, [BIN, 'devnet', '--nodes', String(n), '--dir', join(dir, 'net'), '--base-port', String(base), '--block-interval', String(intervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const lines = await readDevnetLines(proc, n, 120_000, stderr);
  return { proc, lines };
}

export interface PartitionFigures {
  seed: number;
  nodes: number;
  seconds: number;
  partitions: number;
  /** Graceful restarts of a member process (0 when the run has no restarts). */
  restarts: number;
  captures202: number;
  capturesRefused: number;
  eventsAcknowledged: number;
  eventsFoundOnEveryNode: number;
  eventsRecordedTwice: number;
  convergedMs: number;
  finalTip: number;
  problems: string[];
}

async function partition(lines: DevnetLine[], isolated: DevnetLine | undefined): Promise<void> {
  await Promise.all(
    lines.map((l) => {
      const peers = isolated === undefined ? [] : l === isolated ? lines.filter((o) => o !== l).map((o) => o.peerId) : [isolated.peerId];
      return fetch(l.api + '/admin/partition', { method: 'PUT', headers: { authorization: `Bearer ${l.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ peers }), signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    }),
  );
}

/**
 * A devnet consortium whose members run as separate `tracechain start` processes this harness
 * owns, so one can be restarted while the others keep going: `tracechain devnet` creates the
 * consortium (and is stopped once every node is ready), then each member is started again on
 * the same data dir, ports and bootstrap list.
 */
export class Cluster {
  private constructor(
    readonly lines: DevnetLine[],
    private readonly procs: ChildProcess[],
    private readonly base: number,
  ) {}

  static async start(dir: string, n: number, intervalMs: number): Promise<Cluster> {
    const base = randomDevnetBasePort();
    const { proc, lines } = await startDevnet(dir, n, intervalMs, base);
    const exited = new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())));
    proc.kill('SIGTERM');
    await exited;
    const c = new Cluster(lines, [], base);
    for (let i = 0; i < n; i++) c.procs.push(c.spawnNode(i));
    for (const l of lines) await waitFor(`${l.name} answering`, async () => (await fetch(l.api + '/blocks/tip', { signal: AbortSignal.timeout(5_000) })).ok, 60_000, 200);
    return c;
  }

  private spawnNode(i: number): ChildProcess {
    const l = this.lines[i] as DevnetLine;
    const others = this.lines.map((o, j) => `/ip4/127.0.0.1/tcp/${this.base + 100 + j}/p2p/${o.peerId}`).filter((_, j) => j !== i);
    const args = [BIN, 'start', '--data', l.data, '--api', `127.0.0.1:${this.base + i}`, '--p2p', `/ip4/127.0.0.1/tcp/${this.base + 100 + i}`, '--workers', '1', '--log-level', 'warn', '--bootstrap', ...others];
    return spawn(process.execPath, args, { stdio: 'ignore' });
  }

  /** Graceful restart of member i (SIGTERM, wait, start again, wait until its API answers). */
  async restart(i: number, downMs: number): Promise<void> {
    const p = this.procs[i] as ChildProcess;
    const exited = new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
    p.kill('SIGTERM');
    await exited;
    await sleep(downMs);
    this.procs[i] = this.spawnNode(i);
    const l = this.lines[i] as DevnetLine;
    await waitFor(`${l.name} back after a restart`, async () => (await fetch(l.api + '/blocks/tip', { signal: AbortSignal.timeout(5_000) })).ok, 60_000, 200);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null || p.signalCode !== null) return r();
            const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
            p.once('exit', () => {
              clearTimeout(t);
              r();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
  }
}

export async function flappingPartitions(lines: DevnetLine[], seconds: number, seed: number, restart?: (i: number, downMs: number) => Promise<void>): Promise<PartitionFigures> {
  const rand = rng(seed);
  const f: PartitionFigures = { seed, nodes: lines.length, seconds, partitions: 0, restarts: 0, captures202: 0, capturesRefused: 0, eventsAcknowledged: 0, eventsFoundOnEveryNode: 0, eventsRecordedTwice: 0, convergedMs: 0, finalTip: 0, problems: [] };
  const manufacturers = lines.filter((l) => l.role === 'manufacturer');
  const acked: { id: string; epc: string }[] = [];
  let stop = false;
  const load = async (): Promise<void> => {
    while (!stop) {
      const m = manufacturers[Math.floor(rand() * manufacturers.length)]!;
      const doc = commissionDoc('pt', 1 + Math.floor(rand() * 3));
      try {
        const r = await capture(m.api, m.token, doc, 5_000);
        if (r.status === 202) {
          f.captures202++;
          const events = (doc.epcisBody as { eventList: { epcList: string[] }[] }).eventList;
          (r.body?.eventIds ?? []).forEach((id, i) => acked.push({ id, epc: events[i]!.epcList[0]! }));
        } else f.capturesRefused++;
      } catch {
        f.capturesRefused++;
      }
      await sleep(20);
    }
  };
  const loads = [load(), load()];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const victim = lines[Math.floor(rand() * lines.length)]!;
    await partition(lines, victim);
    f.partitions++;
    await sleep(1_000 + Math.floor(rand() * 4_000));
    // Sometimes the cut-off member restarts before the heal (its partition switch resets).
    if (restart !== undefined && rand() < 0.35) {
      await restart(lines.indexOf(victim), 200 + Math.floor(rand() * 1_500));
      f.restarts++;
    }
    await partition(lines, undefined);
    await sleep(500 + Math.floor(rand() * 2_000));
  }
  stop = true;
  await Promise.all(loads);
  await partition(lines, undefined);
  const t0 = Date.now();
  // Converge: one tip everywhere, and every acknowledged event mined on every node.
  try {
    await waitFor(
      'convergence',
      async () => {
        const tips = await Promise.all(lines.map((l) => tipOf(l.api)));
        if (new Set(tips.map((t) => t.hash)).size !== 1) return false;
        const last = acked[acked.length - 1];
        if (last) for (const l of lines) if (!(await eventOf(l.api, last.id)).block) return false;
        return tips[0];
      },
      180_000,
      500,
    );
  } catch (err) {
    f.problems.push((err as Error).message);
  }
  f.convergedMs = Date.now() - t0;
  f.finalTip = (await tipOf(lines[0]!.api)).height;
  f.eventsAcknowledged = acked.length;
  for (const a of acked) {
    let everywhere = true;
    for (const l of lines) if (!(await eventOf(l.api, a.id)).block) everywhere = false;
    if (everywhere) f.eventsFoundOnEveryNode++;
    else if (f.problems.length < 20) f.problems.push(`event ${a.id} missing on some node`);
    // The trace must be read (a shed read is asked again, anything but 200 is a problem), so
    // "recorded twice" cannot pass on an answer that listed no events at all.
    const res = await fetchSettled(`${lines[0]!.api}/trace/${encodeURIComponent(a.epc)}`);
    const trace = (await res.json()) as { events?: { eventId: string }[] };
    if (res.status !== 200 || !Array.isArray(trace.events)) {
      f.problems.push(`GET /trace/${a.epc} answered ${res.status} ${JSON.stringify(trace).slice(0, 200)}`);
      continue;
    }
    const times = trace.events.filter((e) => e.eventId === a.id).length;
    if (times > 1) f.eventsRecordedTwice++;
    if (times === 0 && everywhere && f.problems.length < 20) f.problems.push(`event ${a.id} is in a block but not in the trace of ${a.epc}`);
  }
  return f;
}
