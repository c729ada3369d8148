/**
 * `tracechain bench query`: /trace and /verify latency and throughput on a store of ≥ 1,000,000
 * events (default), served by a real `tracechain start --no-mine` process.
 *
 * The store is built in-process the way the chain builds any store (nothing is written around
 * Chain): capture documents are prepared and signed by the node's own capture workers
 * (validate, CBV 2.0 hash, sign: all cores) and mined into blocks at an easy difficulty
 * (powLimit, ~2 nonces a block) on a consortium whose genesis says so, each block imported by
 * Chain.importBlock (PoW, time, sealer, merkle root, duplicates, every index, item status); the
 * tx checks the workers already made are not repeated on the main thread.
 * Blocks hold 10 txs × 100 events (~1,000 events, ~0.4 MB: a 10 s block at 100 events/s).
 *
 * The data (layout 3): packs of GTIN 0614141.107346 travel in cases of 100 on pallets of 10
 * cases. Packs are commissioned 25 per document (quarter q, a case's lot and expiry); a case is
 * packed (AggregationEvent ADD, 100 children) once its four quarters are commissioned; a pallet
 * (ADD, 10 cases) once its ten cases are packed, then shipped, received and unpacked (DELETE
 * naming its cases), and its cases emptied (DELETE naming no children); then each quarter's packs
 * are shipped, received and dispensed 25 per document, 20 documents apart. A document thus holds
 * ~100 events, and a pack's /trace is 10 events in ~10 blocks: commissioning, packing, the case
 * put on the pallet, the pallet's shipping and receiving and unpacking (via the pallet), the case
 * emptied (via the case), the pack's own shipping, receiving and dispensing.
 * The built store is kept in the temp dir for the next run (--fresh rebuilds it).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Chain } from '../src/chain/chain.js';
import { Mempool } from '../src/chain/mempool.js';
import { MemberRegistry } from '../src/chain/registry.js';
import { genesisBlock, paramsForInterval } from '../src/chain/genesis.js';
import { keyId, keyIdHex, sign } from '../src/chain/keys.js';
import { blockSigningMessage, type Block } from '../src/chain/block.js';
import { encodeHeader, hashHeaderBytes, setNonce } from '../src/chain/header.js';
import { fromHex } from '../src/common/bytes.js';
import type { SignedTx } from '../src/chain/types.js';
import { TxError } from '../src/common/errors.js';
import type { TxVerifier } from '../src/chain/tx-verifier.js';
import { toHex } from '../src/common/bytes.js';
import { buildTemplate } from '../src/chain/template.js';
import { hashMeetsTarget, targetFromBits } from '../src/consensus/target.js';
import { LevelChainStore } from '../src/storage/index.js';
import { traceRules } from '../src/trace/chain-rules.js';
import { DataDir, FILES, peerIdOf } from '../src/node/data-dir.js';
import { devGenesis } from '../src/node/dev-consortium.js';
import { CapturePool } from '../src/api/capture-pool.js';
import type { CaptureOutcome } from '../src/api/capture-core.js';
import { RawHttpConnection } from './raw-http.js';
import { HttpClient, nodeMemory, percentile, round, startBenchNode } from './support.js';

export interface QueryBenchOptions {
  events: number;
  /** Concurrent clients of the throughput runs. */
  clients: number;
  /** Seconds per measured run. */
  seconds: number;
  fresh: boolean;
  /** Which measured runs (route, clients) to make; default: /trace at 1, 8 and `clients`, /verify at 1, 8 and `clients`. */
  runs?: [QueryRun['route'], number][];
  /** Where built stores are kept (default: the OS temp dir). */
  cacheDir?: string;
  onProgress?: (done: number, total: number) => void;
  log?: (message: string) => void;
}

/** Requests to the node before the measured runs. */
const WARM_UP_MS = 4_000;

export const DEFAULT_QUERY_BENCH: QueryBenchOptions = { events: 1_000_000, clients: 32, seconds: 5, fresh: false };

export interface QueryRun {
  /** `/events`: the first page of an EPCIS query by bizStep, place or a one-hour time window (the query index), in turn. */
  route: '/trace' | '/verify' | '/events';
  clients: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
}

export interface QueryReport {
  events: number;
  items: number;
  blocks: number;
  eventsPerTrace: number;
  build: { reused: boolean; seconds: number; eventsPerSecond: number; storeBytes: number };
  /** The node's resident set size after the measured runs (null: its /metrics did not say). */
  nodeRssBytes: number | null;
  /** Of it, the process's anonymous memory (Linux; null elsewhere): without the memory-mapped store files. */
  nodeRssAnonBytes: number | null;
  runs: QueryRun[];
  cores: number;
}

const TXS_PER_BLOCK = 10;
/** Packs per document and stage (a quarter of a case). */
const PER_STAGE = 25;
const QUARTERS_PER_CASE = 4;
const CASES_PER_PALLET = 10;
const QUARTERS_PER_PALLET = QUARTERS_PER_CASE * CASES_PER_PALLET;
/** Events per pallet: 4 stages × 1,000 packs, a packing and an emptying per case, 4 pallet events. */
const EVENTS_PER_PALLET = 4 * PER_STAGE * QUARTERS_PER_PALLET + 2 * CASES_PER_PALLET + 4;
// Documents after a quarter's commissioning (document q) at which its packs are shipped,
// received and dispensed; its case is packed at 4c+5, its pallet at 40p+43 (after its last case),
// then shipped (+5), received (+10), unpacked (+12) and its cases emptied (+14 = 40p+57, before
// the first quarter of the pallet ships at 40p+59).
const CASE_PACK_AT = 5;
const PALLET_PACK_AT = QUARTERS_PER_PALLET + 3;
const PALLET_STAGES = [
  [0, 'pack'],
  [5, 'ship'],
  [10, 'receive'],
  [12, 'unpack'],
  [14, 'empty cases'],
] as const;
const SHIP_AT = 59;
const STAGE_LAG = 20;
const INTERVAL_MS = 10_000;
// Bump when the stored layout changes (2: blocks stored with per-tx records, storage buckets
// blockTxs and blockTxIds; 3: packs travel in cases on pallets, store with the links index;
// 4: the compact store, schema 3: a build before it refuses such a store, so it gets its own;
// 5: store with the query index).
const LAYOUT_VERSION = 5;
const CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

function serial(item: number): string {
  return `urn:epc:id:sgtin:0614141.107346.${item + 1}`;
}

function caseSscc(c: number): string {
  return `urn:epc:id:sscc:0614141.0${String(c).padStart(9, '0')}`;
}

function palletSscc(p: number): string {
  return `urn:epc:id:sscc:0614141.1${String(p).padStart(9, '0')}`;
}

/** Document d of a store of `pallets` pallets (see the header for what goes where). */
function documentBody(d: number, pallets: number): string | undefined {
  const quarters = pallets * QUARTERS_PER_PALLET;
  const cases = pallets * CASES_PER_PALLET;
  const parts: string[] = [];
  let n = 0;
  const time = (): string => new Date(Date.UTC(2025, 0, 1) + d * 60_000 + n++ * 10).toISOString();
  const where = (s: number): string => `"bizLocation":{"id":"urn:epc:id:sgln:0614141.07346.${s}"}`;
  const packs = (q: number): string[] => Array.from({ length: PER_STAGE }, (_, i) => serial(q * PER_STAGE + i));
  const object = (epc: string, step: string, action: string, disp: string, s: number, extra = ''): string =>
    `{"type":"ObjectEvent","eventTime":"${time()}","eventTimeZoneOffset":"+00:00","epcList":["${epc}"],"action":"${action}","bizStep":"${step}","disposition":"${disp}",${where(s)}${extra}}`;
  const aggregation = (parent: string, children: string[], action: 'ADD' | 'DELETE', s: number): string =>
    `{"type":"AggregationEvent","eventTime":"${time()}","eventTimeZoneOffset":"+00:00","parentID":"${parent}","childEPCs":[${children.map((c) => `"${c}"`).join(',')}],"action":"${action}","bizStep":"${action === 'ADD' ? 'packing' : 'unpacking'}",${where(s)}}`;
  if (d < quarters) {
    const c = Math.floor(d / QUARTERS_PER_CASE);
    const ilmd = `,"ilmd":{"cbvmda:lotNumber":"L${c % 997}","cbvmda:itemExpirationDate":"2030-12-31"}`;
    for (const epc of packs(d)) parts.push(object(epc, 'commissioning', 'ADD', 'active', 0, ilmd));
  }
  const c = (d - CASE_PACK_AT) / QUARTERS_PER_CASE;
  if (Number.isInteger(c) && c >= 0 && c < cases) {
    const children = Array.from({ length: QUARTERS_PER_CASE }, (_, k) => packs(c * QUARTERS_PER_CASE + k)).flat();
    parts.push(aggregation(caseSscc(c), children, 'ADD', 4));
  }
  for (const [offset, stage] of PALLET_STAGES) {
    const p = (d - PALLET_PACK_AT - offset) / QUARTERS_PER_PALLET;
    if (!Number.isInteger(p) || p < 0 || p >= pallets) continue;
    const palletCases = Array.from({ length: CASES_PER_PALLET }, (_, k) => caseSscc(p * CASES_PER_PALLET + k));
    if (stage === 'pack') parts.push(aggregation(palletSscc(p), palletCases, 'ADD', 4));
    else if (stage === 'ship') parts.push(object(palletSscc(p), 'shipping', 'OBSERVE', 'in_transit', 1));
    else if (stage === 'receive') parts.push(object(palletSscc(p), 'receiving', 'OBSERVE', 'in_progress', 2));
    else if (stage === 'unpack') parts.push(aggregation(palletSscc(p), palletCases, 'DELETE', 2));
    else for (const cs of palletCases) parts.push(aggregation(cs, [], 'DELETE', 2));
  }
  const stages = [
    ['shipping', 'in_transit', 1, SHIP_AT],
    ['receiving', 'in_progress', 2, SHIP_AT + STAGE_LAG],
    ['dispensing', 'dispensed', 3, SHIP_AT + 2 * STAGE_LAG],
  ] as const;
  for (const [step, disp, s, lag] of stages) {
    const q = d - lag;
    if (q < 0 || q >= quarters) continue;
    for (const epc of packs(q)) parts.push(object(epc, step, 'OBSERVE', disp, s));
  }
  if (parts.length === 0) return undefined;
  return `{"@context":["${CONTEXT}"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[${parts.join(',')}]}}`;
}

/** Pallets, documents and packs for a target event count (the last documents close the lifecycles). */
function plan(events: number): { pallets: number; docs: number; items: number } {
  const pallets = Math.max(1, Math.ceil(events / EVENTS_PER_PALLET));
  const quarters = pallets * QUARTERS_PER_PALLET;
  return { pallets, docs: quarters + SHIP_AT + 2 * STAGE_LAG, items: quarters * PER_STAGE };
}

interface Prepared {
  tx: SignedTx;
  id: Uint8Array;
  /** The signed tx's canonical JSON, as the capture worker made it. */
  canonical: string;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

interface Meta {
  v: number;
  events: number;
  items: number;
  blocks: number;
  buildSeconds: number;
}

async function buildStore(dir: string, target: number, log: (m: string) => void, progress: (d: number, t: number) => void): Promise<Meta> {
  await rm(dir, { recursive: true, force: true });
  const data = new DataDir(dir);
  await data.ensure();
  const key = await data.createMemberKey();
  const peerKey = await data.createPeerKey();
  await data.createApiToken();
  const { pallets, docs, items } = plan(target);
  const blocksNeeded = Math.ceil(docs / TXS_PER_BLOCK) + 10;
  const params = { ...paramsForInterval(INTERVAL_MS), powLimitBits: 0x207fffff, genesisBits: 0x207fffff };
  const genesisTime = Date.now() - (blocksNeeded + 100) * INTERVAL_MS;
  const genesis = devGenesis(key, await peerIdOf(peerKey), genesisTime, params);
  genesis.name = 'tracechain bench query';
  await data.writeGenesis(genesis);
  const logger = pino({ level: 'warn' });
  const store = await LevelChainStore.open(data.file(FILES.chain));
  const registry = MemberRegistry.fromGenesis(genesis);
  const chainId = genesisBlock(genesis).hashHex;
  const rules = traceRules();
  // The txs were validated (EPCIS schema and rules, CBV 2.0 IDs, role rules) and signed by the
  // node's capture workers in this process: the block import accepts exactly those tx IDs and
  // checks everything else as usual (PoW, time, sealer, merkle root, duplicates, indexes, status).
  const prepared = new Set<string>();
  const verifier: TxVerifier = {
    verify: async (txs, ids) => txs.map((tx, i) => (prepared.has(toHex(ids?.[i] ?? new Uint8Array())) ? null : new TxError('BAD_SIGNATURE', 'not a tx this bench prepared'))),
    setRegistry: () => undefined,
    close: async () => undefined,
  };
  const chain = await Chain.open({ genesis }, { store, rules, verifier, mempool: new Mempool({ maxTxs: 1, maxBytes: 1 }), clock: Date.now, logger });
  const member = registry.get(keyIdHex(key.publicKey));
  if (member === undefined) throw new Error('bench member missing from its own genesis');
  const workers = Math.max(1, availableParallelism());
  const pool = await CapturePool.start(
    { workers, maxQueue: 1_000_000 },
    { member, secretKey: key.secretKey, chainId, maxTxBytes: params.maxTxBytes, maxEventsPerTx: params.maxEventsPerTx },
    logger,
  );
  const sealer = keyId(key.publicKey);
  const t0 = performance.now();
  let events = 0;
  let blocks = 0;
  const mine = async (batch: Prepared[]): Promise<void> => {
    const tip = chain.tip;
    const template = buildTemplate({ parent: tip, mtp: chain.medianTimePast(tip), bits: chain.nextBitsAfter(tip), now: tip.time + INTERVAL_MS, sealer, txs: batch });
    const headerBytes = encodeHeader(template.header);
    const target = targetFromBits(template.header.bits);
    let nonce = 0n;
    for (; ; nonce++) {
      setNonce(headerBytes, nonce);
      if (hashMeetsTarget(hashHeaderBytes(headerBytes), target)) break;
    }
    const hash = hashHeaderBytes(headerBytes);
    const signature = sign(key.secretKey, blockSigningMessage(hash));
    // The block's bytes straight from the canonical tx strings the workers produced.
    const txBytes = batch.map((t) => Buffer.from(t.canonical, 'utf8'));
    const bytes = Buffer.concat([headerBytes, signature, u32(batch.length), ...txBytes.flatMap((b) => [u32(b.length), b])]);
    const block: Block = {
      header: { ...template.header, nonce },
      headerBytes,
      hash,
      hashHex: toHex(hash),
      signature,
      txs: template.txs,
      txIds: template.txIds,
      txBytes: txBytes.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
      size: bytes.length,
    };
    await chain.importBlock(block, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    for (const t of batch) prepared.delete(toHex(t.id));
    blocks++;
  };
  try {
    // A window of documents in the capture workers; admitted in document order.
    const WINDOW = workers * 32;
    const inflight: Promise<CaptureOutcome>[] = [];
    let nextDoc = 0;
    const feed = (): void => {
      while (inflight.length < WINDOW && nextDoc < docs) {
        const body = documentBody(nextDoc++, pallets);
        if (body !== undefined) inflight.push(pool.prepare(Buffer.from(body), genesisTime + nextDoc));
      }
    };
    feed();
    let admitted = 0;
    const batch: Prepared[] = [];
    let lastLog = performance.now();
    while (inflight.length > 0) {
      const outcome = await (inflight.shift() as Promise<CaptureOutcome>);
      feed();
      if (!outcome.ok) throw new Error(`bench document refused: ${JSON.stringify(outcome.problem).slice(0, 500)}`);
      prepared.add(outcome.txId);
      batch.push({ tx: JSON.parse(outcome.tx) as SignedTx, id: fromHex(outcome.txId, 32), canonical: outcome.tx });
      events += outcome.eventIds.length;
      admitted++;
      if (batch.length === TXS_PER_BLOCK) await mine(batch.splice(0));
      progress(admitted, docs);
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`bench query: building the store: ${events} events in ${blocks} blocks (${Math.round(events / ((lastLog - t0) / 1000))} events/s)`);
      }
    }
    if (batch.length > 0) await mine(batch.splice(0));
  } finally {
    await pool.close();
    await chain.close();
    await store.close();
  }
  const meta: Meta = { v: LAYOUT_VERSION, events, items, blocks, buildSeconds: (performance.now() - t0) / 1000 };
  await writeFile(join(dir, 'bench-meta.json'), JSON.stringify(meta));
  return meta;
}

/** The data's bizSteps and places (documentBody), and its documents' times: a minute apart from 2025-01-01. */
const QUERY_STEPS = ['commissioning', 'packing', 'shipping', 'receiving', 'dispensing'];
const DATA_MINUTES = 9_000;

/** The first page of one of the indexed queries, chosen by `n`: by bizStep, by place, by a one-hour window, by both a step and a window. */
function eventsQuery(n: number): string {
  const window = (): string => {
    const from = Date.UTC(2025, 0, 1) + (n % DATA_MINUTES) * 60_000;
    return `GE_eventTime=${new Date(from).toISOString()}&LT_eventTime=${new Date(from + 3_600_000).toISOString()}`;
  };
  switch (n % 4) {
    case 0:
      return `/events?EQ_bizStep=${QUERY_STEPS[Math.floor(n / 4) % QUERY_STEPS.length] as string}`;
    case 1:
      return `/events?EQ_bizLocation=${encodeURIComponent(`urn:epc:id:sgln:0614141.07346.${Math.floor(n / 4) % 5}`)}`;
    case 2:
      return `/events?${window()}`;
    default:
      return `/events?EQ_bizStep=shipping&${window()}`;
  }
}

/**
 * One measured run: `clients` loops, each with its own keep-alive connection (RawHttpConnection:
 * answers are counted to the last byte but neither kept nor decoded, and reading them allocates
 * nothing, so the bench times the node rather than its own garbage collector).
 */
async function run(api: URL, route: QueryRun['route'], clients: number, seconds: number, items: number, progress: () => void): Promise<QueryRun> {
  const conns = await Promise.all(Array.from({ length: clients }, () => RawHttpConnection.open(api.hostname, Number(api.port))));
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const pathFor = (item: number): string => {
    const urn = serial(item);
    if (route === '/trace') return `/trace/${encodeURIComponent(urn)}`;
    if (route === '/events') return eventsQuery(item);
    // Half by URN, half by Digital Link: both resolve to the same item key.
    return item % 2 === 0 ? `/verify?id=${encodeURIComponent(urn)}` : `/verify?id=${encodeURIComponent(`https://id.gs1.org/01/10614141073464/21/${item + 1}`)}`;
  };
  const t0 = performance.now();
  const ticker = setInterval(progress, 250);
  await Promise.all(
    conns.map(async (conn) => {
      while (performance.now() < end) {
        const item = Math.floor(Math.random() * items);
        const a = performance.now();
        const r = await conn.get(pathFor(item));
        latencies.push(performance.now() - a);
        if (r.status !== 200) {
          errors++;
          if (errors <= 3) process.stderr.write(`bench query: ${route} answered ${r.status}: ${(r.error ?? '').slice(0, 200)}\n`);
        }
      }
    }),
  );
  clearInterval(ticker);
  for (const c of conns) c.close();
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  return {
    route,
    clients,
    requests: latencies.length,
    requestsPerSecond: Math.round(latencies.length / secs),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    maxMs: round(latencies[latencies.length - 1] ?? Number.NaN, 1),
    errors,
  };
}

/** Where the bench keeps its store of `events` events (a stopped node's data directory, once built). */
export function queryStoreDir(events: number, cacheDir?: string): string {
  return join(cacheDir ?? tmpdir(), `tracechain-bench-query-${events}-v${LAYOUT_VERSION}`);
}

export async function benchQuery(partial: Partial<QueryBenchOptions> = {}): Promise<QueryReport> {
  const opts: QueryBenchOptions = { ...DEFAULT_QUERY_BENCH, ...partial };
  const log = opts.log ?? (() => undefined);
  const dir = queryStoreDir(opts.events, opts.cacheDir);
  let meta: Meta | undefined;
  let reused = false;
  if (!opts.fresh && existsSync(join(dir, 'bench-meta.json'))) {
    meta = JSON.parse(await readFile(join(dir, 'bench-meta.json'), 'utf8')) as Meta;
    reused = meta.v === LAYOUT_VERSION;
    if (!reused) meta = undefined;
  }
  const runs: [QueryRun['route'], number][] = opts.runs ?? [
    ['/trace', 1],
    ['/trace', 8],
    ['/verify', 1],
    ['/verify', 8],
    ['/verify', opts.clients],
    ['/trace', opts.clients],
    ['/events', 1],
    ['/events', 8],
  ];
  const runMs = runs.length * opts.seconds * 1000;
  let done = 0;
  if (meta === undefined) {
    log(`bench query: building a store of ${opts.events} events in ${dir} (kept for the next run; --fresh rebuilds)`);
    await mkdir(dir, { recursive: true });
    meta = await buildStore(dir, opts.events, log, (d, t) => opts.onProgress?.(d, t + runMs / 1000));
  }
  const m = meta;
  const store = await LevelChainStore.open(join(dir, FILES.chain));
  const storeBytes = await store.approximateSize();
  await store.close();
  const config = join(dir, 'bench-config.json');
  // TRACECHAIN_BENCH_API_CONFIG: more of the node's api settings as JSON (e.g. '{"blockCacheBytes":0}'), to compare settings.
  let apiExtra: Record<string, unknown>;
  try {
    apiExtra = JSON.parse(process.env.TRACECHAIN_BENCH_API_CONFIG ?? '{}') as Record<string, unknown>;
  } catch (err) {
    throw new Error(`TRACECHAIN_BENCH_API_CONFIG is not JSON: ${(err as Error).message}`);
  }
  await writeFile(config, JSON.stringify({ api: { ...apiExtra, rateLimit: { writeMax: 1000, readMax: 100_000_000, timeWindowMs: 10_000 } } }));
  // A store of an older build gets its query index built before the node listens: minutes at 1M events.
  const node = await startBenchNode(['--data', dir, '--no-mine', '--config', config], 900_000);
  // Measure a node that has finished starting: its background fill of the event-ID filter (a few
  // seconds of store reads at 1M events) would otherwise overlap the first measured run.
  if (!(await node.logged('event filter ready', 120_000))) log('bench query: the node did not report its event filter ready within 120 s; measuring anyway');
  const maxClients = Math.max(...runs.map((r) => r[1])) + 2;
  const http = new HttpClient(node.api, maxClients);
  try {
    // Warm-up, as any serving node is warm: schema compilation, the JIT's optimised code for the
    // read paths (compiled on background threads that share the 2 cores), the proof-material
    // cache. A few hundred requests were not enough: the first measured seconds then ran slower.
    const api = new URL(node.api);
    const warm = await RawHttpConnection.open(api.hostname, Number(api.port));
    const warmUntil = performance.now() + WARM_UP_MS;
    try {
      for (let i = 0; performance.now() < warmUntil; i++) {
        const item = Math.floor(Math.random() * m.items);
        const r = await warm.get(i % 4 === 0 ? `/verify?id=${encodeURIComponent(serial(item))}` : `/trace/${encodeURIComponent(serial(item))}`);
        if (r.status !== 200) throw new Error(`bench query: warm-up request answered ${r.status}: ${(r.error ?? '').slice(0, 200)}`);
      }
    } finally {
      warm.close();
    }
    const sample = JSON.parse((await http.request('GET', `/trace/${encodeURIComponent(serial(Math.floor(m.items / 2)))}`)).body) as { events: unknown[] };
    const out: QueryRun[] = [];
    for (const [route, clients] of runs) {
      out.push(await run(api, route, clients, opts.seconds, m.items, () => opts.onProgress?.((done += 250) / 1000, runMs / 1000)));
    }
    const memory = await nodeMemory(node, http);
    return {
      nodeRssBytes: memory.rssBytes,
      nodeRssAnonBytes: memory.anonBytes,
      events: m.events,
      items: m.items,
      blocks: m.blocks,
      eventsPerTrace: sample.events.length,
      build: { reused, seconds: round(m.buildSeconds, 1), eventsPerSecond: Math.round(m.events / m.buildSeconds), storeBytes },
      runs: out,
      cores: availableParallelism(),
    };
  } finally {
    http.close();
    await node.stop();
  }
}

export function formatQueryTable(r: QueryReport): string {
  const rows = [
    ['route', 'clients', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
    ...r.runs.map((x) => [x.route, x.clients, x.requests, x.requestsPerSecond, x.p50Ms, x.p99Ms, x.maxMs, x.errors].map(String)),
  ];
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  const lines = rows.map((row) => row.map((c, i) => c.padStart(widths[i] as number)).join('  '));
  lines.push(
    '',
    `store: ${r.events} events, ${r.items} items, ${r.blocks} blocks, ${Math.round(r.build.storeBytes / 1048576)} MiB (${Math.round(r.build.storeBytes / r.events)} bytes per event); ${r.eventsPerTrace} events (with proofs) per /trace answer`,
    `node RSS after the runs: ${r.nodeRssBytes === null ? 'not reported' : `${Math.round(r.nodeRssBytes / 1048576)} MiB`}${r.nodeRssAnonBytes === null ? '' : `, of which ${Math.round(r.nodeRssAnonBytes / 1048576)} MiB its own (the rest: memory-mapped store files, OS file cache)`}`,
    `built ${r.build.reused ? 'earlier (reused)' : 'now'} in ${r.build.seconds} s (${r.build.eventsPerSecond} events/s); client and node share this machine's ${r.cores} cores`,
  );
  return lines.join('\n');
}
