/**
 * Prometheus metrics of a node, in their own prom-client Registry (never the global one, so two
 * nodes in one process, as in tests, do not mix). Gauges are read at scrape time; counters are
 * fed by the chain's events and by the API. Other modules (p2p) report through `reject()` and
 * `setPeerSource()`.
 */
import { proposalStatusAt } from '../chain/governance.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Block } from '../chain/block.js';
import type { Chain, ReorgInfo, TxOrigin } from '../chain/chain.js';
import type { SignedTx } from '../chain/types.js';
import type { StorageHealth } from '../storage/write-guard.js';
import type { TxLogStats } from '../chain/tx-log.js';
import type { NotifyStats } from './notify-port.js';

export interface MetricSources {
  peers(): number;
  hashrate(): number;
  /** The chain store's write state (absent: not tracked). */
  storage(): StorageHealth | undefined;
  /** The tx log's figures (absent: no tx log). */
  txLog(): TxLogStats | undefined;
  /** The notification service's figures (absent: no subscriptions served). */
  notify(): NotifyStats | undefined;
  /** The proof reader's caches (absent: no API). */
  proofCaches(): Record<string, CacheStats> | undefined;
}

/** One bounded cache's figures. */
export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private chain: Chain | undefined;
  private sources: MetricSources = { peers: () => 0, hashrate: () => 0, storage: () => undefined, txLog: () => undefined, notify: () => undefined, proofCaches: () => undefined };
  private readonly blocksImported: Counter<string>;
  private readonly txsImported: Counter<string>;
  private readonly eventsImported: Counter<string>;
  private readonly txsAdmitted: Counter<'origin'>;
  private readonly rejects: Counter<'code' | 'source'>;
  private readonly shedRequests: Counter<'measure'>;
  private readonly actionTxs: Counter<'kind' | 'op'>;
  private readonly scratchChecks: Counter<'outcome'>;
  private readonly reorgs: Counter<string>;
  private readonly reorgDepth: Histogram<string>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  private readonly unbind: (() => void)[] = [];

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'tracechain_process_' });
    const self = (): NodeMetrics => this;
    new Gauge({
      name: 'tracechain_height',
      help: 'Height of the main chain tip',
      registers,
      collect() {
        const c = self().chain;
        if (c) this.set(c.tip.height);
      },
    });
    new Gauge({
      name: 'tracechain_chainwork',
      help: 'Cumulative work of the main chain (expected hashes), as a float',
      registers,
      collect() {
        const c = self().chain;
        if (c) this.set(Number(c.tip.chainwork));
      },
    });
    new Gauge({
      name: 'tracechain_tip_age_seconds',
      help: 'Seconds since the tip block time',
      registers,
      collect() {
        const c = self().chain;
        if (c) this.set(Math.max(0, (Date.now() - c.tip.time) / 1000));
      },
    });
    new Gauge({
      name: 'tracechain_mempool_txs',
      help: 'Transactions waiting in the mempool',
      registers,
      collect() {
        const c = self().chain;
        if (c) this.set(c.mempool.size);
      },
    });
    new Gauge({
      name: 'tracechain_mempool_bytes',
      help: 'Canonical bytes of the transactions in the mempool',
      registers,
      collect() {
        const c = self().chain;
        if (c) this.set(c.mempool.bytes);
      },
    });
    new Gauge({
      name: 'tracechain_members',
      help: 'Consortium members at the tip, by status (active, suspended, revoked)',
      labelNames: ['status'],
      registers,
      collect() {
        const c = self().chain;
        if (!c) return;
        for (const status of ['active', 'suspended', 'revoked'] as const) this.set({ status }, c.registry.all.filter((m) => m.status === status).length);
      },
    });
    new Gauge({
      name: 'tracechain_governance_pending_proposals',
      help: 'Governance proposals waiting for approvals (not expired) or approved and waiting for their activation height',
      registers,
      collect() {
        const c = self().chain;
        if (!c) return;
        const r = c.registry;
        this.set(r.state.proposals.filter((p) => ['pending', 'approved'].includes(proposalStatusAt(r.state, p, r.height))).length);
      },
    });
    const cacheGauge = (name: string, help: string, pick: (c: CacheStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['cache'],
        registers,
        collect() {
          for (const [cache, stats] of Object.entries(self().sources.proofCaches() ?? {})) this.set({ cache }, pick(stats));
        },
      });
    };
    cacheGauge('tracechain_proof_cache_entries', 'Entries of the proof reader caches (txs: tx texts served, api.blockCacheBytes, off by default; proofs: per-block proof material)', (c) => c.entries);
    cacheGauge('tracechain_proof_cache_bytes', 'Bytes held by the proof reader caches', (c) => c.bytes);
    cacheGauge('tracechain_proof_cache_hits', 'Lookups of the proof reader caches that found their entry, since start', (c) => c.hits);
    cacheGauge('tracechain_proof_cache_misses', 'Lookups of the proof reader caches that did not, since start', (c) => c.misses);
    new Gauge({
      name: 'tracechain_peers',
      help: 'Connected peers',
      registers,
      collect() {
        this.set(self().sources.peers());
      },
    });
    new Gauge({
      name: 'tracechain_hashrate',
      help: "This node's recent proof-of-work hash rate, hashes per second (0 when not mining)",
      registers,
      collect() {
        this.set(self().sources.hashrate());
      },
    });
    new Gauge({
      name: 'tracechain_store_writable',
      help: '1 while the chain store accepts writes, 0 while they are refused (disk space low, failed write)',
      registers,
      collect() {
        this.set(self().sources.storage()?.writable === false ? 0 : 1);
      },
    });
    new Gauge({
      name: 'tracechain_store_free_bytes',
      help: 'Free bytes on the file system of the chain store at the last check',
      registers,
      collect() {
        const free = self().sources.storage()?.freeBytes;
        if (free !== undefined) this.set(free);
      },
    });
    const txLogGauge = (name: string, help: string, read: (s: TxLogStats) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const stats = self().sources.txLog();
          if (stats !== undefined) this.set(read(stats));
        },
      });
    };
    txLogGauge('tracechain_txlog_live_records', 'Tx log records not yet settled (their tx is not final)', (s) => s.liveRecords);
    txLogGauge('tracechain_txlog_bytes', 'Bytes in the tx log segments', (s) => s.bytes);
    txLogGauge('tracechain_txlog_segments', 'Tx log segment files', (s) => s.segments);
    txLogGauge('tracechain_txlog_appends', 'Records appended to the tx log since start (each acknowledged after its fsync)', (s) => s.appends);
    txLogGauge('tracechain_txlog_fsyncs', 'Tx log fsyncs since start (group commit: appends / fsyncs records share each)', (s) => s.fsyncs);
    const notifyStats = (): NotifyStats | undefined => self().sources.notify();
    new Gauge({
      name: 'tracechain_notify_subscriptions',
      help: 'Webhook subscriptions by status (active, retrying: the last attempt failed, paused: see GET /queries/{name}/subscriptions/{id})',
      labelNames: ['status'],
      registers,
      collect() {
        const s = notifyStats();
        if (s !== undefined) for (const [status, n] of Object.entries(s.subscriptions)) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'tracechain_notify_streams',
      help: 'Open WebSocket streams of named queries',
      registers,
      collect() {
        const s = notifyStats();
        if (s !== undefined) this.set(s.streams);
      },
    });
    new Gauge({
      name: 'tracechain_notify_backlog_blocks',
      help: 'The largest backlog of a webhook subscription: blocks with enough confirmations that its cursor has not passed',
      registers,
      collect() {
        const s = notifyStats();
        if (s !== undefined) this.set(s.maxBacklogBlocks);
      },
    });
    new Counter({
      name: 'tracechain_notify_attempts_total',
      help: 'Delivery attempts (webhooks and WebSocket streams) since start, by outcome',
      labelNames: ['outcome'],
      registers,
      collect() {
        const s = notifyStats();
        if (s === undefined) return;
        this.reset();
        this.inc({ outcome: 'delivered' }, s.attempts.delivered);
        this.inc({ outcome: 'failed' }, s.attempts.failed);
      },
    });
    new Counter({
      name: 'tracechain_notify_events_delivered_total',
      help: 'Events delivered to subscribers since start',
      registers,
      collect() {
        const s = notifyStats();
        if (s === undefined) return;
        this.reset();
        this.inc(s.eventsDelivered);
      },
    });
    this.blocksImported = new Counter({ name: 'tracechain_blocks_imported_total', help: 'Blocks connected to the main chain', registers });
    this.txsImported = new Counter({ name: 'tracechain_txs_imported_total', help: 'Transactions in connected blocks', registers });
    this.eventsImported = new Counter({ name: 'tracechain_events_imported_total', help: 'EPCIS events in connected blocks', registers });
    this.txsAdmitted = new Counter({ name: 'tracechain_txs_admitted_total', help: 'Transactions admitted to the mempool, by origin', labelNames: ['origin'], registers });
    this.rejects = new Counter({ name: 'tracechain_rejects_total', help: 'Rejected requests, txs and blocks, by error code and source', labelNames: ['code', 'source'], registers });
    this.shedRequests = new Counter({ name: 'tracechain_shed_requests_total', help: 'API requests shed (503 UNDER_PRESSURE) by the overload measure that tripped: eventLoopDelay, heapUsedBytes', labelNames: ['measure'], registers });
    this.actionTxs = new Counter({ name: 'tracechain_alert_txs_total', help: 'Alert lifecycle changes (kind alert) and pack actions (kind pack: reactivate, code-check, code-guess) in connected blocks', labelNames: ['kind', 'op'], registers });
    this.scratchChecks = new Counter({ name: 'tracechain_scratch_checks_total', help: 'Scratch-off code checks at this node by outcome: genuine, already_checked, wrong, rate_limited, no_code', labelNames: ['outcome'], registers });
    this.reorgs = new Counter({ name: 'tracechain_reorgs_total', help: 'Chain reorganisations', registers });
    this.reorgDepth = new Histogram({ name: 'tracechain_reorg_depth_blocks', help: 'Blocks disconnected per reorganisation', buckets: [1, 2, 3, 6, 12, 50], registers });
    this.httpDuration = new Histogram({
      name: 'tracechain_http_request_duration_seconds',
      help: 'API latency by route, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
  }

  /** Follow a chain's events (blocks, txs, reorgs); call once. */
  bindChain(chain: Chain): void {
    this.chain = chain;
    const onBlock = (b: Block): void => {
      this.blocksImported.inc();
      this.txsImported.inc(b.txs.length);
      let events = 0;
      for (const tx of b.txs) {
        events += tx.eventIds.length;
        if (tx.alert !== undefined) this.actionTxs.inc({ kind: 'alert', op: tx.alert.status });
        if (tx.pack !== undefined) this.actionTxs.inc({ kind: 'pack', op: tx.pack.op });
      }
      this.eventsImported.inc(events);
    };
    const onTx = (_tx: SignedTx, _id: string, origin: TxOrigin): void => {
      this.txsAdmitted.inc({ origin });
    };
    const onReorg = (info: ReorgInfo): void => {
      this.reorgs.inc();
      this.reorgDepth.observe(info.disconnected.length);
    };
    chain.on('block', onBlock);
    chain.on('tx', onTx);
    chain.on('reorg', onReorg);
    this.unbind.push(() => {
      chain.off('block', onBlock);
      chain.off('tx', onTx);
      chain.off('reorg', onReorg);
    });
  }

  setSources(sources: Partial<MetricSources>): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** Count a rejection (`source`: api, gossip, sync, miner …). */
  reject(code: string, source: string): void {
    this.rejects.inc({ code, source });
  }

  /** Count a request shed under load (api/load-shedding.ts), by the measure that tripped. */
  shed(measure: string): void {
    this.shedRequests.inc({ measure });
  }

  /** Count a scratch-off code check at the API (api/scratch-check.ts), by outcome. */
  scratchCheck(outcome: string): void {
    this.scratchChecks.inc({ outcome });
  }

  close(): void {
    for (const u of this.unbind.splice(0)) u();
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
