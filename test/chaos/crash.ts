/**
 * Scenarios 1 and 2: SIGKILL at random moments. Each round either kills the node during
 * start-up (at a random delay after spawn: genesis/keys, store open, chain load and recovery,
 * network, API) or lets it run under a capture burst and kills it at a random moment (block
 * import, batch writes, captures in flight). After every kill: `tracechain audit` passes, the
 * next start is clean, the tip is at least the highest tip the node reported, and every event
 * whose capture returned 202 and that the node reported in a block is still in that block.
 */
import { spawn } from 'node:child_process';
import { BIN, runCli, startNode, waitFor } from '../helpers/node-process.js';
import { capture, commissionDoc, eventOf, FAST, rng, sleep, tipOf, tokenOf } from './lib.js';

async function blockTxs(api: string, height: number): Promise<{ hash: string; txIds: string[] } | undefined> {
  const res = await fetch(`${api}/blocks/${height}`, { signal: AbortSignal.timeout(3_000) });
  return res.status === 200 ? ((await res.json()) as { hash: string; txIds: string[] }) : undefined;
}

export interface CrashFigures {
  seed: number;
  rounds: number;
  startupKills: number;
  runtimeKills: number;
  captures202: number;
  eventsAcknowledged: number;
  eventsReportedInBlock: number;
  eventsFoundAfterRestarts: number;
  /** 202 but not yet in a block when killed: the mempool is memory only (resubmit is idempotent). */
  eventsOnlyInMempoolAtKill: number;
  /** Of those, found in a block after all (mined before the kill, not yet observed). */
  unreportedButFound: number;
  maxTipReported: number;
  finalTip: number;
  audits: number;
  /** Event reads after restarts (GET /events/{id}), each counted once however often it was retried. */
  eventReads: number;
  /** Answers to those reads that the node asked us to retry (429, 503 with Retry-After): load shedding, not loss. */
  transientReadErrors: number;
  problems: string[];
}

async function killDuringStartup(dataDir: string, delayMs: number): Promise<void> {
  const proc = spawn(process.execPath, [BIN, 'start', '--data', dataDir, '--api', '127.0.0.1:0', ...FAST], { stdio: 'ignore' });
  await sleep(delayMs);
  const exited = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
  proc.kill('SIGKILL');
  await exited;
}

export async function crashRounds(dataDir: string, rounds: number, seed = Date.now() % 1_000_000): Promise<CrashFigures> {
  const rand = rng(seed);
  const f: CrashFigures = {
    seed,
    rounds,
    startupKills: 0,
    runtimeKills: 0,
    captures202: 0,
    eventsAcknowledged: 0,
    eventsReportedInBlock: 0,
    eventsFoundAfterRestarts: 0,
    eventsOnlyInMempoolAtKill: 0,
    unreportedButFound: 0,
    maxTipReported: 0,
    finalTip: 0,
    audits: 0,
    eventReads: 0,
    transientReadErrors: 0,
    problems: [],
  };
  /** An event's view; eventOf asks again only when the node says to (429, 503 + Retry-After), never on a 500. */
  const settledEventOf = async (api: string, id: string): Promise<Awaited<ReturnType<typeof eventOf>>> => {
    const ev = await eventOf(api, id);
    f.eventReads++;
    f.transientReadErrors += ev.retries;
    return ev;
  };
  /** eventId → block hash the node reported it in. */
  const inBlock = new Map<string, string>();
  const acked = new Set<string>();
  const audit = async (when: string): Promise<void> => {
    const a = await runCli(['audit', '--data', dataDir], { timeoutMs: 120_000 });
    f.audits++;
    if (a.code !== 0) f.problems.push(`audit after ${when}: ${a.stdout}${a.stderr}`);
  };

  for (let round = 0; round < rounds; round++) {
    if (round > 0 && rand() < 0.35) {
      // Scenario 2: kill during start-up (0 – 1.5 s covers every stage on this machine).
      await killDuringStartup(dataDir, Math.floor(rand() * 1500));
      f.startupKills++;
      await audit(`start-up kill in round ${round}`);
    }
    const node = await startNode(FAST, { dataDir });
    // The restart must be clean and nothing reported may be missing (once the node says it is healthy).
    await waitFor('healthy', async () => (await node.get('/health')).status === 200, 30_000, 200);
    // tipOf throws unless the node answers a numeric height: a tip that cannot be read fails the run.
    const tip = await tipOf(node.api);
    if (tip.height < f.maxTipReported) f.problems.push(`round ${round}: tip ${tip.height} below reported ${f.maxTipReported}`);
    for (const [id, hash] of inBlock) {
      const ev = await settledEventOf(node.api, id);
      if (ev.block?.hash !== hash) {
        if (f.problems.length < 30) f.problems.push(`round ${round}: event ${id} was in ${hash}, now ${ev.status} ${JSON.stringify(ev.block)} (tip ${tip.height} ${tip.hash})`);
        else if (f.problems.length === 30) f.problems.push('… more');
      }
    }
    const token = await tokenOf(dataDir);
    let stop = false;
    /** The watcher stops before the kill: its reads retry while a node is busy, and a dead one would hold it 30 s. */
    let stopWatch = false;
    /** txId → event IDs of this round's acknowledged captures not yet seen in a block. */
    const pending = new Map<string, string[]>();
    let seenHeight = tip.height;
    const burst = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await capture(node.api, token, commissionDoc('cr', 1 + Math.floor(rand() * 4)), 3_000);
          if (r.status === 202) {
            f.captures202++;
            for (const id of r.body?.eventIds ?? []) acked.add(id);
            if (r.body?.txId) pending.set(r.body.txId, r.body.eventIds ?? []);
          }
        } catch {
          // killed mid-request: not acknowledged
        }
      }
    };
    const watch = async (): Promise<void> => {
      while (!stopWatch) {
        try {
          const t = await tipOf(node.api);
          while (typeof t.height === 'number' && seenHeight < t.height) {
            const b = await blockTxs(node.api, seenHeight + 1);
            if (!b) break;
            for (const txId of b.txIds) {
              for (const id of pending.get(txId) ?? []) inBlock.set(id, b.hash);
              pending.delete(txId);
            }
            seenHeight++;
            f.maxTipReported = Math.max(f.maxTipReported, seenHeight);
          }
        } catch {
          // killed
        }
        await sleep(50);
      }
    };
    const watching = watch();
    const loops = [burst(), burst()];
    await sleep(300 + Math.floor(rand() * 2200));
    stopWatch = true;
    await watching;
    await node.kill('SIGKILL');
    f.runtimeKills++;
    stop = true;
    await Promise.all(loops);
    for (const ids of pending.values()) f.eventsOnlyInMempoolAtKill += ids.length;
    await audit(`runtime kill in round ${round}`);
  }
  // Final restart: everything reported is there.
  const node = await startNode(FAST.concat(['--no-mine']), { dataDir });
  try {
    const tip = await tipOf(node.api); // throws unless a numeric height: fails closed
    f.finalTip = tip.height;
    if (tip.height < f.maxTipReported) f.problems.push(`final tip ${tip.height} below reported ${f.maxTipReported}`);
    for (const [id, hash] of inBlock) {
      const ev = await settledEventOf(node.api, id);
      if (ev.block?.hash === hash) f.eventsFoundAfterRestarts++;
      else f.problems.push(`final: event ${id} was in ${hash}, now ${JSON.stringify(ev.block)} (HTTP ${ev.status})`);
    }
    for (const id of acked) if (!inBlock.has(id) && (await eventOf(node.api, id)).block) f.unreportedButFound++;
  } finally {
    await node.kill();
  }
  await waitFor('process gone', async () => true);
  f.eventsAcknowledged = acked.size;
  f.eventsReportedInBlock = inBlock.size;
  return f;
}

/** Start-up stages in the order a node logs them (`msg` of its pino line). */
export const STARTUP_STAGES = [
  'created a one-member dev consortium',
  'new chain store',
  'genesis stored',
  'chain store open',
  'chain loaded',
  'node started',
  'sealed block',
] as const;

export interface StageKillFigures {
  /** Stages a SIGKILL landed on, in order. */
  killedAt: string[];
  audits: number;
  problems: string[];
  finalTip: number;
  eventMined: boolean;
}

/**
 * Start the node and SIGKILL it the moment it logs `stage` (synchronously in the stdout
 * handler, so the kill lands right after that step, before the next). Resolves whether the
 * stage was reached before the node got past it or exited.
 */
async function killAtStage(dataDir: string, stage: string, timeoutMs = 30_000): Promise<boolean> {
  const proc = spawn(process.execPath, [BIN, 'start', '--data', dataDir, '--api', '127.0.0.1:0', ...FAST], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let hit = false;
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    if (hit) return;
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.includes(`"msg":"${stage}"`)) {
        hit = true;
        proc.kill('SIGKILL');
        return;
      }
    }
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
  return hit;
}

/**
 * Scenario 2, stage by stage: on a fresh data dir, kill the node at each start-up stage in
 * turn (the first stages happen only on a first start, so each kill leaves the next start a
 * little further on), auditing the store after every kill once it holds a genesis. Then a
 * clean start must mine and record a captured event.
 */
export async function stageKills(dataDir: string): Promise<StageKillFigures> {
  const f: StageKillFigures = { killedAt: [], audits: 0, problems: [], finalTip: 0, eventMined: false };
  for (const stage of STARTUP_STAGES) {
    const hit = await killAtStage(dataDir, stage);
    if (!hit) {
      f.problems.push(`the node never logged "${stage}" (or exited first)`);
      continue;
    }
    f.killedAt.push(stage);
    if (STARTUP_STAGES.indexOf(stage) >= STARTUP_STAGES.indexOf('genesis stored')) {
      const r = await runCli(['audit', '--data', dataDir, '--json']);
      f.audits++;
      if (r.code !== 0) f.problems.push(`audit after a kill at "${stage}": exit ${r.code} ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`);
    }
  }
  const node = await startNode(FAST, { dataDir });
  try {
    const r = await capture(node.api, await tokenOf(dataDir), commissionDoc('stage', 1));
    if (r.status !== 202) f.problems.push(`capture after the stage kills answered ${r.status}`);
    const id = r.body?.eventIds?.[0];
    if (id !== undefined) {
      await waitFor('the event mined after the stage kills', async () => (await eventOf(node.api, id)).block, 30_000, 100).then(
        () => (f.eventMined = true),
        (err: unknown) => f.problems.push((err as Error).message),
      );
    }
    f.finalTip = (await tipOf(node.api)).height;
  } finally {
    await node.kill();
  }
  const r = await runCli(['audit', '--data', dataDir, '--json']);
  f.audits++;
  if (r.code !== 0) f.problems.push(`final audit: exit ${r.code}`);
  return f;
}
