/**
 * Headers-first synchronisation.
 *
 * Each connected member's status (tip, height, chainwork) is polled on a timer, on connect,
 * and when gossip brings a block whose parent we lack. When a peer claims more work than our
 * tip, a round starts with that peer: ask for up to 2,000 headers after our block locator,
 * check them (links, heights, proof of work), then fetch the bodies we lack in chunks from
 * every peer that has them, several requests in flight (body-fetch.ts), and import them
 * strictly in chain order. A request that times out is a stall: the peer is dropped (the
 * network hangs up) and its chunk goes to another peer. A peer whose headers or blocks prove
 * invalid is reported as an offence.
 *
 * Bounded: at most one round at a time; a round holds at most one header batch (2,000), and
 * the bodies fetched ahead of the import point are capped by count and bytes (the chunk the
 * import waits for is always allowed). No orphan pool: nothing is kept that does not connect
 * to what we hold.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ChainPort } from './chain-port.js';
import { BodyFetcher } from './body-fetch.js';
import { buildLocator } from './locator.js';
import { checkHeaderBatch, HeaderBatchError, type HeaderItem } from './headers.js';
import { SYNC_LIMITS } from './protocol.js';
import { SyncRequestError, type PeerStatus, type SyncTransport } from './sync-protocol.js';
import { afterBlockFailure, type FailureHooks } from './verdict-effects.js';
import type { Offence } from './scores.js';

export interface SyncOptions {
  statusIntervalMs: number;
  /**
   * Peers asked for their status each interval: the ones asked longest ago. Asking every peer
   * every interval costs each node N streams per interval and the consortium N², which at 20
   * nodes on one machine was most of its CPU (docs/p2p.md); gossip brings new blocks anyway, and
   * a peer's announcement or connection asks it at once. With N peers each is asked about every
   * N / statusPeersPerInterval intervals.
   */
  statusPeersPerInterval: number;
  blocksPerRequest: number;
  maxInflightPerPeer: number;
  /** Bodies fetched ahead of the import point: at most this many blocks… */
  windowBlocks: number;
  /** …and about this many bytes. */
  windowBytes: number;
  /** Wait before trying a peer again after a round with it made no progress. */
  noProgressBackoffMs: number;
  /** Minimum gap between two progress events. */
  progressEveryMs: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  statusIntervalMs: 5_000,
  statusPeersPerInterval: 3,
  blocksPerRequest: 64,
  maxInflightPerPeer: 2,
  windowBlocks: 1_024,
  windowBytes: 64 * 1024 * 1024,
  noProgressBackoffMs: 2_000,
  progressEveryMs: 250,
};

export interface SyncProgress {
  height: number;
  /** Best height any peer has shown us. */
  target: number;
  syncing: boolean;
}

export interface SyncEvents {
  progress: [progress: SyncProgress];
  /** A request to this peer timed out: drop it. */
  stall: [peerId: string];
  offence: [peerId: string, offence: Offence, detail: string];
}

export interface SyncPeerView {
  status: PeerStatus | undefined;
  statusAt: number;
  rttMs: number | undefined;
  announcedHeight: number;
  inflight: number;
}

interface SyncPeer extends SyncPeerView {
  id: string;
  statusInflight: boolean;
  retryAfter: number;
  /**
   * Lowest height at which this peer served a block too far in the future for our clock
   * (TIME_TOO_NEW: held by the chain until due). Until our tip reaches it, the peer's chain
   * above it does not count as "known" for isSynced: a member whose clock runs hours ahead
   * must not keep every other node reporting itself unsynced (and /health 503).
   */
  aheadOfClock?: number;
}

export class Synchronizer extends EventEmitter<SyncEvents> {
  private readonly opts: SyncOptions;
  private readonly peers = new Map<string, SyncPeer>();
  private readonly log: Logger;
  private running = false;
  private loopActive = false;
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  private lastProgressAt = 0;
  /** What a block that failed to import does to its peer (shared with gossip: verdict-effects.ts). */
  private readonly failureHooks: FailureHooks = {
    offence: (peer, offence, code) => this.emit('offence', peer, offence, code),
    aheadOfClock: (peer, height) => this.noteAheadOfClock(peer, height),
  };

  constructor(
    opts: Partial<SyncOptions>,
    private readonly modules: { chain: ChainPort; transport: SyncTransport; logger: Logger; clock?: () => number },
  ) {
    super();
    this.opts = { ...DEFAULT_SYNC_OPTIONS, ...opts };
    this.log = modules.logger.child({ module: 'sync' });
  }

  private now(): number {
    return (this.modules.clock ?? Date.now)();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = setInterval(() => {
      for (const p of this.stalestPeers(this.opts.statusPeersPerInterval)) void this.refreshStatus(p);
    }, this.opts.statusIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  addPeer(id: string): void {
    if (this.peers.has(id)) return;
    const p: SyncPeer = { id, status: undefined, statusAt: 0, rttMs: undefined, announcedHeight: 0, inflight: 0, statusInflight: false, retryAfter: 0 };
    this.peers.set(id, p);
    void this.refreshStatus(p);
  }

  removePeer(id: string): void {
    this.peers.delete(id);
  }

  peer(id: string): SyncPeerView | undefined {
    return this.peers.get(id);
  }

  /** Gossip brought a block at `height` from this peer that we cannot connect yet. */
  noteAnnounced(id: string, height: number): void {
    const p = this.peers.get(id);
    if (!p) return;
    p.announcedHeight = Math.max(p.announcedHeight, height);
    p.retryAfter = 0;
    void this.refreshStatus(p);
  }

  /** Best height known: ours, or any peer's status or announcement. */
  bestKnownHeight(): number {
    const ours = this.modules.chain.tip().height;
    let best = ours;
    for (const p of this.peers.values()) {
      let theirs = Math.max(p.status?.height ?? 0, p.announcedHeight);
      if (p.aheadOfClock !== undefined) {
        if (ours >= p.aheadOfClock) p.aheadOfClock = undefined;
        else theirs = Math.min(theirs, p.aheadOfClock - 1);
      }
      best = Math.max(best, theirs);
    }
    return best;
  }

  /** This peer served or published a block at `height` too far ahead of our clock (see SyncPeer.aheadOfClock). */
  noteAheadOfClock(id: string, height: number): void {
    const p = this.peers.get(id);
    if (!p) return;
    if (p.aheadOfClock === undefined || height < p.aheadOfClock) {
      p.aheadOfClock = height;
      this.log.warn({ peer: id, height }, 'peer serves blocks ahead of our clock (held until due); its chain above them does not count as known');
    }
  }

  /** Within finality depth of the best tip any peer has shown us. */
  isSynced(): boolean {
    return this.modules.chain.tip().height + this.modules.chain.finalityDepth >= this.bestKnownHeight();
  }

  get isSyncing(): boolean {
    return this.syncing;
  }

  progress(): SyncProgress {
    return { height: this.modules.chain.tip().height, target: this.bestKnownHeight(), syncing: this.syncing };
  }

  private reportProgress(force = false): void {
    const now = this.now();
    if (!force && now - this.lastProgressAt < this.opts.progressEveryMs) return;
    this.lastProgressAt = now;
    this.emit('progress', this.progress());
  }

  /** Up to n peers with no status request in flight, the ones whose status is oldest first. */
  private stalestPeers(n: number): SyncPeer[] {
    return [...this.peers.values()]
      .filter((p) => !p.statusInflight)
      .sort((a, b) => a.statusAt - b.statusAt)
      .slice(0, n);
  }

  private async refreshStatus(p: SyncPeer): Promise<void> {
    if (!this.running || p.statusInflight) return;
    p.statusInflight = true;
    try {
      const s = await this.modules.transport.status(p.id);
      p.status = { height: s.height, tip: s.tip, chainwork: s.chainwork };
      p.rttMs = s.rttMs;
      p.statusAt = this.now();
      if (s.chainwork > this.modules.chain.tip().chainwork) this.kick();
    } catch (err) {
      this.requestFailed(p, err);
    } finally {
      p.statusInflight = false;
    }
  }

  private requestFailed(p: SyncPeer, err: unknown): void {
    if (!(err instanceof SyncRequestError)) {
      this.log.error({ err, peer: p.id }, 'sync request failed unexpectedly');
      return;
    }
    if (err.code === 'TIMEOUT') {
      this.log.warn({ peer: p.id, err: err.message }, 'peer stalled; dropping it');
      this.emit('stall', p.id);
    } else if (err.code === 'BAD_REPLY') {
      this.log.warn({ peer: p.id, err: err.message }, 'bad sync reply');
      this.emit('offence', p.id, 'bad-reply', err.message);
    } else {
      this.log.debug({ peer: p.id, err: err.message }, 'sync request failed');
    }
  }

  /** Start a round if none runs. */
  private kick(): void {
    if (!this.running || this.loopActive) return;
    this.loopActive = true;
    void this.loop().finally(() => {
      this.loopActive = false;
    });
  }

  private pickPeer(): SyncPeer | undefined {
    const ours = this.modules.chain.tip().chainwork;
    const now = this.now();
    let best: SyncPeer | undefined;
    for (const p of this.peers.values()) {
      if (!p.status || p.retryAfter > now || p.status.chainwork <= ours) continue;
      if (!best || p.status.chainwork > (best.status as PeerStatus).chainwork) best = p;
    }
    return best;
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (!this.running) return;
        const peer = this.pickPeer();
        if (!peer) return;
        this.syncing = true;
        this.reportProgress(true);
        const before = this.modules.chain.tip().chainwork;
        let imported = 0;
        try {
          imported = await this.syncFrom(peer);
        } catch (err) {
          this.log.error({ err, peer: peer.id }, 'sync round failed');
        }
        if (imported === 0 || this.modules.chain.tip().chainwork <= before) peer.retryAfter = this.now() + this.opts.noProgressBackoffMs;
        if (imported > 0) this.log.info({ peer: peer.id, imported, height: this.modules.chain.tip().height }, 'sync round done');
        await this.refreshStatus(peer);
      }
    } finally {
      this.syncing = false;
      this.reportProgress(true);
    }
  }

  /**
   * Ask a peer for the headers after `lead` (then our main chain). Never rejects: a failure is
   * reported here (stall, bad reply, or a local error logged) and answered as null, so a request
   * made ahead and then abandoned loses nothing.
   */
  private async requestHeaders(peer: SyncPeer, lead: string[]): Promise<Uint8Array[] | null> {
    const { chain, transport } = this.modules;
    let locator: string[];
    try {
      locator = await buildLocator({ tipHeight: () => chain.tip().height, mainHashAt: (h) => chain.mainHashAt(h) }, lead);
    } catch (err) {
      this.log.error({ err, peer: peer.id }, 'cannot build a block locator');
      return null;
    }
    try {
      return await transport.headers(peer.id, locator, SYNC_LIMITS.maxHeadersPerReply);
    } catch (err) {
      this.requestFailed(peer, err);
      return null;
    }
  }

  /**
   * One round with one peer: header batches until it has no more, bodies for each. The next
   * header batch is asked for as soon as the current one checks out, so it arrives while the
   * current bodies import (one header request ahead, never more).
   */
  private async syncFrom(peer: SyncPeer): Promise<number> {
    const { chain } = this.modules;
    let imported = 0;
    let nextHeaders = this.requestHeaders(peer, []);
    for (;;) {
      if (!this.running || !this.peers.has(peer.id)) break;
      const raw = await nextHeaders;
      if (raw === null || raw.length === 0) break;
      let items: HeaderItem[];
      try {
        items = checkHeaderBatch(raw, { heightOf: (h) => chain.heightOf(h), powLimitBits: chain.powLimitBits });
      } catch (err) {
        if (!(err instanceof HeaderBatchError)) throw err;
        this.log.warn({ peer: peer.id, err: err.message }, 'invalid headers');
        this.emit('offence', peer.id, 'invalid-headers', err.message);
        break;
      }
      const bad = items.find((i) => chain.isInvalid(i.hash));
      if (bad) {
        this.emit('offence', peer.id, 'invalid-headers', `header ${bad.hash} is of a block known to be invalid`);
        break;
      }
      const last = items[items.length - 1] as HeaderItem;
      peer.announcedHeight = Math.max(peer.announcedHeight, last.height);
      const more = raw.length >= SYNC_LIMITS.maxHeadersPerReply;
      if (more) nextHeaders = this.requestHeaders(peer, [last.hash]);
      const todo = items.filter((i) => chain.heightOf(i.hash) === undefined);
      if (todo.length > 0) {
        const r = await this.fetchAndImport(todo, peer);
        imported += r.imported;
        if (!r.complete) break;
      }
      if (!more) break;
    }
    return imported;
  }

  /** Fetch bodies from every able peer in parallel (BodyFetcher); import them in order. */
  private async fetchAndImport(items: HeaderItem[], source: SyncPeer): Promise<{ imported: number; complete: boolean }> {
    const { chain, transport } = this.modules;
    const fetcher = new BodyFetcher(items, source, this.opts, {
      transport,
      peers: this.peers,
      prepare: (list) => chain.prepareBlocks(list),
      requestFailed: (peer, err) => this.requestFailed(peer, err),
      logger: this.log,
    });
    let imported = 0;
    let next = 0;
    try {
      while (next < items.length) {
        if (!this.running) return { imported, complete: false };
        const item = items[next] as HeaderItem;
        const got = fetcher.poll();
        if (got === 'none') {
          this.log.warn({ height: item.height, hash: item.hash, pending: fetcher.pendingChunks }, 'no connected peer can serve the next block; ending this round');
          return { imported, complete: false };
        }
        if (got === 'wait') {
          await fetcher.arrival();
          continue;
        }
        try {
          // fsync every 256th block and the last of the batch; the rest ride on those.
          const durable = next === items.length - 1 || imported % 256 === 255;
          const prepared = await got.prepared;
          await (prepared ? chain.importPrepared(prepared, { durable }) : chain.importBlockBytes(got.bytes, { durable }));
          imported++;
        } catch (err) {
          // Stopping: the chain refuses new writes; nothing to report.
          if (!this.running) return { imported, complete: false };
          const src = { via: 'sync', peer: got.from, owner: got.from, hash: item.hash, height: () => item.height } as const;
          if (afterBlockFailure(err, src, this.failureHooks, this.log).code !== 'ALREADY_KNOWN') return { imported, complete: false };
        }
        next++;
        fetcher.advance();
        this.reportProgress();
      }
      return { imported, complete: true };
    } finally {
      fetcher.cancel();
    }
  }
}
