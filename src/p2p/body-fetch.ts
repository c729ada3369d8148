/**
 * Body fetching for one header batch of a sync round: the bodies the chain lacks are asked for
 * in chunks from every connected peer that has them (the round's source always qualifies),
 * several requests in flight per peer, and handed out strictly in chain order. Each body is
 * decoded and its sealer signature checked (off the main thread, Chain.prepareBlocks) as soon
 * as it arrives, while earlier blocks import.
 *
 * Bounded: the bodies fetched ahead of the import point are capped by count and bytes (the
 * chunk the import waits for is always allowed). A chunk a peer does not have, or fails, goes
 * to another peer; one cut short by the reply budget is asked for again.
 */
import type { Logger } from 'pino';
import type { PreparedBlock } from '../chain/chain.js';
import type { HeaderItem } from './headers.js';
import type { SyncTransport } from './sync-protocol.js';

/** What the fetcher needs to know of a peer (the synchronizer's view; `inflight` is shared with it). */
export interface BodySource {
  readonly id: string;
  inflight: number;
  readonly status: { height: number } | undefined;
  readonly announcedHeight: number;
  readonly rttMs: number | undefined;
}

export interface BodyFetchOptions {
  blocksPerRequest: number;
  maxInflightPerPeer: number;
  /** Bodies fetched ahead of the import point: at most this many blocks… */
  windowBlocks: number;
  /** …and about this many bytes. */
  windowBytes: number;
}

export interface BodyFetchModules<P extends BodySource> {
  transport: Pick<SyncTransport, 'blocks'>;
  /** The connected peers (a live view: peers come and go while the fetch runs). */
  peers: ReadonlyMap<string, P>;
  prepare(list: readonly Uint8Array[]): Promise<(PreparedBlock | undefined)[]>;
  /** A request failed (the synchronizer reports stalls and bad replies). */
  requestFailed(peer: P, err: unknown): void;
  logger: Logger;
}

/** A body that arrived: its bytes, who sent it, and its preparation (never rejects; undefined: import the bytes). */
export interface FetchedBody {
  bytes: Uint8Array;
  from: string;
  prepared: Promise<PreparedBlock | undefined>;
}

interface Chunk {
  start: number;
  hashes: string[];
  lastHeight: number;
  /** Peers that said they do not have these blocks (or failed them). */
  tried: Set<string>;
}

export class BodyFetcher<P extends BodySource> {
  private readonly index = new Map<string, number>();
  private readonly pending: Chunk[] = [];
  private readonly ready = new Map<string, FetchedBody>();
  private buffered = 0;
  private inflight = 0;
  /** The import point: items[next] is the body handed out next. */
  private next = 0;
  private cancelled = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly items: readonly HeaderItem[],
    private readonly source: P,
    private readonly opts: BodyFetchOptions,
    private readonly modules: BodyFetchModules<P>,
  ) {
    items.forEach((it, i) => this.index.set(it.hash, i));
    for (let i = 0; i < items.length; i += opts.blocksPerRequest) {
      const slice = items.slice(i, i + opts.blocksPerRequest);
      this.pending.push({ start: i, hashes: slice.map((x) => x.hash), lastHeight: (slice[slice.length - 1] as HeaderItem).height, tried: new Set() });
    }
  }

  /** Chunks not asked for yet. */
  get pendingChunks(): number {
    return this.pending.length;
  }

  /**
   * Ask for what the window allows, then: the body at the import point if it arrived (taken out
   * of the buffer), 'wait' while requests are in flight (see arrival), or 'none' when no
   * connected peer can serve it.
   */
  poll(): FetchedBody | 'wait' | 'none' {
    this.schedule();
    const item = this.items[this.next] as HeaderItem;
    const got = this.ready.get(item.hash);
    if (!got) return this.inflight === 0 ? 'none' : 'wait';
    this.ready.delete(item.hash);
    this.buffered -= got.bytes.length;
    return got;
  }

  /** Resolves when the next request in flight settles. */
  arrival(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  /** The body at the import point is done with: move on to the next. */
  advance(): void {
    this.next++;
  }

  /** Drop what arrived and ignore what is still to arrive. */
  cancel(): void {
    this.cancelled = true;
    this.ready.clear();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private eligible(p: P, c: Chunk): boolean {
    return (
      this.modules.peers.has(p.id) &&
      p.inflight < this.opts.maxInflightPerPeer &&
      !c.tried.has(p.id) &&
      (p === this.source || Math.max(p.status?.height ?? 0, p.announcedHeight) >= c.lastHeight)
    );
  }

  private requeue(tried: Set<string>, hashes: string[]): void {
    if (hashes.length === 0) return;
    const start = this.index.get(hashes[0] as string) as number;
    const lastHeight = (this.items[this.index.get(hashes[hashes.length - 1] as string) as number] as HeaderItem).height;
    const chunk: Chunk = { start, hashes, lastHeight, tried };
    let at = this.pending.findIndex((c) => c.start > start);
    if (at < 0) at = this.pending.length;
    this.pending.splice(at, 0, chunk);
  }

  private prepare(list: Uint8Array[]): Promise<(PreparedBlock | undefined)[]> {
    return this.modules.prepare(list).catch((err: unknown) => {
      this.modules.logger.error({ err }, 'preparing fetched blocks failed; importing them unprepared');
      return list.map(() => undefined);
    });
  }

  private run(peer: P, c: Chunk): void {
    peer.inflight++;
    this.inflight++;
    this.modules.transport
      .blocks(peer.id, c.hashes)
      .then(
        (replies) => {
          if (this.cancelled) return;
          const got = new Set<string>();
          const notFound: string[] = [];
          const accepted: { hash: string; bytes: Uint8Array }[] = [];
          for (const r of replies) {
            got.add(r.hash);
            if (r.bytes === null) {
              notFound.push(r.hash);
              continue;
            }
            const at = this.index.get(r.hash);
            if (at !== undefined && at >= this.next && !this.ready.has(r.hash)) accepted.push({ hash: r.hash, bytes: r.bytes });
          }
          if (accepted.length > 0) {
            const all = this.prepare(accepted.map((a) => a.bytes));
            accepted.forEach((a, i) => {
              this.ready.set(a.hash, { bytes: a.bytes, from: peer.id, prepared: all.then((list) => list[i]) });
              this.buffered += a.bytes.length;
            });
          }
          // Not found here: someone else must serve it. Cut by the reply budget: ask again.
          if (notFound.length > 0) this.requeue(new Set([...c.tried, peer.id]), notFound);
          this.requeue(c.tried, c.hashes.filter((h) => !got.has(h)));
        },
        (err: unknown) => {
          this.modules.requestFailed(peer, err);
          if (this.cancelled) return;
          this.requeue(new Set([...c.tried, peer.id]), c.hashes);
        },
      )
      .finally(() => {
        peer.inflight--;
        this.inflight--;
        this.notify();
      });
  }

  private schedule(): void {
    const { opts } = this;
    while (!this.cancelled && this.pending.length > 0) {
      const c = this.pending[0] as Chunk;
      const needed = c.start <= this.next;
      if (!needed && (c.start - this.next >= opts.windowBlocks || this.buffered >= opts.windowBytes)) return;
      let best: P | undefined;
      for (const p of this.modules.peers.values()) {
        if (!this.eligible(p, c)) continue;
        if (!best || p.inflight < best.inflight || (p.inflight === best.inflight && (p.rttMs ?? Infinity) < (best.rttMs ?? Infinity))) best = p;
      }
      if (!best) return;
      this.pending.shift();
      this.run(best, c);
    }
  }
}
