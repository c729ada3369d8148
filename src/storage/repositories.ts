/**
 * One small repository per bucket over the single LevelDB database (the model is lodestar's
 * `Repository` and ethereumjs's DBManager). A repository owns its 1-byte bucket prefix and its
 * key/value codec; it reads directly and returns batch operations for writes, so the store can
 * assemble a block connect/disconnect into one atomic batch. Every decode failure becomes a
 * StorageCorruptionError naming the bucket and the key.
 *
 * Just over our ~450-line norm: one short repository per bucket, kept in one file so every
 * bucket's prefix and key layout can be read side by side (docs/architecture.md, Storage layout).
 */
import type { ClassicLevel } from 'classic-level';
import { concatBytes, equalBytes, toHex } from '../common/bytes.js';
import type { EventLocation, HeaderEntry, LinkRole, LotKey, RecordNs, StoredItem, StoredRecord, TxLocation, UndoRecord } from '../chain/store.js';
import * as c from './codecs.js';
import { compressSync, expand } from './compact.js';
import { StorageArgumentError, StorageCorruptionError, StorageReadError, StorageWriteError, levelErrorCode } from './errors.js';

export type Db = ClassicLevel<Uint8Array, Uint8Array>;

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/** Bucket prefixes. Append only: a prefix, once used, is never reassigned. */
export const BUCKETS = {
  blocks: 0x01,
  headers: 0x02,
  main: 0x03,
  txLocations: 0x04,
  eventLocations: 0x05,
  history: 0x06,
  items: 0x07,
  recalledLots: 0x08,
  undo: 0x09,
  meta: 0x0a,
  /** Each stored block's txs one by one: (block hash, tx index) → the tx's canonical bytes (compressed since schema 3). */
  blockTxs: 0x0b,
  /** Each stored block's proof material: block hash → header (112 bytes) ‖ its tx IDs (32 bytes each). */
  blockTxIds: 0x0c,
  /** Link records (trace/journey.ts): item key ‖ role ‖ position → kind ‖ container key. */
  links: 0x0d,
  /** The governance state at the tip (chain/governance.ts): one key, "state" → its JSON. */
  governance: 0x0e,
  /** The query index (trace/query-terms.ts): utf8(term) ‖ 0x00 ‖ height → (txIndex ‖ eventIndex) of each of the block's events with the term. */
  terms: 0x0f,
  /** Chain-derived records (chain/alert-state.ts): namespace byte ‖ key → JSON (alerts, pack facts). Numbered apart from the run above so parallel additions do not collide. */
  records: 0x1a,
  /** Their index (owner, party, status and lot of alerts; items of a lot): utf8 index key → empty. */
  recordIndex: 0x1b,
  /**
   * Node-local notification records (storage/notify-records.ts), not chain state and not rebuilt
   * by a reindex (numbered apart from the chain's buckets): kind byte ‖ UTF-8 name → UTF-8 JSON (named queries, subscriptions, cursors).
   */
  notify: 0x20,
} as const;

export type BucketName = keyof typeof BUCKETS;
export const BUCKET_NAMES = Object.keys(BUCKETS) as BucketName[];

/** Buckets rebuilt from the blocks by a reindex (everything but blocks, header index and meta). */
export const INDEX_BUCKETS: readonly BucketName[] = ['main', 'txLocations', 'eventLocations', 'history', 'terms', 'links', 'items', 'recalledLots', 'undo', 'governance', 'records', 'recordIndex'];

export interface Codec<K, V> {
  encodeKey(k: K): Uint8Array;
  decodeKey(b: Uint8Array): K;
  encodeValue(v: V, k: K): Uint8Array;
  decodeValue(b: Uint8Array, k: K): V;
}

/** A range inside one bucket, on bucket-relative keys (without the prefix byte). */
export interface InnerRange {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  limit?: number;
  reverse?: boolean;
}

function withPrefix(prefix: number, inner: Uint8Array): Uint8Array {
  const out = new Uint8Array(inner.length + 1);
  out[0] = prefix;
  out.set(inner, 1);
  return out;
}

/** A plain Uint8Array view of a level Buffer (no copy). */
export function view(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The undecoded, type-independent view of a bucket (audit, stats, clearing). */
export interface BucketReader {
  readonly bucket: BucketName;
  readonly prefix: number;
  rawEntries(range?: InnerRange): AsyncGenerator<[Uint8Array, Uint8Array]>;
  rawKeys(range?: InnerRange): AsyncGenerator<Uint8Array>;
  count(): Promise<number>;
  bounds(): { gte: Uint8Array; lt: Uint8Array };
}

export class Repository<K, V> implements BucketReader {
  readonly prefix: number;

  constructor(
    protected readonly db: Db,
    readonly bucket: BucketName,
    protected readonly codec: Codec<K, V>,
  ) {
    this.prefix = BUCKETS[bucket];
  }

  dbKey(k: K): Uint8Array {
    return withPrefix(this.prefix, this.codec.encodeKey(k));
  }

  put(k: K, v: V): BatchOp {
    return { type: 'put', key: this.dbKey(k), value: this.codec.encodeValue(v, k) };
  }

  del(k: K): BatchOp {
    return { type: 'del', key: this.dbKey(k) };
  }

  /**
   * Write raw value bytes under a key at once (synced), bypassing the value codec, the store's
   * invariants and its one-batch-per-block discipline. For tools and tests only, e.g. planting
   * damage for `audit` to find; the node never calls it.
   */
  async putRaw(k: K, value: Uint8Array): Promise<void> {
    try {
      await this.db.batch([{ type: 'put', key: this.dbKey(k), value }], { sync: true });
    } catch (err) {
      throw new StorageWriteError(`${this.bucket} putRaw`, err);
    }
  }

  async get(k: K): Promise<V | undefined> {
    const key = this.dbKey(k);
    const raw = await this.getRaw(key);
    return raw === undefined ? undefined : this.decodeValue(key.subarray(1), raw, k);
  }

  /** Many gets in one LevelDB call, results in key order. */
  async getMany(ks: readonly K[]): Promise<(V | undefined)[]> {
    if (ks.length === 0) return [];
    const keys = ks.map((k) => this.dbKey(k));
    let raws: (Uint8Array | undefined)[];
    try {
      raws = await this.db.getMany(keys);
    } catch (err) {
      throw this.readError(keys[0] as Uint8Array, err);
    }
    return raws.map((raw, i) => (raw === undefined ? undefined : this.decodeValue((keys[i] as Uint8Array).subarray(1), view(raw), ks[i] as K)));
  }

  /**
   * Gets read synchronously (`getSync`), for a few point reads on a request's path: ~9 µs each
   * here against ~90 µs for an async get, most of which is the hand-off to libuv's thread pool
   * and back. A value not in the OS page cache blocks the event loop for its disk read, so only
   * small reads of hot data are made this way.
   */
  getManySync(ks: readonly K[]): (V | undefined)[] {
    return ks.map((k) => {
      const key = this.dbKey(k);
      let raw: Uint8Array | undefined;
      try {
        raw = this.db.getSync(key);
      } catch (err) {
        throw this.readError(key, err);
      }
      return raw === undefined ? undefined : this.decodeValue(key.subarray(1), view(raw), k);
    });
  }

  async has(k: K): Promise<boolean> {
    const key = this.dbKey(k);
    try {
      return await this.db.has(key);
    } catch (err) {
      throw this.readError(key, err);
    }
  }

  /** Decoded entries of the bucket (or of a range inside it), in key order. */
  async *entries(range: InnerRange = {}): AsyncGenerator<[K, V]> {
    for await (const [inner, raw] of this.rawEntries(range)) {
      const k = this.decodeKey(inner);
      yield [k, this.decodeValue(inner, raw, k)];
    }
  }

  /**
   * Decoded entries of a range, in key order, read in one call (`iterator.all()`): for bounded
   * ranges (a `limit`) read whole, as pages are. Several times faster per entry than iterating
   * with `entries`, whose async generators cost a few promises per entry.
   */
  async entryList(range: InnerRange): Promise<[K, V][]> {
    const raw = await this.rawList(range);
    const out: [K, V][] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const [key, value] = raw[i] as [Uint8Array, Uint8Array];
      const inner = view(key).subarray(1);
      const k = this.decodeKey(inner);
      out[i] = [k, this.decodeValue(inner, view(value), k)];
    }
    return out;
  }

  /** Raw entries of a range (full database keys, with the prefix byte), read in one call. */
  protected async rawList(range: InnerRange): Promise<[Uint8Array, Uint8Array][]> {
    try {
      return await this.db.iterator(this.levelRange(range)).all();
    } catch (err) {
      throw this.iterationError(err);
    }
  }

  /** Decoded keys only. */
  async *keys(range: InnerRange = {}): AsyncGenerator<K> {
    for await (const inner of this.rawKeys(range)) yield this.decodeKey(inner);
  }

  /** Raw bucket-relative keys and values, undecoded. */
  async *rawEntries(range: InnerRange = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const it = this.db.iterator(this.levelRange(range));
    try {
      for await (const [key, value] of it) yield [view(key).subarray(1), view(value)];
    } catch (err) {
      throw this.iterationError(err);
    }
  }

  async *rawKeys(range: InnerRange = {}): AsyncGenerator<Uint8Array> {
    const it = this.db.keys(this.levelRange(range));
    try {
      for await (const key of it) yield view(key).subarray(1);
    } catch (err) {
      throw this.iterationError(err);
    }
  }

  /** Number of entries in the bucket (walks the keys). */
  async count(): Promise<number> {
    let n = 0;
    for await (const _ of this.rawKeys()) n++;
    return n;
  }

  /** The bucket's whole key range as full database keys: [prefix, prefix+1). */
  bounds(): { gte: Uint8Array; lt: Uint8Array } {
    return { gte: new Uint8Array([this.prefix]), lt: new Uint8Array([this.prefix + 1]) };
  }

  protected levelRange(r: InnerRange): { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array; limit?: number; reverse?: boolean } {
    const out: { gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array; limit?: number; reverse?: boolean } = {};
    if (r.gt !== undefined) out.gt = withPrefix(this.prefix, r.gt);
    else if (r.gte !== undefined) out.gte = withPrefix(this.prefix, r.gte);
    else out.gte = new Uint8Array([this.prefix]);
    if (r.lt !== undefined) out.lt = withPrefix(this.prefix, r.lt);
    else if (r.lte !== undefined) out.lte = withPrefix(this.prefix, r.lte);
    else out.lt = new Uint8Array([this.prefix + 1]);
    if (r.limit !== undefined) out.limit = r.limit;
    if (r.reverse !== undefined) out.reverse = r.reverse;
    return out;
  }

  protected async getRaw(key: Uint8Array): Promise<Uint8Array | undefined> {
    let raw: Uint8Array | undefined;
    try {
      raw = await this.db.get(key);
    } catch (err) {
      throw this.readError(key, err);
    }
    return raw === undefined ? undefined : view(raw);
  }

  protected decodeKey(inner: Uint8Array): K {
    try {
      return this.codec.decodeKey(inner);
    } catch (err) {
      throw this.corruption(inner, err);
    }
  }

  protected decodeValue(inner: Uint8Array, raw: Uint8Array, k: K): V {
    try {
      return this.codec.decodeValue(raw, k);
    } catch (err) {
      throw this.corruption(inner, err);
    }
  }

  private corruption(inner: Uint8Array, err: unknown): unknown {
    if (err instanceof c.DecodeError) return new StorageCorruptionError(this.bucket, toHex(inner), err.message, { cause: err });
    return err;
  }

  private readError(key: Uint8Array, err: unknown): Error {
    if (levelErrorCode(err) === 'LEVEL_CORRUPTION') {
      return new StorageCorruptionError(this.bucket, toHex(key.subarray(1)), 'LevelDB reports corruption', { cause: err });
    }
    return new StorageReadError(`${this.bucket} get`, err);
  }

  private iterationError(err: unknown): unknown {
    // Our own decode errors pass through; LevelDB errors get context.
    if (err instanceof StorageCorruptionError || err instanceof StorageReadError) return err;
    if (levelErrorCode(err) === 'LEVEL_CORRUPTION') return new StorageCorruptionError(this.bucket, '', 'LevelDB reports corruption while iterating', { cause: err });
    return new StorageReadError(`${this.bucket} iterate`, err);
  }
}

// ---------------------------------------------------------------- codecs per bucket

const hashKey = {
  encodeKey: (h: string) => c.encodeHash('hash', h),
  decodeKey: (b: Uint8Array) => c.decodeHash(b, 'hash key'),
};

const blockCodec: Codec<string, Uint8Array> = {
  ...hashKey,
  encodeValue: (v) => v,
  decodeValue: (b) => {
    if (b.length === 0) throw new c.DecodeError('block bytes are empty');
    return b;
  },
};

/** A tx of a stored block by position. */
export interface BlockTxKey {
  hash: string;
  index: number;
}

const blockTxCodec: Codec<BlockTxKey, Uint8Array> = {
  encodeKey: (k) => {
    const out = new Uint8Array(36);
    out.set(c.encodeHash('block hash', k.hash), 0);
    out.set(c.encodeU32('tx index', k.index), 32);
    return out;
  },
  decodeKey: (b) => {
    if (b.length !== 36) throw new c.DecodeError(`block tx key must be 36 bytes, got ${b.length}`);
    return { hash: c.decodeHash(b.subarray(0, 32), 'block hash'), index: c.decodeU32(b.subarray(32), 'tx index') };
  },
  // Written compressed (storage/compact.ts); read in either form, back to the canonical bytes.
  encodeValue: (v) => compressSync(v),
  decodeValue: (b) => expand(b, 'tx bytes'),
};

/** header (112) ‖ tx IDs (32 each). */
const blockTxIdsCodec: Codec<string, Uint8Array> = {
  ...hashKey,
  encodeValue: (v) => v,
  decodeValue: (b) => {
    if (b.length < 112 || (b.length - 112) % 32 !== 0) throw new c.DecodeError(`block tx-ID record has an impossible length ${b.length}`);
    return b;
  },
};

const headerCodec: Codec<string, HeaderEntry> = {
  ...hashKey,
  encodeValue: (v, k) => {
    if (v.hash !== k) throw new StorageArgumentError('header entry stored under a different hash');
    return c.encodeHeaderEntry(v);
  },
  decodeValue: (b, k) => c.decodeHeaderEntry(k, b),
};

const mainCodec: Codec<number, string> = {
  encodeKey: (h) => c.encodeU32('height', h),
  decodeKey: (b) => c.decodeU32(b, 'height key'),
  encodeValue: (v) => c.encodeHash('main-chain hash', v),
  decodeValue: (b) => c.decodeHash(b, 'main-chain hash'),
};

const txLocationCodec: Codec<string, TxLocation> = {
  encodeKey: (h) => c.encodeHash('txId', h),
  decodeKey: (b) => c.decodeHash(b, 'txId key'),
  encodeValue: c.encodeTxLocation,
  decodeValue: c.decodeTxLocation,
};

const eventLocationCodec: Codec<string, EventLocation> = {
  encodeKey: c.encodeEventId,
  decodeKey: (b) => c.decodeEventId(b, 'event ID key'),
  encodeValue: c.encodeEventLocation,
  decodeValue: c.decodeEventLocation,
};

const historyCodec: Codec<c.HistoryKey, string> = {
  encodeKey: c.encodeHistoryKey,
  decodeKey: c.decodeHistoryKey,
  encodeValue: c.encodeEventId,
  decodeValue: (b) => c.decodeEventId(b, 'history event digest'),
};

const linkCodec: Codec<c.LinkKey, c.LinkValue> = {
  encodeKey: c.encodeLinkKey,
  decodeKey: c.decodeLinkKey,
  encodeValue: (v, k) => c.encodeLinkValue(v, k.role),
  decodeValue: (b, k) => c.decodeLinkValue(b, k.role),
};

const itemCodec: Codec<string, StoredItem> = {
  encodeKey: c.encodeItemKey,
  decodeKey: c.decodeItemKey,
  encodeValue: (v, k) => {
    if (v.key !== k) throw new StorageArgumentError('item stored under a different key');
    return c.encodeItem(v);
  },
  decodeValue: (b, k) => c.decodeItem(k, b),
};

const governanceCodec: Codec<'state', string> = {
  encodeKey: () => new TextEncoder().encode('state'),
  decodeKey: (b) => {
    if (new TextDecoder().decode(b) !== 'state') throw new c.DecodeError('the governance bucket has one key, "state"');
    return 'state';
  },
  encodeValue: (v) => c.encodeGovernance(v),
  decodeValue: (b) => c.decodeGovernance(b),
};

const recordCodec: Codec<{ ns: RecordNs; key: string }, StoredRecord> = {
  encodeKey: c.encodeRecordKey,
  decodeKey: c.decodeRecordKey,
  encodeValue: (v) => c.encodeRecord(v),
  decodeValue: (b) => c.decodeRecord(b),
};

const recordIndexCodec: Codec<string, true> = {
  encodeKey: c.encodeRecordIndexKey,
  decodeKey: c.decodeRecordIndexKey,
  encodeValue: () => new Uint8Array(0),
  decodeValue: (b) => c.decodeEmpty(b, 'record index entry'),
};

const lotCodec: Codec<LotKey, true> = {
  encodeKey: c.encodeLotKey,
  decodeKey: c.decodeLotKey,
  encodeValue: () => new Uint8Array(0),
  decodeValue: (b) => c.decodeEmpty(b, 'recalled lot'),
};

const undoCodec: Codec<string, UndoRecord> = {
  ...hashKey,
  // Written compressed (storage/compact.ts); read in either form.
  encodeValue: (u) => compressSync(c.encodeUndo(u)),
  decodeValue: (b) => c.decodeUndo(expand(b, 'undo record')),
};

/**
 * Version of the query index (trace/query-terms.ts): 2 added ten-minute terms; 3 moved the rows
 * from one per (term, event) in the history bucket to one per (term, block) in the terms bucket.
 * A store marked with an older version has its index built again at start (node/terms-backfill.ts).
 */
export const QUERY_TERMS_VERSION = 3;

export type MetaKey = 'tip' | 'schema' | 'genesis' | 'clearing' | 'queryTerms';
const META_KEYS: readonly MetaKey[] = ['tip', 'schema', 'genesis', 'clearing', 'queryTerms'];

/** Meta values are raw here; MetaRepository gives each key its own codec. */
const metaCodec: Codec<MetaKey, Uint8Array> = {
  encodeKey: (k) => new TextEncoder().encode(k),
  decodeKey: (b) => {
    const k = new TextDecoder().decode(b);
    if (!(META_KEYS as readonly string[]).includes(k)) throw new c.DecodeError(`unknown meta key ${JSON.stringify(k)}`);
    return k as MetaKey;
  },
  encodeValue: (v) => v,
  decodeValue: (b) => b,
};

export class MetaRepository extends Repository<MetaKey, Uint8Array> {
  constructor(db: Db) {
    super(db, 'meta', metaCodec);
  }

  putTip(hash: string): BatchOp {
    return this.put('tip', c.encodeHash('tip', hash));
  }

  async getTip(): Promise<string | undefined> {
    const b = await this.get('tip');
    return b === undefined ? undefined : this.decodeAs('tip', b, (x) => c.decodeHash(x, 'tip'));
  }

  putSchema(version: number): BatchOp {
    return this.put('schema', c.encodeU32('schema version', version));
  }

  async getSchema(): Promise<number | undefined> {
    const b = await this.get('schema');
    return b === undefined ? undefined : this.decodeAs('schema', b, (x) => c.decodeU32(x, 'schema version'));
  }

  putGenesis(json: string): BatchOp {
    return this.put('genesis', c.encodeGenesisJson(json));
  }

  async getGenesis(): Promise<string | undefined> {
    const b = await this.get('genesis');
    return b === undefined ? undefined : this.decodeAs('genesis', b, c.decodeGenesisJson);
  }

  /**
   * The query index (the terms bucket's rows) covers the main chain: marker byte = the
   * version of its terms (1: without ten-minute terms; QUERY_TERMS_VERSION: the current terms).
   */
  putQueryTerms(): BatchOp {
    return this.put('queryTerms', new Uint8Array([QUERY_TERMS_VERSION]));
  }

  /** The version of the query index's terms, 0 when it is not complete. */
  async getQueryTerms(): Promise<number> {
    const b = await this.get('queryTerms');
    return b === undefined ? 0 : this.decodeAs('queryTerms', b, (x) => {
      if (x.length !== 1 || x[0] === 0) throw new c.DecodeError('query terms marker must be one non-zero version byte');
      return x[0] as number;
    });
  }

  putClearing(): BatchOp {
    return this.put('clearing', new Uint8Array([1]));
  }

  async getClearing(): Promise<boolean> {
    const b = await this.get('clearing');
    return b === undefined ? false : this.decodeAs('clearing', b, (x) => {
      if (x.length !== 1 || x[0] !== 1) throw new c.DecodeError('clearing marker must be the byte 0x01');
      return true;
    });
  }

  private decodeAs<T>(k: MetaKey, b: Uint8Array, decode: (b: Uint8Array) => T): T {
    try {
      return decode(b);
    } catch (err) {
      if (err instanceof c.DecodeError) throw new StorageCorruptionError('meta', toHex(metaCodec.encodeKey(k)), err.message, { cause: err });
      throw err;
    }
  }
}

export class HistoryRepository extends Repository<c.HistoryKey, string> {
  constructor(db: Db) {
    super(db, 'history', historyCodec);
  }

  /**
   * One item's entries in (height, txIndex, eventIndex) order, from a cursor (`gt`: strictly
   * after, `gte`: at or after; none: from the first), at most `limit`.
   */
  async page(key: string, from: { gt: c.HistoryPosition } | { gte: c.HistoryPosition } | undefined, limit: number, to?: c.HistoryPosition): Promise<[c.HistoryKey, string][]> {
    const prefix = c.historyPrefix(key);
    const end = prefix.slice();
    end[end.length - 1] = 1; // utf8(key) ‖ 0x01: just past every utf8(key) ‖ 0x00 ‖ … key
    const range: InnerRange = to !== undefined ? { lte: c.encodeHistoryKey({ key, ...to }), limit } : { lt: end, limit };
    if (from === undefined) range.gte = prefix;
    else if ('gt' in from) range.gt = c.encodeHistoryKey({ key, ...from.gt });
    else range.gte = c.encodeHistoryKey({ key, ...from.gte });
    // Every key in the range is prefix ‖ position: compared as bytes, the item key is not decoded
    // (a page is read per query cursor and round; decoding each key's text was most of its cost).
    const raw = await this.rawList(range);
    const out: [c.HistoryKey, string][] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const [full, value] = raw[i] as [Uint8Array, Uint8Array];
      const inner = view(full).subarray(1);
      if (inner.length !== prefix.length + 12 || !equalBytes(inner.subarray(0, prefix.length), prefix)) {
        throw new StorageCorruptionError('history', toHex(inner), `entry inside the range of ${JSON.stringify(key)} that is not one of its entries`);
      }
      const d = new DataView(inner.buffer, inner.byteOffset + prefix.length, 12);
      const k: c.HistoryKey = { key, height: d.getUint32(0, false), txIndex: d.getUint32(4, false), eventIndex: d.getUint32(8, false) };
      out[i] = [k, this.decodeValue(inner, view(value), k)];
    }
    return out;
  }
}

const termCodec: Codec<{ term: string; height: number }, number[]> = {
  encodeKey: (k) => c.encodeTermKey(k.term, k.height),
  decodeKey: c.decodeTermKey,
  encodeValue: (v) => c.encodeTermPositions(v),
  decodeValue: (b) => c.decodeTermPositions(b),
};

export class TermsRepository extends Repository<{ term: string; height: number }, number[]> {
  constructor(db: Db) {
    super(db, 'terms', termCodec);
  }

  /** One term's rows from height `from` (inclusive) up, at most `limit` rows, in height order. */
  async page(term: string, from: number, limit: number): Promise<{ height: number; positions: number[] }[]> {
    const prefix = c.historyPrefix(term);
    const end = prefix.slice();
    end[end.length - 1] = 1;
    const raw = await this.rawList({ gte: c.encodeTermKey(term, from), lt: end, limit });
    const out: { height: number; positions: number[] }[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const [full, value] = raw[i] as [Uint8Array, Uint8Array];
      const inner = view(full).subarray(1);
      if (inner.length !== prefix.length + 4 || !equalBytes(inner.subarray(0, prefix.length), prefix)) {
        throw new StorageCorruptionError('terms', toHex(inner), `row inside the range of ${JSON.stringify(term)} that is not one of its rows`);
      }
      const height = new DataView(inner.buffer, inner.byteOffset + prefix.length, 4).getUint32(0, false);
      out[i] = { height, positions: this.decodeValue(inner, view(value), { term, height }) };
    }
    return out;
  }
}

export class LinksRepository extends Repository<c.LinkKey, c.LinkValue> {
  constructor(db: Db) {
    super(db, 'links', linkCodec);
  }

  /**
   * One item's records of one role in (height, txIndex, eventIndex) order (newest first with
   * `reverse`), between optional bounds on the position, at most `limit`.
   */
  async page(
    key: string,
    role: LinkRole,
    bounds: { gt?: c.HistoryPosition; gte?: c.HistoryPosition; lte?: c.HistoryPosition; limit: number; reverse?: boolean },
  ): Promise<[c.LinkKey, c.LinkValue][]> {
    const prefix = c.linkPrefix(key, role);
    const end = prefix.slice();
    end[end.length - 1] = (end[end.length - 1] as number) + 1; // just past every key of this item and role
    const range: InnerRange = { limit: bounds.limit };
    if (bounds.gt !== undefined) range.gt = concatBytes(prefix, c.encodeHistoryPosition(bounds.gt));
    else range.gte = bounds.gte !== undefined ? concatBytes(prefix, c.encodeHistoryPosition(bounds.gte)) : prefix;
    if (bounds.lte !== undefined) range.lte = concatBytes(prefix, c.encodeHistoryPosition(bounds.lte));
    else range.lt = end;
    if (bounds.reverse) range.reverse = true;
    const out = await this.entryList(range);
    for (const [k] of out) {
      if (k.key !== key || k.role !== role) throw new StorageCorruptionError('links', toHex(this.codec.encodeKey(k)), `entry for ${JSON.stringify(k.key)} inside the range of ${JSON.stringify(key)}`);
    }
    return out;
  }

  /** Every record of one item, all roles (child, parent, transform; each in position order), at most `limit`. */
  async pageAll(key: string, limit: number): Promise<[c.LinkKey, c.LinkValue][]> {
    const start = c.historyPrefix(key); // utf8(key) ‖ 0x00: the same item prefix
    const end = start.slice();
    end[end.length - 1] = 1;
    const out = await this.entryList({ gte: start, lt: end, limit });
    for (const [k] of out) {
      if (k.key !== key) throw new StorageCorruptionError('links', toHex(this.codec.encodeKey(k)), `entry for ${JSON.stringify(k.key)} inside the range of ${JSON.stringify(key)}`);
    }
    return out;
  }
}

/** Kinds of notification record: the first byte of a `notify` key. */
export const NOTIFY_KINDS = { query: 0x01, subscription: 0x02, cursor: 0x03, alertSubscription: 0x04 } as const;
export type NotifyKind = keyof typeof NOTIFY_KINDS;
export interface NotifyKey {
  kind: NotifyKind;
  name: string;
}

const MAX_NOTIFY_NAME = 1024;

const notifyCodec: Codec<NotifyKey, string> = {
  encodeKey: (k) => {
    const name = new TextEncoder().encode(k.name);
    if (name.length === 0 || name.length > MAX_NOTIFY_NAME) throw new StorageArgumentError(`notify record name must be 1 to ${MAX_NOTIFY_NAME} bytes`);
    return concatBytes(Uint8Array.of(NOTIFY_KINDS[k.kind]), name);
  },
  decodeKey: (b) => {
    const kind = (Object.keys(NOTIFY_KINDS) as NotifyKind[]).find((k) => NOTIFY_KINDS[k] === b[0]);
    if (kind === undefined || b.length < 2) throw new c.DecodeError(`notify key has an unknown kind byte ${b[0] ?? 'none'}`);
    return { kind, name: new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(1)) };
  },
  encodeValue: (v) => new TextEncoder().encode(v),
  decodeValue: (b) => {
    if (b.length === 0) throw new c.DecodeError('notify record is empty');
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw new c.DecodeError('notify record is not UTF-8');
    }
  },
};

export class NotifyRepository extends Repository<NotifyKey, string> {
  constructor(db: Db) {
    super(db, 'notify', notifyCodec);
  }

  /** Every record of one kind, in name order. */
  async list(kind: NotifyKind): Promise<[string, string][]> {
    const out: [string, string][] = [];
    for await (const [k, v] of this.entries({ gte: Uint8Array.of(NOTIFY_KINDS[kind]), lt: Uint8Array.of(NOTIFY_KINDS[kind] + 1) })) out.push([k.name, v]);
    return out;
  }
}

/** All repositories over one database. */
export class Repositories {
  readonly blocks: Repository<string, Uint8Array>;
  readonly headers: Repository<string, HeaderEntry>;
  readonly main: Repository<number, string>;
  readonly txLocations: Repository<string, TxLocation>;
  readonly eventLocations: Repository<string, EventLocation>;
  readonly history: HistoryRepository;
  readonly terms: TermsRepository;
  readonly links: LinksRepository;
  readonly items: Repository<string, StoredItem>;
  readonly recalledLots: Repository<LotKey, true>;
  readonly undo: Repository<string, UndoRecord>;
  readonly governance: Repository<'state', string>;
  readonly meta: MetaRepository;
  readonly blockTxs: Repository<BlockTxKey, Uint8Array>;
  readonly blockTxIds: Repository<string, Uint8Array>;
  readonly records: Repository<{ ns: RecordNs; key: string }, StoredRecord>;
  readonly recordIndex: Repository<string, true>;
  readonly notify: NotifyRepository;

  constructor(db: Db) {
    this.blocks = new Repository(db, 'blocks', blockCodec);
    this.headers = new Repository(db, 'headers', headerCodec);
    this.main = new Repository(db, 'main', mainCodec);
    this.txLocations = new Repository(db, 'txLocations', txLocationCodec);
    this.eventLocations = new Repository(db, 'eventLocations', eventLocationCodec);
    this.history = new HistoryRepository(db);
    this.terms = new TermsRepository(db);
    this.links = new LinksRepository(db);
    this.items = new Repository(db, 'items', itemCodec);
    this.recalledLots = new Repository(db, 'recalledLots', lotCodec);
    this.undo = new Repository(db, 'undo', undoCodec);
    this.governance = new Repository(db, 'governance', governanceCodec);
    this.meta = new MetaRepository(db);
    this.blockTxs = new Repository(db, 'blockTxs', blockTxCodec);
    this.blockTxIds = new Repository(db, 'blockTxIds', blockTxIdsCodec);
    this.records = new Repository(db, 'records', recordCodec);
    this.recordIndex = new Repository(db, 'recordIndex', recordIndexCodec);
    this.notify = new NotifyRepository(db);
  }

  byName(name: BucketName): BucketReader {
    return this[name];
  }
}
