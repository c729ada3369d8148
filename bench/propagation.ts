/**
 * `tracechain bench propagation`: how fast a block and a tx reach every node.
 *
 * Five node processes on loopback (each the node's chain, store, worker-pool tx verifier and
 * network service), fully meshed as a consortium would be. Node 0 seals blocks (easy target:
 * sealing costs a couple of hashes, so mining does not compete for the CPU) and captures
 * events into txs, one at a time with a short pause; every node reports, on one clock, when it
 * connected the block or admitted the tx. Latency = that time minus the moment node 0 gossiped
 * it. Reported per delivery (one node) and per item to all nodes (the slowest node), p50/p99.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConsortium, type FromNode } from './p2p-common.js';
import { percentile, round } from './support.js';
import { BenchNodeProc, until } from './p2p-cluster.js';
import { DEFAULT_SYNC_OPTIONS } from '../src/p2p/sync.js';

export interface PropagationOptions {
  nodes: number;
  blocks: number;
  txs: number;
  /** Pause between two items, ms. */
  gapMs: number;
  onProgress?: (done: number, total: number) => void;
  /** Each item's latencies, ms, per node, as measured. */
  onItem?: (kind: 'block' | 'tx', latenciesMs: number[]) => void;
}

export const DEFAULT_PROPAGATION: PropagationOptions = { nodes: 5, blocks: 60, txs: 150, gapMs: 50 };

export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface PropagationReport {
  nodes: number;
  block: { toEachNode: LatencyStats; toAllNodes: LatencyStats };
  tx: { toEachNode: LatencyStats; toAllNodes: LatencyStats };
  /** Target: p99 to all nodes below this, ms. */
  targetP99Ms: number;
  meetsTarget: boolean;
}

function stats(values: number[]): LatencyStats {
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1] ?? Number.NaN) };
}

export async function benchPropagation(partial: Partial<PropagationOptions> = {}): Promise<PropagationReport> {
  const opts = { ...DEFAULT_PROPAGATION, ...partial };
  const root = await mkdtemp(join(tmpdir(), 'tracechain-bench-prop-'));
  const procs: BenchNodeProc[] = [];
  try {
    const c = await benchConsortium(root, opts.nodes, opts.blocks + 100);
    // Start in order, each dialling every node before it: a full mesh.
    const addresses: string[] = [];
    for (const [i, dir] of c.dirs.entries()) {
      const p = new BenchNodeProc(`node-${i}`);
      procs.push(p);
      const ready = await p.request({ type: 'init', dir, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [...addresses], statusIntervalMs: DEFAULT_SYNC_OPTIONS.statusIntervalMs, reportBlocks: true }, 'ready', 60_000);
      addresses.push(...ready.addresses);
    }
    const others = opts.nodes - 1;
    await until(
      'a full mesh with gossip subscriptions',
      async () => {
        const s = await Promise.all(procs.map((p) => p.request({ type: 'status' }, 'status')));
        return s.every((x) => x.peers === others && x.topicPeers.block === others && x.topicPeers.tx === others);
      },
      60_000,
      200,
    );

    // Arrival times per item and node (bounded by the item counts).
    const arrivals = new Map<string, Map<number, number>>();
    procs.forEach((p, i) => {
      p.on('message', (m: FromNode) => {
        if (i === 0) return;
        let key: string;
        if (m.type === 'block') key = `b:${m.hash}`;
        else if (m.type === 'tx' && m.origin === 'gossip') key = `t:${m.id}`;
        else return;
        let per = arrivals.get(key);
        if (!per) arrivals.set(key, (per = new Map()));
        if (!per.has(i)) per.set(i, m.t);
      });
    });
    const origin = procs[0] as BenchNodeProc;
    const total = opts.blocks + opts.txs;
    const each = { block: [] as number[], tx: [] as number[] };
    const all = { block: [] as number[], tx: [] as number[] };
    const measure = async (kind: 'block' | 'tx', key: string, t0: number): Promise<void> => {
      await until(`${kind} ${key} at every node`, () => (arrivals.get(key)?.size ?? 0) === others, 10_000, 2);
      const per = [...(arrivals.get(key) as Map<number, number>).values()].map((t) => t - t0);
      opts.onItem?.(kind, per);
      each[kind].push(...per);
      all[kind].push(Math.max(...per));
      arrivals.delete(key);
    };
    let done = 0;
    for (let k = 0; k < opts.blocks; k++) {
      const r = await origin.request({ type: 'seal' }, 'sealed');
      await measure('block', `b:${r.hash}`, r.t);
      opts.onProgress?.(++done, total);
      await new Promise((res) => setTimeout(res, opts.gapMs));
    }
    for (let k = 0; k < opts.txs; k++) {
      // t0: the moment node 0 admitted its own tx and handed it to gossip.
      let t0 = 0;
      const onLocal = (m: FromNode): void => {
        if (m.type === 'tx' && m.origin === 'local') t0 = m.t;
      };
      origin.on('message', onLocal);
      const r = await origin.request({ type: 'tx' }, 'txSent');
      origin.off('message', onLocal);
      await measure('tx', `t:${r.id}`, t0 || r.t);
      opts.onProgress?.(++done, total);
      await new Promise((res) => setTimeout(res, opts.gapMs));
    }
    const report: PropagationReport = {
      nodes: opts.nodes,
      block: { toEachNode: stats(each.block), toAllNodes: stats(all.block) },
      tx: { toEachNode: stats(each.tx), toAllNodes: stats(all.tx) },
      targetP99Ms: 250,
      meetsTarget: false,
    };
    report.meetsTarget = report.block.toAllNodes.p99 < 250 && report.tx.toAllNodes.p99 < 250;
    return report;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await rm(root, { recursive: true, force: true });
  }
}

export function formatPropagationTable(r: PropagationReport): string {
  const row = (what: string, s: LatencyStats): string => `${what.padEnd(22)} ${String(s.count).padStart(6)} ${String(s.p50).padStart(9)} ${String(s.p99).padStart(9)} ${String(s.max).padStart(9)}`;
  return [
    `propagation on ${r.nodes} nodes (loopback; ms from gossip at node 0 to import at the others)`,
    `${'item'.padEnd(22)} ${'count'.padStart(6)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'max ms'.padStart(9)}`,
    row('block, to each node', r.block.toEachNode),
    row('block, to all nodes', r.block.toAllNodes),
    row('tx, to each node', r.tx.toEachNode),
    row('tx, to all nodes', r.tx.toAllNodes),
    `target p99 to all nodes < ${r.targetP99Ms} ms: ${r.meetsTarget ? 'met' : 'NOT met'}`,
  ].join('\n');
}
