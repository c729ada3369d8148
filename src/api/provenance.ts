/**
 * The read side behind /events, /trace, /txs: events with their merkle proofs.
 *
 * A proof needs the block's tx IDs (for the audit path) and one tx's canonical JSON. Blocks
 * stored by this build also have a "header ‖ tx IDs" record and each tx on its own (storage
 * buckets blockTxIds, blockTxs): a proof reads the record once per block (checked proof
 * material, proof-material.ts) and then just the tx it needs, as a JS string, which must hash to
 * the record's tx ID. Blocks stored by an older build are read whole (proof-material.ts
 * materialOf).
 *
 * Bounded caches: per-block proof material (tx IDs and the tree's levels as flat buffers,
 * checked as above), main-chain hashes by height, and optionally the tx texts served (off by
 * default: see ProvenanceOptions). /trace splices events and proof txs from the texts into its
 * answer without parsing them (tx-text.ts indexTxEvents, writeEventEntry). `txIndex` and
 * `txCount` always come from the stored block, never from a client.
 */
import type { Chain } from '../chain/chain.js';
import { toHex } from '../common/bytes.js';
import { TxError } from '../common/errors.js';
import { decodeCanonicalTx, txIdOfCanonicalBytes, txIdOfCanonicalText } from '../chain/tx.js';
import type { SignedTx } from '../chain/types.js';
import { JsonBytes } from './json-bytes.js';
import { LruCache } from '../common/lru.js';
import type { CacheStats } from './metrics.js';
import { BlockMaterial, materialFromIds, materialOf, type Proof } from './proof-material.js';
import { storeDamaged as damaged } from './problem.js';
import { indexTxEvents, type TxEventIndex } from './tx-text.js';

export interface BlockRef {
  hash: string;
  height: number;
}

export interface EventEntry {
  eventId: string;
  event: Record<string, unknown>;
  txId: string;
  block: BlockRef | null;
  confirmations: number;
  proof: Proof | null;
}

export interface TxEntry {
  txId: string;
  tx: SignedTx;
  block: BlockRef | null;
  confirmations: number;
  proof: Proof | null;
}

export interface ProvenanceOptions {
  /**
   * Budget of the cache of proof tx texts served (config api.blockCacheBytes), bytes; 0 (the
   * default) keeps none: a text cached on the JS heap survives scavenges and is copied into the
   * old generation, which under a stream of /trace reads costs more than reading it again
   * (~0.1 ms). Worth it only for a workload that asks for the same few packs over and over.
   */
  blockCacheBytes: number;
  /** Budget of the proof-material cache (tx IDs, offsets, tree levels), bytes. */
  proofCacheBytes: number;
}

export const DEFAULT_PROVENANCE_OPTIONS: ProvenanceOptions = {
  blockCacheBytes: 0,
  proofCacheBytes: 64 * 1024 * 1024,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A confirmed event and what its proof needs, as slices of the stored tx text: written by writeEventEntry without building JS objects. */
export interface RawEventEntry {
  eventId: string;
  /** The event's canonical JSON (a slice of the stored tx), or its JSON.stringify text when the slice is not that. */
  event: string;
  txIndex: number;
  block: BlockRef;
  confirmations: number;
  material: BlockMaterial;
  /** The tx's canonical JSON text (checked against the block's tx IDs). */
  tx: string;
}

/** The entry as JSON: byte-for-byte JSON.stringify of the EventEntry that entryAt gives for the same event. */
export function writeEventEntry(w: JsonBytes, e: RawEventEntry, mark?: { via: string; path: readonly string[] }, declared?: object): void {
  w.ascii('{"eventId":').value(e.eventId).ascii(',"event":').text(e.event);
  w.ascii(`,"txId":"${e.material.txIdHex(e.txIndex)}","block":{"hash":`).value(e.block.hash).ascii(`,"height":${e.block.height}},"confirmations":${e.confirmations},"proof":`);
  e.material.writeProof(w, e.tx, e.txIndex);
  // How a journey step belongs to the item (/trace): the container, class or linked item it came through.
  if (mark !== undefined) w.ascii(',"via":').value(mark.via).ascii(',"path":').value(mark.path);
  // An event declared erroneous: what its error declaration says (api/corrections.ts).
  if (declared !== undefined) w.ascii(',"errorDeclaration":').text(JSON.stringify(declared));
  w.ascii('}');
}

/**
 * One tx of a stored block, cached: its canonical JSON text (checked) and, once asked for, where
 * its events are. Text, not bytes: read from the store as a JS string, it lives on the JS heap,
 * and proofs carry the tx as a string anyway.
 */
interface CachedTx {
  text: string;
  /** undefined: not looked for yet; null: the text does not have the expected shape (JSON.parse it). */
  index?: TxEventIndex | null;
}

/** A stored tx parsed for one request: its checked text, its block's proof material, the parsed tx. */
export interface ParsedTx {
  text: string;
  material: BlockMaterial;
  tx: SignedTx;
}

/**
 * One request's memo of parsed txs, by `blockHash:txIndex`. A query reads events in chain order,
 * so the events of one tx come one after another: a few entries are enough, and the bound keeps
 * a page that touches thousands of txs from holding them all (each up to a block's size parsed).
 */
export type ParsedTxMemo = LruCache<string, ParsedTx>;

/** Entries of a request's ParsedTxMemo. */
export const PARSED_TX_MEMO_ENTRIES = 8;

export function parsedTxMemo(): ParsedTxMemo {
  return new LruCache<string, ParsedTx>(PARSED_TX_MEMO_ENTRIES);
}

/** LRU cost of a cached tx (its text, about one byte per char for the ASCII that canonical txs mostly are). */
function cachedTxCost(tx: CachedTx): number {
  return tx.text.length + 128 + (tx.index?.cost ?? 0);
}

/** The tx ID of a tx's canonical text: the fast way, or by decoding it (throws STORE_DAMAGED if it does not decode). */
function txIdOfStoredText(text: string, chain: Pick<Chain, 'limits'>, where: string): Uint8Array {
  const id = txIdOfCanonicalText(text);
  if (id !== undefined) return id;
  try {
    return decodeCanonicalTx(Buffer.from(text, 'utf8'), chain.limits).id;
  } catch (err) {
    if (err instanceof TxError) throw damaged(`${where} does not decode: ${err.message}`);
    throw err;
  }
}

/** Block bytes just read from the store, with its (checked) proof material. Not cached: only the txs asked for are. */
class LoadedBlock {
  constructor(
    readonly bytes: Uint8Array,
    readonly material: BlockMaterial,
    /** The material was computed from these very bytes (every tx checked against the header's root). */
    private readonly checked: boolean,
    private readonly chain: Pick<Chain, 'limits'>,
  ) {}

  /**
   * Tx i's canonical text. Bytes read again for a block whose material is cached are checked
   * tx by tx: the tx's ID must be the one the material (checked against the header) holds.
   */
  tx(i: number): string {
    const m = this.material;
    const slice = m.txBytes(this.bytes, i);
    if (this.checked) return textOf(slice, m.hash, i);
    let id = txIdOfCanonicalBytes(slice);
    if (id === undefined) {
      try {
        id = decodeCanonicalTx(slice, this.chain.limits).id;
      } catch (err) {
        if (err instanceof TxError) throw damaged(`block ${m.hash}: tx ${i} does not decode: ${err.message}`);
        throw err;
      }
    }
    if (toHex(id) !== m.txIdHex(i)) throw damaged(`block ${m.hash}: stored tx ${i} does not hash to its tx ID (the block's merkle root)`);
    return textOf(slice, m.hash, i);
  }
}

function textOf(bytes: Uint8Array, hash: string, i: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw damaged(`block ${hash}: tx ${i} is not UTF-8`);
  }
}

/** Passes of a store-or-mempool lookup whose chain state moved under a miss (each after the change settled). */
const LOOKUP_ATTEMPTS = 3;

export class Provenance {
  /** Tx texts asked for, by `blockHash:txIndex` (budget: blockCacheBytes, default 0: none kept). */
  private readonly txCache: LruCache<string, CachedTx>;
  private readonly materialCache: LruCache<string, BlockMaterial>;
  /** Main-chain hash by height; cleared on every reorg. */
  private readonly mainCache = new LruCache<number, string>(200_000);
  /** In-flight block reads, so concurrent misses on one block read it once (bounded by concurrency). */
  private readonly loading = new Map<string, Promise<LoadedBlock | undefined>>();
  private readonly onReorg = (): void => this.mainCache.clear();

  constructor(
    private readonly chain: Chain,
    opts: ProvenanceOptions = DEFAULT_PROVENANCE_OPTIONS,
  ) {
    this.txCache = new LruCache(opts.blockCacheBytes);
    this.materialCache = new LruCache(opts.proofCacheBytes);
    chain.on('reorg', this.onReorg);
  }

  close(): void {
    this.chain.off('reorg', this.onReorg);
  }

  cacheStats(): Record<'txs' | 'proofs', CacheStats> {
    const s = (c: LruCache<string, unknown>): CacheStats => ({ entries: c.size, bytes: c.cost, hits: c.hits, misses: c.misses });
    return { txs: s(this.txCache), proofs: s(this.materialCache) };
  }

  /** Read a stored block (once for concurrent callers) with its proof material (cached, or computed and checked now); undefined if not stored. */
  private async load(hash: string): Promise<LoadedBlock | undefined> {
    const pending = this.loading.get(hash);
    if (pending !== undefined) return pending;
    const load = (async () => {
      const bytes = await this.chain.store.getBlockBytes(hash);
      if (bytes === undefined) return undefined;
      const cached = this.materialCache.get(hash);
      if (cached !== undefined && cached.hasOffsets) return new LoadedBlock(bytes, cached, false, this.chain);
      const material = materialOf(hash, bytes, this.chain);
      this.materialCache.set(hash, material, material.cost);
      return new LoadedBlock(bytes, material, true, this.chain);
    })();
    this.loading.set(hash, load);
    try {
      return await load;
    } finally {
      this.loading.delete(hash);
    }
  }

  /** Tx `txIndex` of a stored block with the block's proof material (both cached), or undefined if the block is not stored. */
  async txOf(hash: string, txIndex: number): Promise<{ material: BlockMaterial; tx: CachedTx } | undefined> {
    const key = `${hash}:${txIndex}`;
    const material = this.materialCache.get(hash);
    const hit = this.txCache.get(key);
    if (material !== undefined && hit !== undefined) return { material, tx: hit };
    const single = await this.singleTx(hash, txIndex, key, material);
    if (single !== undefined) return single;
    const block = await this.load(hash);
    if (block === undefined) return undefined;
    if (txIndex >= block.material.txCount) throw damaged(`block ${hash} has no tx ${txIndex}`);
    let tx = this.txCache.get(key); // a concurrent request may have cached it meanwhile
    if (tx === undefined) {
      tx = { text: block.tx(txIndex) };
      this.txCache.set(key, tx, cachedTxCost(tx));
    }
    return { material: block.material, tx };
  }

  /**
   * The tx read on its own (storage buckets blockTxIds and blockTxs: ~one tx instead of a whole
   * block, so no multi-MiB buffers churn through the heap), checked against the block's tx IDs,
   * which are checked against its header. Undefined when the store has no per-tx records for
   * the block (stored by an older build): the caller reads the block.
   */
  private async singleTx(hash: string, txIndex: number, key: string, cachedMaterial: BlockMaterial | undefined): Promise<{ material: BlockMaterial; tx: CachedTx } | undefined> {
    const { store } = this.chain;
    let material = cachedMaterial;
    if (material === undefined) {
      const record = await store.getBlockTxIds(hash);
      if (record === undefined) return undefined;
      material = materialFromIds(hash, record);
      this.materialCache.set(hash, material, material.cost);
    }
    if (txIndex >= material.txCount) throw damaged(`block ${hash} has no tx ${txIndex}`);
    let tx = this.txCache.get(key);
    if (tx === undefined) {
      const [text] = await store.getBlockTxTexts([{ hash, index: txIndex }]);
      if (text === undefined) return undefined;
      const id = txIdOfStoredText(text, this.chain, `block ${hash}: stored tx ${txIndex}`);
      if (toHex(id) !== material.txIdHex(txIndex)) throw damaged(`block ${hash}: stored tx ${txIndex} does not hash to its tx ID (the block's merkle root)`);
      tx = { text };
      this.txCache.set(key, tx, cachedTxCost(tx));
    }
    return { material, tx };
  }

  /** Where the events of a cached tx are (computed once per cached tx), or null if its bytes do not have the expected shape. */
  private eventIndexOf(key: string, tx: CachedTx): TxEventIndex | null {
    if (tx.index === undefined) {
      tx.index = indexTxEvents(tx.text) ?? null;
      // Account for the index (re-inserting it if it was evicted meanwhile: it is in use).
      this.txCache.set(key, tx, cachedTxCost(tx));
    }
    return tx.index;
  }

  /** The main-chain block hash at a height, or undefined. */
  async mainHash(height: number): Promise<string | undefined> {
    const cached = this.mainCache.get(height);
    if (cached !== undefined) return cached;
    const hash = await this.chain.store.getMainHash(height);
    if (hash !== undefined) this.mainCache.set(height, hash);
    return hash;
  }

  private confirmationsOf(ref: BlockRef, isMain: boolean): number {
    return isMain ? this.chain.confirmations(ref.height) : 0;
  }

  /**
   * The parsed tx `txIndex` of a stored block. `parsed` (one request's memo, see ParsedTxMemo) is
   * looked in before the store: without it every event of a page re-read, re-hashed and
   * re-decompressed its tx when no tx cache is configured (the default).
   */
  private async txAt(ref: BlockRef, txIndex: number, parsed?: ParsedTxMemo): Promise<ParsedTx> {
    const memoKey = `${ref.hash}:${txIndex}`;
    const memo = parsed?.get(memoKey);
    if (memo !== undefined) return memo;
    const found = await this.txOf(ref.hash, txIndex);
    if (found === undefined) throw damaged(`main-chain block ${ref.hash} at height ${ref.height} is not stored`);
    const { material } = found;
    const { text } = found.tx;
    const out: ParsedTx = { text, material, tx: JSON.parse(text) as SignedTx };
    parsed?.set(memoKey, out, 1);
    return out;
  }

  private checkEvent(ref: BlockRef, tx: SignedTx, txIndex: number, eventIndex: number, expectedEventId: string | undefined): { eventId: string; event: Record<string, unknown> } {
    const eventId = tx.eventIds[eventIndex];
    const event = tx.events[eventIndex];
    if (eventId === undefined || event === undefined || (expectedEventId !== undefined && eventId !== expectedEventId)) {
      throw damaged(`index says event ${expectedEventId ?? '?'} is event ${eventIndex} of tx ${txIndex} in block ${ref.hash}, but it is not`);
    }
    return { eventId, event };
  }

  /** Just the event at a position (no proof). */
  async eventAt(ref: BlockRef, txIndex: number, eventIndex: number, expectedEventId: string | undefined, parsed?: ParsedTxMemo): Promise<Record<string, unknown>> {
    return (await this.eventWithIdAt(ref, txIndex, eventIndex, expectedEventId, parsed)).event;
  }

  /** The event at a position and its ID (no proof). */
  async eventWithIdAt(ref: BlockRef, txIndex: number, eventIndex: number, expectedEventId: string | undefined, parsed?: ParsedTxMemo): Promise<{ eventId: string; event: Record<string, unknown> }> {
    const { tx } = await this.txAt(ref, txIndex, parsed);
    return this.checkEvent(ref, tx, txIndex, eventIndex, expectedEventId);
  }

  /**
   * The entry (event, tx ID, confirmations, proof) of event `eventIndex` of tx `txIndex` in a
   * stored block. `parsed` memoises parsed txs across calls of one request.
   */
  async entryAt(ref: BlockRef, txIndex: number, eventIndex: number, expectedEventId: string | undefined, parsed?: ParsedTxMemo): Promise<EventEntry> {
    const { text, material, tx } = await this.txAt(ref, txIndex, parsed);
    const { eventId, event } = this.checkEvent(ref, tx, txIndex, eventIndex, expectedEventId);
    const isMain = (await this.mainHash(ref.height)) === ref.hash;
    return { eventId, event, txId: material.txIdHex(txIndex), block: ref, confirmations: this.confirmationsOf(ref, isMain), proof: material.proof(text, txIndex) };
  }

  /**
   * As entryAt, without parsing the tx: the event is a slice of the stored canonical tx text
   * (found by indexTxEvents, kept with the cached tx), for writeEventEntry. Falls back to
   * JSON.parse for a tx whose text does not have the expected shape.
   */
  async rawEntryAt(
    ref: BlockRef,
    txIndex: number,
    eventIndex: number,
    expectedEventId: string | undefined,
    prefetched?: { material: BlockMaterial; tx: CachedTx },
  ): Promise<RawEventEntry> {
    const found = prefetched ?? (await this.txOf(ref.hash, txIndex));
    if (found === undefined) throw damaged(`main-chain block ${ref.hash} at height ${ref.height} is not stored`);
    const { material } = found;
    const tx = found.tx.text;
    const index = this.eventIndexOf(`${ref.hash}:${txIndex}`, found.tx);
    const slicedId = index?.eventId(eventIndex);
    const sliced = slicedId !== undefined ? index?.event(eventIndex) : undefined;
    let eventId: string;
    let event: string;
    if (index && slicedId !== undefined && sliced !== undefined) {
      eventId = slicedId;
      if (expectedEventId !== undefined && eventId !== expectedEventId) {
        throw damaged(`index says event ${expectedEventId} is event ${eventIndex} of tx ${txIndex} in block ${ref.hash}, but it is not`);
      }
      event = index.reorders(eventIndex) ? JSON.stringify(JSON.parse(sliced)) : sliced;
    } else {
      const checked = this.checkEvent(ref, JSON.parse(tx) as SignedTx, txIndex, eventIndex, expectedEventId);
      eventId = checked.eventId;
      event = JSON.stringify(checked.event);
    }
    const isMain = (await this.mainHash(ref.height)) === ref.hash;
    return { eventId, event, txIndex, block: ref, confirmations: this.confirmationsOf(ref, isMain), material, tx };
  }

  /**
   * rawEntryAt for several events at once (a /trace page): the txs they need are read from the
   * store in one multi-get (checked against their blocks' tx IDs as singleTx does) instead of one
   * read each; a tx of a block stored without per-tx records is read as rawEntryAt reads it.
   */
  async rawEntriesAt(list: readonly { ref: BlockRef; txIndex: number; eventIndex: number; eventId: string }[]): Promise<RawEventEntry[]> {
    const { store } = this.chain;
    const hashes = [...new Set(list.map((x) => x.ref.hash))];
    const materials = new Map<string, BlockMaterial>();
    await Promise.all(
      hashes.map(async (hash) => {
        let m = this.materialCache.get(hash);
        if (m === undefined) {
          const record = await store.getBlockTxIds(hash);
          if (record === undefined) return; // stored by an older build: rawEntryAt reads the block
          m = materialFromIds(hash, record);
          this.materialCache.set(hash, m, m.cost);
        }
        materials.set(hash, m);
      }),
    );
    const found = new Map<string, { material: BlockMaterial; tx: CachedTx }>();
    const toRead: { hash: string; index: number; key: string; material: BlockMaterial }[] = [];
    const queued = new Set<string>();
    for (const { ref, txIndex } of list) {
      const key = `${ref.hash}:${txIndex}`;
      const material = materials.get(ref.hash);
      if (material === undefined || found.has(key) || queued.has(key)) continue;
      queued.add(key);
      if (txIndex >= material.txCount) throw damaged(`block ${ref.hash} has no tx ${txIndex}`);
      const cached = this.txCache.get(key);
      if (cached !== undefined) found.set(key, { material, tx: cached });
      else toRead.push({ hash: ref.hash, index: txIndex, key, material });
    }
    const texts = toRead.length === 0 ? [] : await store.getBlockTxTexts(toRead);
    toRead.forEach((t, i) => {
      const text = texts[i];
      if (text === undefined) return; // no per-tx record: rawEntryAt reads the block
      const id = txIdOfStoredText(text, this.chain, `block ${t.hash}: stored tx ${t.index}`);
      if (toHex(id) !== t.material.txIdHex(t.index)) throw damaged(`block ${t.hash}: stored tx ${t.index} does not hash to its tx ID (the block's merkle root)`);
      const tx: CachedTx = { text };
      this.txCache.set(t.key, tx, cachedTxCost(tx));
      found.set(t.key, { material: t.material, tx });
    });
    return Promise.all(list.map((x) => this.rawEntryAt(x.ref, x.txIndex, x.eventIndex, x.eventId, found.get(`${x.ref.hash}:${x.txIndex}`))));
  }

  /**
   * Look something up that is either in the store (on the main chain) or pending in the mempool.
   * A tx moves between the two while a block connects or disconnects, so one pass can miss it in
   * both: `once` looks at the mempool first (a connect removes a tx from it only after the block's
   * batch is written, so a tx gone from the mempool is found by the store read that follows), and a
   * miss is read again after the change in flight settles when the chain's state stamp moved
   * during the pass (a disconnect puts the txs back only after its batch).
   */
  private async lookup<T>(once: (moved: () => boolean) => Promise<T | undefined>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const before = this.chain.stateStamp();
      const moved = (): boolean => before === undefined || this.chain.stateStamp() !== before;
      const found = await once(moved);
      if (found !== undefined) return found;
      const after = this.chain.stateStamp();
      if ((before !== undefined && before === after) || attempt === LOOKUP_ATTEMPTS - 1) return undefined;
      await this.chain.stateSettled();
    }
  }

  /** An event by ID: on the main chain (with proof), pending in the mempool (no proof), or undefined. */
  eventById(eventId: string): Promise<EventEntry | undefined> {
    return this.lookup(async (moved) => {
      const { store } = this.chain;
      const pending = this.pendingEvent(eventId);
      const loc = await store.getEventLocation(eventId);
      if (loc === undefined) return pending ?? this.pendingEvent(eventId);
      const txLoc = await store.getTxLocation(loc.txId);
      if (txLoc === undefined) {
        // A disconnect between the two reads removed both: read again once it settled.
        if (moved()) return undefined;
        throw damaged(`event ${eventId} points at tx ${loc.txId}, which has no location`);
      }
      const entry = await this.entryAt({ hash: txLoc.blockHash, height: txLoc.height }, txLoc.index, loc.index, eventId);
      if (entry.txId !== loc.txId) throw damaged(`event ${eventId}: tx ${loc.txId} is not tx ${txLoc.index} of block ${txLoc.blockHash}`);
      return entry;
    });
  }

  /** Which of these event IDs are recorded: on the main chain or pending (one batched read). */
  async eventsRecorded(eventIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    if (eventIds.length === 0) return out;
    const locs = await this.chain.store.getEventLocations(eventIds);
    eventIds.forEach((id, i) => {
      if (locs[i] !== undefined || this.chain.mempool.txOfEvent(id) !== undefined) out.add(id);
    });
    return out;
  }

  private pendingEvent(eventId: string): EventEntry | undefined {
    const { mempool } = this.chain;
    const pendingTx = mempool.txOfEvent(eventId);
    if (pendingTx === undefined) return undefined;
    const pe = mempool.get(pendingTx);
    if (pe === undefined) return undefined;
    const i = pe.tx.eventIds.indexOf(eventId);
    const event = pe.tx.events[i];
    if (event === undefined) return undefined;
    return { eventId, event, txId: pendingTx, block: null, confirmations: 0, proof: null };
  }

  /** A tx by ID: on the main chain (with proof), pending, or undefined. */
  txById(txId: string): Promise<TxEntry | undefined> {
    return this.lookup(async () => {
      const { store, mempool } = this.chain;
      const pe = mempool.get(txId);
      const loc = await store.getTxLocation(txId);
      if (loc !== undefined) {
        const found = await this.txOf(loc.blockHash, loc.index);
        if (found === undefined) throw damaged(`tx ${txId} points at block ${loc.blockHash}, which is not stored`);
        const { material } = found;
        if (material.txIdHex(loc.index) !== txId) throw damaged(`tx ${txId} is not tx ${loc.index} of block ${loc.blockHash}`);
        const proof = material.proof(found.tx.text, loc.index);
        const ref = { hash: loc.blockHash, height: loc.height };
        const isMain = (await this.mainHash(loc.height)) === loc.blockHash;
        return { txId, tx: JSON.parse(proof.tx) as SignedTx, block: ref, confirmations: this.confirmationsOf(ref, isMain), proof };
      }
      const pending = pe ?? mempool.get(txId);
      if (pending === undefined) return undefined;
      return { txId, tx: pending.tx, block: null, confirmations: 0, proof: null };
    });
  }
}
