/**
 * Scenarios 1 and 2: SIGKILL at random moments. Each round either kills the node during
 * start-up (at a random delay after spawn: genesis/keys, store open, chain load and recovery,
 * tx log replay, network, API) or lets it run under a capture burst and kills it at a random
 * moment (block import, batch writes, tx log appends, captures in flight). After every kill:
 * `tracechain audit` passes, the next start is clean, the tip is at least the highest tip the
 * node reported, and every event whose capture returned 202 is still there (the tx log makes a
 * 202 durable):
 * - each event acknowledged and not yet seen in a block is looked up after every restart: in the
 *   mempool or in a block, in the tx the 202 named (a 404 is a lost event);
 * - an event seen in a block stays there: every block the node reported is checked at its
 *   height after every restart (a block's events are fixed by its hash; audit checks the event
 *   index against the blocks);
 * - at the end every acknowledged event is looked up one by one, and its EPC's trace lists it
 *   at most once (never recorded twice).
 */
import { spawn } from 'node:child_process';
import { BIN, runCli, startNode, tlsArgs, waitFor } from '../helpers/node-process.js';
import { capture, captureSettled, commissionDoc, eventOf, FAST, rng, sleep, timesInTrace, tipOf, tokenOf } from './lib.js';

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
  /** Events whose capture answered 202. */
  eventsAcknowledged: number;
  eventsReportedInBlock: number;
  /** Of those, found in the same block at the end. */
  eventsFoundAfterRestarts: number;
  /** Acknowledged events not yet seen in a block when a kill came (summed over kills): what the tx log had to keep. */
  eventsOnlyInMempoolAtKill: number;
  /** Restarts × acknowledged events found pending in the mempool after that restart (replayed from the tx log). */
  eventsPendingAfterRestart: number;
  /** Acknowledged events that answered 404 at the first read after a restart and 200 within 15 s: must be 0 (each is a problem). */
  eventsLateAfterRestart: number;
  /** Acknowledged events not found (404) after a restart: must be 0. */
  eventsLostAfterKill: number;
  /** Acknowledged events found after a restart in a tx other than the one their 202 named: must be 0. */
  eventsInOtherTx: number;
  /** Acknowledged events found at the end (in a block or pending), in the tx their 202 named. */
  eventsFoundAtEnd: number;
  /** Acknowledged events listed more than once in their EPC's trace at the end: must be 0. */
  eventsRecordedTwice: number;
  maxTipReported: number;
  finalTip: number;
  audits: number;
  /** Event reads after restarts (GET /events/{id}/proof), each counted once however often it was retried. */
  eventReads: number;
  /** Answers to those reads that the node asked us to retry (429, 503 with Retry-After): load shedding, not loss. */
  transientReadErrors: number;
  problems: string[];
}

async function killDuringStartup(dataDir: string, delayMs: number): Promise<void> {
  const proc = spawn(process.execPath, [BIN, 'start', '--data', dataDir, '--api', '127.0.0.1:0', ...tlsArgs(), ...FAST], { stdio: 'ignore' });
  await sleep(delayMs);
  const exited = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
  proc.kill('SIGKILL');
  await exited;
}

interface Acked {
  txId: string;
  epc: string;
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
    eventsPendingAfterRestart: 0,
    eventsLateAfterRestart: 0,
    eventsLostAfterKill: 0,
    eventsInOtherTx: 0,
    eventsFoundAtEnd: 0,
    eventsRecordedTwice: 0,
    maxTipReported: 0,
    finalTip: 0,
    audits: 0,
    eventReads: 0,
    transientReadErrors: 0,
    problems: [],
  };
  const problem = (msg: string): void => {
    if (f.problems.length < 30) f.problems.push(msg);
    else if (f.problems.length === 30) f.problems.push('… more');
  };
  /** An event's view; eventOf asks again only when the node says to (429, 503 + Retry-After), never on a 500. */
  const settledEventOf = async (api: string, id: string): Promise<Awaited<ReturnType<typeof eventOf>>> => {
    const ev = await eventOf(api, id);
    f.eventReads++;
    f.transientReadErrors += ev.retries;
    return ev;
  };
  /** Every acknowledged event: the tx its 202 named, and its EPC. */
  const acked = new Map<string, Acked>();
  /** eventId → block hash the node reported it in. */
  const inBlock = new Map<string, string>();
  /** Height → hash of every block the node reported. */
  const reportedBlocks = new Map<number, string>();
  /** txId → event IDs of acknowledged captures not yet seen in a block (across rounds: replayed txs are mined later). */
  const pending = new Map<string, string[]>();
  const audit = async (when: string): Promise<void> => {
    const a = await runCli(['audit', '--data', dataDir], { timeoutMs: 120_000 });
    f.audits++;
    if (a.code !== 0) f.problems.push(`audit after ${when}: ${a.stdout}${a.stderr}`);
  };
  const noteInBlock = (txId: string, hash: string): void => {
    for (const id of pending.get(txId) ?? []) inBlock.set(id, hash);
    pending.delete(txId);
  };

  for (let round = 0; round < rounds; round++) {
    if (round > 0 && rand() < 0.35) {
      // Scenario 2: kill during start-up (0 – 1.5 s covers every stage on this machine).
      await killDuringStartup(dataDir, Math.floor(rand() * 1500));
      f.startupKills++;
      await audit(`start-up kill in round ${round}`);
    }
    const node = await startNode(FAST, { dataDir });
    // The restart must be clean and nothing acknowledged may be missing (once the node says it is healthy).
    await waitFor('healthy', async () => (await node.get('/health')).status === 200, 30_000, 200);
    // tipOf throws unless the node answers a numeric height: a tip that cannot be read fails the run.
    const tip = await tipOf(node.api);
    if (tip.height < f.maxTipReported) problem(`round ${round}: tip ${tip.height} below reported ${f.maxTipReported}`);
    for (const [height, hash] of reportedBlocks) {
      const b = await blockTxs(node.api, height);
      if (b?.hash !== hash) problem(`round ${round}: block ${height} was ${hash}, now ${b?.hash ?? 'missing'} (tip ${tip.height} ${tip.hash})`);
    }
    for (const [txId, ids] of [...pending]) {
      for (const id of ids) {
        let ev = await settledEventOf(node.api, id);
        if (ev.status === 404) {
          // An acknowledged event must be readable at once (pending or in a block). A read that
          // raced a block connect once answered 404 here (fixed: the lookup reads the mempool
          // before the store). Wait a bounded while only to tell late from lost: both fail.
          const until = Date.now() + 15_000;
          while (ev.status === 404 && Date.now() < until) {
            await sleep(250);
            ev = await settledEventOf(node.api, id);
          }
          if (ev.status !== 404) {
            f.eventsLateAfterRestart++;
            problem(`round ${round}: acknowledged event ${id} (tx ${txId}) answered 404 after the restart and appeared later`);
          }
        }
        if (ev.status === 404) {
          f.eventsLostAfterKill++;
          problem(`round ${round}: acknowledged event ${id} (tx ${txId}) is gone after the kill`);
        } else if (ev.status !== 200) {
          problem(`round ${round}: acknowledged event ${id} could not be checked after the restart (HTTP ${ev.status})`);
        } else if (ev.txId !== txId) {
          f.eventsInOtherTx++;
          problem(`round ${round}: acknowledged event ${id} is in tx ${ev.txId ?? '?'}, its 202 named ${txId}`);
        } else if (ev.block) {
          noteInBlock(txId, ev.block.hash);
          break; // the whole tx is in that block
        } else f.eventsPendingAfterRestart++;
      }
    }
    const token = await tokenOf(dataDir);
    let stop = false;
    /** The watcher stops before the kill: its reads retry while a node is busy, and a dead one would hold it 30 s. */
    let stopWatch = false;
    let seenHeight = tip.height;
    const burst = async (): Promise<void> => {
      while (!stop) {
        try {
          const doc = commissionDoc('cr', 1 + Math.floor(rand() * 4));
          const r = await capture(node.api, token, doc, 3_000);
          if (r.status === 202 && r.body?.txId !== undefined) {
            f.captures202++;
            const events = (doc.epcisBody as { eventList: { epcList: string[] }[] }).eventList;
            const ids = r.body.eventIds ?? [];
            ids.forEach((id, i) => acked.set(id, { txId: r.body?.txId as string, epc: events[i]?.epcList[0] as string }));
            pending.set(r.body.txId, ids);
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
            for (const txId of b.txIds) noteInBlock(txId, b.hash);
            seenHeight++;
            reportedBlocks.set(seenHeight, b.hash);
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
  // Final restart: every acknowledged event is there, once.
  const node = await startNode(FAST.concat(['--no-mine']), { dataDir });
  try {
    await waitFor('healthy', async () => (await node.get('/health')).status === 200, 30_000, 200);
    const tip = await tipOf(node.api); // throws unless a numeric height: fails closed
    f.finalTip = tip.height;
    if (tip.height < f.maxTipReported) problem(`final tip ${tip.height} below reported ${f.maxTipReported}`);
    for (const [id, a] of acked) {
      const ev = await settledEventOf(node.api, id);
      if (ev.status !== 200) {
        if (ev.status === 404) f.eventsLostAfterKill++;
        problem(`final: acknowledged event ${id} answered HTTP ${ev.status}`);
        continue;
      }
      if (ev.txId !== a.txId) {
        f.eventsInOtherTx++;
        problem(`final: event ${id} is in tx ${ev.txId ?? '?'}, its 202 named ${a.txId}`);
        continue;
      }
      f.eventsFoundAtEnd++;
      const hash = inBlock.get(id);
      if (hash !== undefined) {
        if (ev.block?.hash === hash) f.eventsFoundAfterRestarts++;
        else problem(`final: event ${id} was in ${hash}, now ${JSON.stringify(ev.block)}`);
      }
      if ((await timesInTrace(node.api, a.epc, id)) > 1) {
        f.eventsRecordedTwice++;
        problem(`final: event ${id} is listed more than once in the trace of ${a.epc}`);
      }
    }
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
  const proc = spawn(process.execPath, [BIN, 'start', '--data', dataDir, '--api', '127.0.0.1:0', ...tlsArgs(), ...FAST], { stdio: ['ignore', 'pipe', 'ignore'] });
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
    // A node just started on a loaded machine may shed the capture (503 + Retry-After, 429): asked again; any other answer counts.
    const r = await captureSettled(node.api, await tokenOf(dataDir), commissionDoc('stage', 1));
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
