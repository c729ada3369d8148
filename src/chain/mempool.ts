/**
 * Bounded pool of verified transactions waiting for a block. Knows every pending event ID so
 * a duplicate capture is refused with the location of the original. FIFO selection keeps
 * capture order; capacity is bounded by count and bytes, never unbounded.
 */
import { TxError } from '../common/errors.js';
import { toHex } from '../common/bytes.js';
import type { SignedTx } from './types.js';

export interface MempoolOptions {
  maxTxs: number;
  maxBytes: number;
}

export interface PoolEntry {
  tx: SignedTx;
  id: Uint8Array;
  idHex: string;
  /** Canonical tx bytes (what a block carries). */
  raw: Uint8Array;
  bytes: number;
  addedAt: number;
}

export class Mempool {
  private readonly entries = new Map<string, PoolEntry>();
  private readonly events = new Map<string, string>(); // eventId -> txId hex
  /** Txs kept out of select() while their acknowledgement is not durable yet (tx log), with a count per hold. */
  private readonly held = new Map<string, number>();
  private totalBytes = 0;

  constructor(private readonly opts: MempoolOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  has(idHex: string): boolean {
    return this.entries.has(idHex);
  }

  get(idHex: string): PoolEntry | undefined {
    return this.entries.get(idHex);
  }

  /** The pending tx holding an event, if any. */
  txOfEvent(eventId: string): string | undefined {
    return this.events.get(eventId);
  }

  /**
   * Admit a tx that has already been verified. Throws TxError ALREADY_KNOWN ({txId}),
   * DUPLICATE_EVENT ({duplicates}: each event already pending and its tx) or MEMPOOL_FULL; on any
   * throw the pool is unchanged.
   */
  add(tx: SignedTx, id: Uint8Array, raw: Uint8Array, now: number): PoolEntry {
    const bytes = raw.length;
    const idHex = toHex(id);
    if (this.entries.has(idHex)) throw new TxError('ALREADY_KNOWN', `tx ${idHex} is already pending`, { txId: idHex });
    const duplicates: { eventId: string; txId: string; block: null }[] = [];
    for (const e of tx.eventIds) {
      const other = this.events.get(e);
      if (other !== undefined) duplicates.push({ eventId: e, txId: other, block: null });
    }
    if (duplicates.length > 0) throw new TxError('DUPLICATE_EVENT', `${duplicates.length} event(s) already pending`, { duplicates });
    if (this.entries.size >= this.opts.maxTxs || this.totalBytes + bytes > this.opts.maxBytes) {
      throw new TxError('MEMPOOL_FULL', `mempool is full (${this.entries.size} txs, ${this.totalBytes} bytes); retry later`);
    }
    const entry: PoolEntry = { tx, id, idHex, raw, bytes, addedAt: now };
    this.entries.set(idHex, entry);
    for (const e of tx.eventIds) this.events.set(e, idHex);
    this.totalBytes += bytes;
    return entry;
  }

  /**
   * Keep a tx (pending or about to be added) out of block templates until release(): a block
   * never carries a local tx before its tx log record is on disk, so a failed write can still
   * refuse it. Holds nest (one release per hold).
   */
  hold(idHex: string): void {
    this.held.set(idHex, (this.held.get(idHex) ?? 0) + 1);
  }

  release(idHex: string): void {
    const n = this.held.get(idHex) ?? 0;
    if (n <= 1) this.held.delete(idHex);
    else this.held.set(idHex, n - 1);
  }

  remove(idHex: string): PoolEntry | undefined {
    const entry = this.entries.get(idHex);
    if (!entry) return undefined;
    this.entries.delete(idHex);
    for (const e of entry.tx.eventIds) if (this.events.get(e) === idHex) this.events.delete(e);
    this.totalBytes -= entry.bytes;
    return entry;
  }

  /** Drop the txs a connected block includes, and any pending tx sharing an event with it. */
  removeIncluded(txIds: readonly string[], eventIds: Iterable<string>): number {
    let removed = 0;
    for (const id of txIds) if (this.remove(id)) removed++;
    for (const e of eventIds) {
      const holder = this.events.get(e);
      if (holder !== undefined && this.remove(holder)) removed++;
    }
    return removed;
  }

  /** Pending txs in arrival order, up to a byte budget (each tx's encoded size plus 4). */
  select(maxBytes: number, maxTxs = Number.MAX_SAFE_INTEGER): PoolEntry[] {
    const out: PoolEntry[] = [];
    let used = 0;
    for (const entry of this.entries.values()) {
      if (out.length >= maxTxs) break;
      if (used + entry.bytes + 4 > maxBytes || this.held.has(entry.idHex)) continue;
      out.push(entry);
      used += entry.bytes + 4;
    }
    return out;
  }

  clear(): void {
    this.entries.clear();
    this.held.clear();
    this.events.clear();
    this.totalBytes = 0;
  }
}
