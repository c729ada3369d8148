/**
 * A discrete-event model of block gossip among many members (docs/scale.md, Members): how long a
 * block takes to reach every node of a gossipsub mesh of N peers, when each node imports the
 * block before it forwards it (p2p/gossip.ts: a block is ACCEPTed once imported) and then sends it
 * to its mesh peers one after another through its uplink.
 *
 * What it models: a random mesh of degree `degree` (gossipsub's D; each node links to D peers
 * chosen at random, links are both ways, so degrees run from D up to ~2D, capped at `degreeHigh`,
 * gossipsub's D_high), a per-hop import time `importMs(events)`, an uplink of `uplinkMbps` shared
 * by the sends of one node, and a one-way latency `latencyMs`. What it leaves out: gossipsub's
 * lazy gossip (IHAVE/IWANT: it only ever adds later copies), flood publishing by the origin,
 * IDONTWANT, and the CPU a node spends on duplicates. Deterministic for a seed.
 *
 * Calibrated on `tracechain bench propagation` (5 nodes on loopback, near-empty blocks, block to
 * all p50 14–25 ms: one hop, so `importBaseMs` = 15) and on the committed capture rate of
 * `bench ingest` (~10,000 events/s per node: `importPerEventMs` = 0.1).
 *
 * Run: `node dist/bench/gossip-model.js [--json]` prints the table docs/scale.md quotes.
 */
import { fileURLToPath } from 'node:url';

export interface GossipModelParams {
  peers: number;
  degree: number;
  degreeHigh: number;
  /** Events in the block (what its import costs). */
  events: number;
  /** The block's size on the wire. */
  blockBytes: number;
  importBaseMs: number;
  importPerEventMs: number;
  /**
   * Forward only once the block is imported (today: gossip ACCEPTs a block after its import), or
   * after `headerCheckMs` of cheap checks (header, PoW, sealer signature, merkle root) with the
   * import running after (a design change: docs/scale.md).
   */
  forwardAfterImport: boolean;
  headerCheckMs: number;
  uplinkMbps: number;
  latencyMs: number;
}

export interface GossipModelResult {
  peers: number;
  trials: number;
  /** Time from the origin's publish to the last node having imported (connected) the block, over trials. */
  allP50Ms: number;
  allP99Ms: number;
  /** Hops on the path that reached the last node (median over trials). */
  hopsP50: number;
  /** Bytes one node uploads per block (mean over nodes and trials). */
  uplinkBytesPerNode: number;
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random mesh: each node links to `degree` others (both ways), no node above `degreeHigh` links. */
export function randomMesh(peers: number, degree: number, degreeHigh: number, random: () => number): number[][] {
  const links: Set<number>[] = Array.from({ length: peers }, () => new Set<number>());
  const want = Math.min(degree, peers - 1);
  for (let u = 0; u < peers; u++) {
    let tries = 0;
    while ((links[u] as Set<number>).size < want && tries++ < 50 * peers) {
      const v = Math.floor(random() * peers);
      if (v === u || (links[u] as Set<number>).has(v) || (links[v] as Set<number>).size >= degreeHigh) continue;
      (links[u] as Set<number>).add(v);
      (links[v] as Set<number>).add(u);
    }
  }
  return links.map((s) => [...s]);
}

/** A binary min-heap of (time, node, hops). */
class Heap {
  private readonly items: [number, number, number][] = [];
  get size(): number {
    return this.items.length;
  }
  push(item: [number, number, number]): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as [number, number, number])[0] <= item[0]) break;
      a[i] = a[p] as [number, number, number];
      i = p;
    }
    a[i] = item;
  }
  pop(): [number, number, number] {
    const a = this.items;
    const top = a[0] as [number, number, number];
    const last = a.pop() as [number, number, number];
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as [number, number, number])[0] < (a[l] as [number, number, number])[0] ? r : l;
        if ((a[c] as [number, number, number])[0] >= last[0]) break;
        a[i] = a[c] as [number, number, number];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * One block from `origin` over `mesh`: each node's first arrival time (the block's bytes are in;
 * it has the block once it has imported it, importMs later), and the hops it took.
 * A node imports the block (importMs), then sends it to each mesh peer but the one it came from,
 * in a random order, each send taking blockBytes over its uplink, plus the link's latency.
 */
export function spread(mesh: readonly (readonly number[])[], origin: number, p: GossipModelParams, random: () => number): { origin: number; arrival: Float64Array; hops: Int32Array; sends: number } {
  const n = mesh.length;
  const arrival = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const hops = new Int32Array(n).fill(-1);
  const from = new Int32Array(n).fill(-1);
  const importMs = p.importBaseMs + p.importPerEventMs * p.events;
  const forwardMs = p.forwardAfterImport ? importMs : p.headerCheckMs;
  const sendMs = (p.blockBytes * 8) / (p.uplinkMbps * 1e3);
  const heap = new Heap();
  const done = new Uint8Array(n);
  let sends = 0;
  arrival[origin] = 0;
  hops[origin] = 0;
  heap.push([0, origin, 0]);
  while (heap.size > 0) {
    const [t, u, h] = heap.pop();
    if (done[u]) continue;
    done[u] = 1;
    // The origin has imported its own block: it sends at once; the others check (or import) first.
    const ready = u === origin ? t : t + forwardMs;
    const peers = (mesh[u] as readonly number[]).filter((v) => v !== from[u]);
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [peers[i], peers[j]] = [peers[j] as number, peers[i] as number];
    }
    peers.forEach((v, k) => {
      sends++;
      const at = ready + (k + 1) * sendMs + p.latencyMs;
      if (at < (arrival[v] as number)) {
        arrival[v] = at;
        hops[v] = h + 1;
        from[v] = u;
        heap.push([at, v, h + 1]);
      }
    });
  }
  return { origin, arrival, hops, sends };
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] as number;
}

/** `trials` blocks from random origins, a new random mesh every 10 trials. */
export function runGossipModel(p: GossipModelParams, trials: number, seed: number): GossipModelResult {
  const random = seededRandom(seed);
  const all: number[] = [];
  const lastHops: number[] = [];
  let sends = 0;
  let mesh: number[][] = [];
  for (let t = 0; t < trials; t++) {
    if (t % 10 === 0) mesh = randomMesh(p.peers, p.degree, p.degreeHigh, random);
    const r = spread(mesh, Math.floor(random() * p.peers), p, random);
    const importMs = p.importBaseMs + p.importPerEventMs * p.events;
    let worst = 0;
    let worstAt = 0;
    r.arrival.forEach((arrived, i) => {
      const a = i === r.origin ? 0 : arrived + importMs;
      if (a > worst) {
        worst = a;
        worstAt = i;
      }
    });
    all.push(worst);
    lastHops.push(r.hops[worstAt] as number);
    sends += r.sends;
  }
  all.sort((a, b) => a - b);
  lastHops.sort((a, b) => a - b);
  return {
    peers: p.peers,
    trials,
    allP50Ms: Math.round(percentile(all, 50) * 10) / 10,
    allP99Ms: Math.round(percentile(all, 99) * 10) / 10,
    hopsP50: percentile(lastHops, 50),
    uplinkBytesPerNode: Math.round((sends / trials / p.peers) * p.blockBytes),
  };
}

/** The scenarios docs/scale.md reports. */
export function scenarios(): { label: string; params: Omit<GossipModelParams, 'peers'> }[] {
  const base = { degree: 6, degreeHigh: 12, importBaseMs: 15, importPerEventMs: 0.1, forwardAfterImport: true, headerCheckMs: 2 };
  return [
    { label: 'loopback, near-empty blocks (the calibration)', params: { ...base, events: 0, blockBytes: 2_000, uplinkMbps: 10_000, latencyMs: 0.1 } },
    { label: 'WAN, 1,000-event blocks (100 events/s at 10 s)', params: { ...base, events: 1_000, blockBytes: 460_000, uplinkMbps: 100, latencyMs: 20 } },
    { label: 'WAN, full 4 MiB blocks (~9,100 events)', params: { ...base, events: 9_100, blockBytes: 4_194_304, uplinkMbps: 100, latencyMs: 20 } },
    // Design changes (docs/scale.md): forward once the header, PoW, sealer signature and merkle
    // root are checked, import afterwards; then also relay header + tx IDs only (the txs were
    // gossiped already), so a send is ~3 KB instead of 4 MiB.
    { label: 'WAN, full 4 MiB blocks, forwarded after the header checks (imported after)', params: { ...base, forwardAfterImport: false, events: 9_100, blockBytes: 4_194_304, uplinkMbps: 100, latencyMs: 20 } },
    { label: 'WAN, the same, relayed as header + tx IDs (compact relay)', params: { ...base, forwardAfterImport: false, events: 9_100, blockBytes: 112 + 64 + 32 * 91, uplinkMbps: 100, latencyMs: 20 } },
  ];
}

export const PEER_COUNTS = [5, 20, 50, 200, 1000] as const;

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const out: { label: string; results: GossipModelResult[] }[] = [];
  for (const s of scenarios()) {
    out.push({ label: s.label, results: PEER_COUNTS.map((peers) => runGossipModel({ ...s.params, peers }, 200, 20261207)) });
  }
  if (json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  for (const s of out) {
    process.stdout.write(`\n${s.label}\n| peers | block to all p50 ms | p99 ms | hops (median) | uplink per node per block |\n| --- | --- | --- | --- | --- |\n`);
    for (const r of s.results) process.stdout.write(`| ${r.peers} | ${r.allP50Ms} | ${r.allP99Ms} | ${r.hopsP50} | ${(r.uplinkBytesPerNode / 1048576).toFixed(2)} MiB |\n`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
