/**
 * `tracechain bench ingest`: capture throughput of a real node with mining on.
 *
 * Starts `tracechain start` on a fresh dev chain (mining, one miner worker, a short block
 * interval so 4 MiB blocks keep up), then for each phase (documents of 100 events, then of 1
 * event) runs N concurrent clients posting unique capture documents over keep-alive HTTP for
 * `seconds`, while a poller follows the chain (GET /blocks/…) and notes when each accepted tx
 * lands in a block. Reports per phase: accepted events/s, events/s committed in blocks (all the
 * phase's events, from its start to the block holding its last tx, the drain included; and, labelled
 * apart, the rate committed while the clients were still posting), p50/p99 latency from POST to
 * commitment (poll resolution ~50 ms), refusals. In the same run: node:crypto Ed25519 verify
 * rate on one core (the limit of txs a node can check from gossip; captures are signed, not
 * verified, locally) and validate+hash events/s on one core (trace engine alone).
 *
 * The node runs with its tx log (each 202 after an fsync; the phase reports how many records
 * shared each fsync) unless `txLog: false` (`--no-tx-log`), which exists only to measure what
 * durability costs: such a node acknowledges from memory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { benchTrace } from './trace.js';
import { loopbackCert } from './x509.js';
import { epcisDocumentXml } from '../src/trace/epcis-xml-write.js';
import type { JsonObject } from '../src/common/json.js';
import { HttpClient, percentile, round, startBenchNode, type BenchNode } from './support.js';

export interface IngestOptions {
  /** Seconds of posting per phase. */
  seconds: number;
  /** Concurrent clients per phase. */
  clients: number;
  /** Events per document, one phase each. */
  phases: number[];
  /** Mining worker threads of the node. */
  workers: number;
  blockIntervalMs: number;
  /** Capture worker threads of the node. */
  captureWorkers: number;
  /** Run the node with its tx log (false: the benchmark-only comparison without durable 202s). */
  txLog: boolean;
  /** Also run every phase against a node serving HTTPS (a fresh self-signed certificate), after the plain HTTP run. */
  https: boolean;
  /** How the documents are posted: JSON-LD, or EPCIS 2.0 XML (application/xml). */
  format: 'json' | 'xml';
  /** Sharing modes (docs/confidentiality.md), each phase run once per mode against the same node, interleaved: ['public'] by default. */
  sharing?: ('public' | 'private')[];
  /**
   * Webhook subscriptions that never answer (a local port that accepts connections and stays
   * silent), each to a stream of every ObjectEvent: when above 0, each transport runs twice in the
   * same run, first without them and then with them, so the two figures can be compared.
   */
  deadWebhooks: number;
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_INGEST: IngestOptions = { seconds: 15, clients: 64, phases: [100, 1], workers: 1, blockIntervalMs: 500, captureWorkers: 1, txLog: true, https: false, format: 'json', deadWebhooks: 0 };

export interface IngestPhase {
  /** How the clients reached the node. */
  transport: 'http' | 'https';
  /** How the documents were captured: public (events on chain) or private (projections and commitments on chain, bodies kept aside). */
  sharing: 'public' | 'private';
  /** Webhook subscriptions that never answer, on the node during this phase. */
  deadWebhooks: number;
  /** Their failed delivery attempts during the phase (each held until the node's notify.timeoutMs). */
  deadWebhookFailures: number;
  eventsPerDocument: number;
  clients: number;
  seconds: number;
  documents: number;
  acceptedEvents: number;
  acceptedEventsPerSecond: number;
  committedEvents: number;
  /** All the phase's events / (phase start → the block holding its last tx), the drain included: the conservative figure. */
  committedEventsPerSecond: number;
  /** Events in blocks seen while the clients were still posting / the posting time: the rate sustained under load, no drain. */
  committedDuringPostingEventsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** 429/503 answers (retried after a pause). */
  refused: number;
  errors: number;
  blocks: number;
  /** Tx log records appended and fsyncs during the phase (group commit: records per fsync); 0 without the tx log. */
  txLogAppends: number;
  txLogFsyncs: number;
  /** Requests the node shed during the phase (503 UNDER_PRESSURE), by the measure that tripped (its /metrics). */
  shedByNode: Record<string, number>;
}

export interface IngestReport {
  phases: IngestPhase[];
  ed25519VerifiesPerSecond: number;
  validateHashEventsPerSecond: number;
  /** Parse + validate + hash from the body's text on one core, JSON and XML (the capture worker's work per format). */
  captureJsonEventsPerSecond: number;
  captureXmlEventsPerSecond: number;
  format: 'json' | 'xml';
  blockIntervalMs: number;
  miningWorkers: number;
  captureWorkers: number;
  txLog: boolean;
  cores: number;
}

const CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
const STEPS = [
  ['commissioning', 'ADD', 'active'],
  ['shipping', 'OBSERVE', 'in_transit'],
  ['receiving', 'OBSERVE', 'in_progress'],
  ['dispensing', 'OBSERVE', 'dispensed'],
] as const;

/** A cheap, unique capture document: item k goes commissioning → shipping → receiving → dispensing. */
export class DocumentSource {
  private next = 0;
  constructor(private readonly run: number) {}

  document(events: number, format: 'json' | 'xml' = 'json'): { body: string; count: number } {
    if (format === 'xml') {
      const doc = JSON.parse(this.document(events).body) as { epcisBody: { eventList: JsonObject[] } };
      return { body: epcisDocumentXml(doc.epcisBody.eventList, '2025-01-01T00:00:00Z'), count: events };
    }
    const parts: string[] = [];
    for (let i = 0; i < events; i++) {
      const n = this.next++;
      const item = Math.floor(n / 4);
      const [step, action, disp] = STEPS[n % 4] as (typeof STEPS)[number];
      const t = new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString();
      const ilmd = step === 'commissioning' ? `,"ilmd":{"cbvmda:lotNumber":"L${item % 1000}","cbvmda:itemExpirationDate":"2030-12-31"}` : '';
      parts.push(
        `{"type":"ObjectEvent","eventTime":"${t}","eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sgtin:0614141.107346.${this.run}${item}"],"action":"${action}","bizStep":"${step}","disposition":"${disp}","readPoint":{"id":"urn:epc:id:sgln:0614141.07346.${n % 50}"}${ilmd}}`,
      );
    }
    return { body: `{"@context":["${CONTEXT}"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2025-01-01T00:00:00Z","epcisBody":{"eventList":[${parts.join(',')}]}}`, count: events };
  }
}

function ed25519VerifyRate(ms = 1000): number {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const msg = Buffer.alloc(48, 7);
  const sig = sign(null, msg, privateKey);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 100; i++) verify(null, msg, publicKey, sig);
    n += 100;
  }
  return Math.round((n * 1000) / (performance.now() - t0));
}

export interface Pending {
  at: number;
  events: number;
  phase: number;
}

/** Follows the main chain and resolves commit times of pending txs. */
export class ChainFollower {
  private height = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  blocks = 0;

  constructor(
    private readonly http: HttpClient,
    private readonly pending: Map<string, Pending>,
    private readonly onCommit: (p: Pending, at: number) => void,
  ) {}

  async start(): Promise<void> {
    const tip = JSON.parse((await this.http.request('GET', '/blocks/tip')).body) as { height: number };
    this.height = tip.height;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const tip = JSON.parse((await this.http.request('GET', '/blocks/tip')).body) as { height: number };
      for (let h = this.height + 1; h <= tip.height; h++) {
        const r = await this.http.request('GET', `/blocks/${h}`);
        if (r.status !== 200) break;
        const b = JSON.parse(r.body) as { txIds: string[] };
        const now = performance.now();
        this.blocks++;
        for (const id of b.txIds) {
          const p = this.pending.get(id);
          if (p !== undefined) {
            this.pending.delete(id);
            this.onCommit(p, now);
          }
        }
        this.height = h;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** The node's counters a phase compares before and after, from its /metrics. */
interface NodeCounts {
  appends: number;
  fsyncs: number;
  /** Requests shed under load, by measure (api/load-shedding.ts). */
  shed: Record<string, number>;
  /** Failed webhook delivery attempts (the dead webhooks' timeouts). */
  notifyFailures: number;
}

async function nodeCounts(http: HttpClient): Promise<NodeCounts> {
  const text = (await http.request('GET', '/metrics')).body;
  const read = (name: string): number => {
    const m = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} ([0-9.e+]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const shed: Record<string, number> = {};
  for (const m of text.matchAll(/^tracechain_shed_requests_total\{measure="([A-Za-z]+)"\} ([0-9.e+]+)$/gm)) shed[m[1] as string] = Number(m[2]);
  return { appends: read('tracechain_txlog_appends'), fsyncs: read('tracechain_txlog_fsyncs'), shed, notifyFailures: read('tracechain_notify_attempts_total{outcome="failed"}') };
}

function shedDuring(before: NodeCounts, after: NodeCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [measure, n] of Object.entries(after.shed)) {
    const d = n - (before.shed[measure] ?? 0);
    if (d > 0) out[measure] = d;
  }
  return out;
}

/** A loopback port that accepts connections and never answers: a webhook receiver that hangs. */
async function silentPort(): Promise<{ port: number; close(): void }> {
  const { createServer } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A named query of every ObjectEvent and `n` stream subscriptions (1 confirmation) to the silent port. */
async function subscribeDead(node: BenchNode, token: string, port: number, n: number, ca?: string): Promise<void> {
  const http = new HttpClient(node.api, 2, ca);
  try {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const q = await http.request('POST', '/queries', headers, JSON.stringify({ name: 'bench-dead-webhooks', query: { eventType: ['ObjectEvent'] } }));
    if (q.status !== 201) throw new Error(`bench ingest: POST /queries answered ${q.status}: ${q.body.slice(0, 300)}`);
    for (let i = 0; i < n; i++) {
      const body = JSON.stringify({ dest: `http://127.0.0.1:${port}/hook-${i}`, signatureToken: `bench-dead-webhook-secret-${i}`, stream: true, confirmations: 1 });
      const r = await http.request('POST', '/queries/bench-dead-webhooks/subscriptions', headers, body);
      if (r.status !== 201) throw new Error(`bench ingest: subscribing dead webhook ${i} answered ${r.status}: ${r.body.slice(0, 300)}`);
    }
  } finally {
    http.close();
  }
}

async function runPhase(node: BenchNode, token: string, source: DocumentSource, eventsPerDoc: number, opts: IngestOptions, tick: () => void, ca?: string, sharing: 'public' | 'private' = 'public'): Promise<IngestPhase> {
  const capturePath = sharing === 'private' ? '/capture?sharing=private' : '/capture';
  const http = new HttpClient(node.api, opts.clients + 2, ca);
  const pending = new Map<string, Pending>();
  const latencies: number[] = [];
  let committedEvents = 0;
  let committedDuringPosting = 0;
  let posting = true;
  let lastCommit = 0;
  const follower = new ChainFollower(http, pending, (p, at) => {
    latencies.push(at - p.at);
    committedEvents += p.events;
    if (posting) committedDuringPosting += p.events;
    lastCommit = at;
  });
  await follower.start();
  const logBefore = await nodeCounts(http);
  let documents = 0;
  let acceptedEvents = 0;
  let refused = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + opts.seconds * 1000;
  const headers = { authorization: `Bearer ${token}`, 'content-type': opts.format === 'xml' ? 'application/xml' : 'application/json' };
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      const doc = source.document(eventsPerDoc, opts.format);
      const at = performance.now();
      const r = await http.request('POST', capturePath, headers, doc.body);
      if (r.status === 202) {
        const a = JSON.parse(r.body) as { txId: string };
        pending.set(a.txId, { at, events: doc.count, phase: eventsPerDoc });
        documents++;
        acceptedEvents += doc.count;
      } else if (r.status === 429 || r.status === 503) {
        refused++;
        await new Promise((res) => setTimeout(res, 100));
      } else {
        errors++;
        if (errors <= 3) process.stderr.write(`bench ingest: capture answered ${r.status}: ${r.body.slice(0, 300)}\n`);
      }
    }
  };
  const ticker = setInterval(tick, 250);
  await Promise.all(Array.from({ length: opts.clients }, client));
  posting = false;
  const postedFor = (performance.now() - t0) / 1000;
  // Drain: wait for the accepted txs to be mined (bounded).
  const drainUntil = performance.now() + 30_000;
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 100));
  clearInterval(ticker);
  await follower.stop();
  const logAfter = await nodeCounts(http);
  http.close();
  latencies.sort((a, b) => a - b);
  const commitSpan = (lastCommit - t0) / 1000;
  return {
    transport: node.api.startsWith('https:') ? 'https' : 'http',
    sharing,
    deadWebhooks: 0,
    deadWebhookFailures: logAfter.notifyFailures - logBefore.notifyFailures,
    eventsPerDocument: eventsPerDoc,
    clients: opts.clients,
    seconds: round(postedFor, 2),
    documents,
    acceptedEvents,
    acceptedEventsPerSecond: Math.round(acceptedEvents / postedFor),
    committedEvents,
    committedEventsPerSecond: commitSpan > 0 ? Math.round(committedEvents / commitSpan) : 0,
    committedDuringPostingEventsPerSecond: Math.round(committedDuringPosting / postedFor),
    latencyP50Ms: Math.round(percentile(latencies, 50)),
    latencyP99Ms: Math.round(percentile(latencies, 99)),
    refused,
    errors,
    blocks: follower.blocks,
    txLogAppends: logAfter.appends - logBefore.appends,
    txLogFsyncs: logAfter.fsyncs - logBefore.fsyncs,
    shedByNode: shedDuring(logBefore, logAfter),
  };
}

export async function benchIngest(partial: Partial<IngestOptions> = {}): Promise<IngestReport> {
  const opts: IngestOptions = { ...DEFAULT_INGEST, ...partial };
  const cores = (await import('node:os')).availableParallelism();
  const runs = opts.deadWebhooks > 0 ? [0, opts.deadWebhooks] : [0];
  const totalMs = (opts.https ? 2 : 1) * runs.length * (opts.sharing?.length ?? 1) * opts.phases.length * opts.seconds * 1000 + 3000;
  let done = 0;
  const progress = (): void => opts.onProgress?.(Math.min(totalMs, (done += 250)), totalMs);
  // The limits, measured first while the machine is quiet.
  const ed25519VerifiesPerSecond = ed25519VerifyRate(1000);
  const trace = await benchTrace({ events: 20_000, perDocument: 100 });
  const captureJson = await benchTrace({ events: 20_000, perDocument: 100, format: 'json' });
  const captureXml = await benchTrace({ events: 20_000, perDocument: 100, format: 'xml' });
  done += 3000;
  progress();

  const phases: IngestPhase[] = [];
  for (const transport of opts.https ? (['http', 'https'] as const) : (['http'] as const)) {
    for (const dead of runs) phases.push(...(await runTransport(opts, transport, progress, dead)));
  }
  return {
    phases,
    ed25519VerifiesPerSecond,
    validateHashEventsPerSecond: trace.eventsPerSecond,
    captureJsonEventsPerSecond: captureJson.eventsPerSecond,
    captureXmlEventsPerSecond: captureXml.eventsPerSecond,
    format: opts.format,
    blockIntervalMs: opts.blockIntervalMs,
    miningWorkers: opts.workers,
    captureWorkers: opts.captureWorkers,
    txLog: opts.txLog,
    cores,
  };
}

/** The ingest node's config file: no rate limits, the capture workers and tx log asked for, a mempool that holds a phase's backlog. */
export async function writeIngestConfig(path: string, opts: Pick<IngestOptions, 'captureWorkers' | 'txLog'>): Promise<void> {
  await writeFile(
    path,
    JSON.stringify({ api: { rateLimit: { writeMax: 10_000_000, readMax: 10_000_000, timeWindowMs: 10_000 }, captureWorkers: opts.captureWorkers }, txLog: { enabled: opts.txLog }, mempool: { maxTxs: 200_000, maxBytes: 512 * 1024 * 1024 } }),
  );
}

/** One fresh dev node (plain HTTP, or HTTPS with a new self-signed certificate) and every phase against it. */
async function runTransport(opts: IngestOptions, transport: 'http' | 'https', progress: () => void, deadWebhooks: number): Promise<IngestPhase[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tracechain-bench-ingest-'));
  const config = join(dir, 'config.json');
  await writeIngestConfig(config, opts);
  const tlsArgs: string[] = [];
  let ca: string | undefined;
  if (transport === 'https') {
    const cert = loopbackCert();
    await writeFile(join(dir, 'api.crt'), cert.certPem);
    await writeFile(join(dir, 'api.key'), cert.keyPem, { mode: 0o600 });
    tlsArgs.push('--tls-cert', join(dir, 'api.crt'), '--tls-key', join(dir, 'api.key'));
    ca = cert.certPem;
  }
  let silent: { port: number; close(): void } | undefined;
  const node = await startBenchNode(['--data', join(dir, 'data'), '--workers', String(opts.workers), '--block-interval', String(opts.blockIntervalMs), '--config', config, ...tlsArgs]);
  try {
    const token = (await (await import('node:fs/promises')).readFile(join(dir, 'data', 'api-token'), 'utf8')).trim();
    const source = new DocumentSource(Math.floor(Math.random() * 9000) + 1000);
    if (deadWebhooks > 0) {
      silent = await silentPort();
      await subscribeDead(node, token, silent.port, deadWebhooks, ca);
    }
    const phases: IngestPhase[] = [];
    for (const n of opts.phases) for (const mode of opts.sharing ?? ['public']) phases.push({ ...(await runPhase(node, token, source, n, opts, progress, ca, mode)), deadWebhooks });
    return phases;
  } finally {
    silent?.close();
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatIngestTable(r: IngestReport): string {
  const rows = [
    ['transport', 'dead hooks', 'events/doc', 'clients', 'docs', 'accepted ev/s', 'committed ev/s', 'while posting', 'p50 ms', 'p99 ms', 'refused', 'errors', 'blocks'],
    ...r.phases.map((p) =>
      [p.sharing === 'private' ? `${p.transport} private` : p.transport, p.deadWebhooks > 0 ? `${p.deadWebhooks} (${p.deadWebhookFailures} timeouts)` : '0', p.eventsPerDocument, p.clients, p.documents, p.acceptedEventsPerSecond, p.committedEventsPerSecond, p.committedDuringPostingEventsPerSecond, p.latencyP50Ms, p.latencyP99Ms, p.refused, p.errors, p.blocks].map(String),
    ),
  ];
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  const lines = rows.map((row) => row.map((c, i) => c.padStart(widths[i] as number)).join('  '));
  lines.push(
    '',
    `limits on this machine (${r.cores} cores): Ed25519 verify ${r.ed25519VerifiesPerSecond}/s on one core (node:crypto); validate+hash ${r.validateHashEventsPerSecond} events/s on one core`,
    `capture path from text on one core (parse + validate + hash): JSON ${r.captureJsonEventsPerSecond} events/s, XML ${r.captureXmlEventsPerSecond} events/s (${r.captureJsonEventsPerSecond > 0 ? Math.round((100 * r.captureXmlEventsPerSecond) / r.captureJsonEventsPerSecond) : 0} % of JSON); documents posted as ${r.format === 'xml' ? 'EPCIS XML' : 'JSON-LD'}`,
    `node: dev chain, block interval ${r.blockIntervalMs} ms, ${r.miningWorkers} mining worker(s), ${r.captureWorkers} capture worker(s); latency = POST to the block being visible (poll ~50 ms)`,
    r.txLog
      ? `tx log on: every 202 after its record was fsynced; records per fsync (group commit): ${r.phases.map((p) => `${p.eventsPerDocument} ev/doc ${p.txLogFsyncs > 0 ? (p.txLogAppends / p.txLogFsyncs).toFixed(1) : '-'} (${p.txLogAppends} records, ${p.txLogFsyncs} fsyncs)`).join('; ')}`
      : 'tx log OFF (--no-tx-log): a benchmark comparison only, these 202s were not durable',
    ...r.phases
      .filter((p) => Object.keys(p.shedByNode).length > 0)
      .map((p) => `${p.eventsPerDocument} ev/doc phase: the node shed requests under load (503 UNDER_PRESSURE): ${Object.entries(p.shedByNode).map(([m, n]) => `${n} by ${m}`).join(', ')} (its log says when and why)`),
    ...sharingRatios(r.phases),
    'committed ev/s = all the phase\'s events / (phase start -> block holding its last tx, drain included); while posting = events in blocks seen before the clients stopped / posting time',
  );
  return lines.join('\n');
}

/** Private mode's committed events/s as a share of public mode's, per phase size and transport, when both ran. */
function sharingRatios(phases: readonly IngestPhase[]): string[] {
  const out: string[] = [];
  for (const p of phases) {
    if (p.sharing !== 'private') continue;
    const pub = phases.find((q) => q.sharing === 'public' && q.transport === p.transport && q.eventsPerDocument === p.eventsPerDocument);
    if (pub === undefined || pub.committedEventsPerSecond === 0) continue;
    out.push(`private / public (${p.transport}, ${p.eventsPerDocument} ev/doc, same node, interleaved): committed ${Math.round((100 * p.committedEventsPerSecond) / pub.committedEventsPerSecond)} %, accepted ${pub.acceptedEventsPerSecond > 0 ? Math.round((100 * p.acceptedEventsPerSecond) / pub.acceptedEventsPerSecond) : 0} %`);
  }
  return out;
}
