/**
 * LevelChainStore: the ChainStore over one LevelDB database at `<dataDir>/chain`.
 *
 * Every write is one atomic LevelDB batch (a chained batch: see writeBatch), synced but for putBlock (see there): a block connect or disconnect carries its
 * main-chain entry, indexes, item state, undo record and the tip pointer together, so an
 * acknowledged block survives a crash and a crash never leaves half a block. Writes are
 * serialised inside the store so the invariant checks (connect extends the tip, disconnect
 * removes the tip) and the batch they guard cannot interleave with another write.
 *
 * Longer than our ~450-line norm: it is one class implementing the whole ChainStore port, and the
 * write queue and in-memory tip mirror it keeps are shared by every write method; the per-bucket
 * key and value layouts are already apart (repositories.ts, codecs.ts).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import { encodeBlock, type Block } from '../chain/block.js';
import { equalBytes, toHex } from '../common/bytes.js';
import { HEADER_SIZE } from '../chain/header.js';
import type {
  ChainStore,
  ConnectBatch,
  DisconnectBatch,
  EpcHistoryEntry,
  EventLocation,
  HeaderEntry,
  LinkEntry,
  LinkRecord,
  LinkRole,
  LotKey,
  RecordNs,
  RoleLinkRecord,
  StoredItem,
  StoredRecord,
  TermPositions,
  TermRow,
  TxLocation,
  UndoRecord,
} from '../chain/store.js';
import { DecodeError, encodeRecordIndexKey, encodeU32, encodeUndo, historyPrefix, linkPrefix, linkRoleOf, type HistoryPosition, type LinkKey } from './codecs.js';
import { assembleBlock, compactBlockRecord, compress, parseBlockRecord, storedBlockHeight, type StoredBlockRecord } from './compact.js';
import {
  StorageArgumentError,
  StorageCorruptionError,
  StorageOpenError,
  StorageStateError,
  StorageSuspendedError,
  StorageWriteError,
  levelErrorCode,
} from './errors.js';
import { BUCKET_NAMES, BUCKETS, INDEX_BUCKETS, QUERY_TERMS_VERSION, Repositories, type BatchOp, type BucketName, type Db, type NotifyKey } from './repositories.js';

/**
 * Version of the on-disk layout. Bump on any incompatible change and add a migration.
 * 2: the links index (bucket links). A version-1 store opens with linksReady() false until its
 * links are rebuilt from the blocks (rebuildLinks: the node does it when it starts).
 * 3: the compact forms (storage/compact.ts): blocks as head + tx count, txs and undo records
 * compressed. Values of both forms are read, so a version-2 store opens as it is and is marked 3
 * (an older build then refuses it rather than misread a compact value); blocks it already holds
 * keep their plain form.
 */
export const SCHEMA_VERSION = 3;
/** The first schema with the links index (linksReady). */
const LINKS_SCHEMA = 2;

/** Deletes per batch when clearing indexes. */
const CLEAR_BATCH = 1000;

/** Recently stored block hashes remembered for connect's "stored first" check. */
const PUT_HASHES = 4096;

/** The subset of a pino logger the store uses. */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface LevelChainStoreOptions {
  logger?: StoreLogger;
}

export interface StoreStats {
  /** Entries per bucket. */
  counts: Record<BucketName, number>;
  /** Approximate bytes on disk of the whole database (LevelDB's estimate). */
  approximateBytes: number;
}

export interface ClearResult {
  /** Entries deleted per index bucket. */
  deleted: Partial<Record<BucketName, number>>;
  /** The tip after clearing: the genesis hash, or undefined if there is no genesis. */
  tip: string | undefined;
}

/** A consistent read view of the store (openSnapshot). */
export interface StoreSnapshot {
  /** The tip pointer of the view and its height, or undefined for an empty store. */
  tip(): Promise<{ hash: string; height: number } | undefined>;
  /** Every entry of the view in key order, `size` at a time. */
  batches(size?: number): AsyncGenerator<[Uint8Array, Uint8Array][]>;
  close(): Promise<void>;
}

const noopLogger: StoreLogger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

export class LevelChainStore implements ChainStore {
  /** The directory of the LevelDB database (by convention `<dataDir>/chain`). */
  readonly dir: string;
  /** Typed per-bucket access for audit and tools; writes go through the store methods. */
  readonly repositories: Repositories;
  /**
   * True when a previous clearIndexes() was interrupted (crash): the indexes are partial and
   * the caller must run clearIndexes() and reindex before trusting them.
   */
  readonly clearPending: boolean;

  private readonly db: Db;
  private readonly log: StoreLogger;
  private writeQueue: Promise<unknown> = Promise.resolve();

  /** Set by suspendWrites (e.g. free disk space below the minimum): every write is refused. */
  private suspendedFor: string | undefined;
  /** The last write that failed; writes stay refused until recover() succeeds. */
  private failedWrite: StorageWriteError | undefined;
  private readonly failureListeners = new Set<(err: StorageWriteError) => void>();

  /** Every recalled lot (mirror of the recalledLots bucket, small). */
  private readonly recalled = new Set<string>();

  /**
   * Mirror of the stored tip pointer for connect/disconnect's invariant check (connect extends
   * the tip, disconnect removes it), so a connect reads nothing. Undefined = not known: read it
   * from meta on the next use. Set after each successful connect/disconnect; dropped whenever
   * a write fails (the database may be reopened by recover()) and when clearIndexes resets it.
   */
  private tipMirror: string | undefined;
  /**
   * Hashes whose block and header entry this store wrote (putBlock), newest last, bounded:
   * connect's "stored first" check needs no read for them. Blocks and header entries are never
   * deleted, so membership stays true; other hashes are checked on disk.
   */
  private readonly putHashes = new Set<string>();

  /** The stored schema version (SCHEMA_VERSION, or 1 until the links index is rebuilt). */
  private schema: number;

  /** Whether the query index's term rows cover the main chain (meta `queryTerms`). */
  private queryTerms: boolean;

  private constructor(dir: string, db: Db, log: StoreLogger, clearPending: boolean, schema: number, queryTerms: boolean) {
    this.dir = dir;
    this.db = db;
    this.log = log;
    this.repositories = new Repositories(db);
    this.clearPending = clearPending;
    this.schema = schema;
    this.queryTerms = queryTerms;
  }

  /**
   * Open (creating if needed) the LevelDB database in directory `dir` — by convention
   * `<dataDir>/chain` (node/data-dir.ts FILES.chain). Fails with a StorageOpenError if another
   * process holds the lock, the schema is newer than this build, or the directory is not a store.
   */
  static async open(dir: string, opts: LevelChainStoreOptions = {}): Promise<LevelChainStore> {
    const log = opts.logger ?? noopLogger;
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new StorageOpenError('OPEN_FAILED', dir, `cannot create chain database directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    // LevelDB treats a directory without CURRENT as a new database (and may delete the old files
    // as obsolete): a store whose CURRENT or MANIFEST was lost must not open as an empty chain.
    const files = await readdir(dir).catch(() => [] as string[]);
    if (!files.includes('CURRENT') && files.some((f) => /^[0-9]+\.(log|ldb|sst)$/.test(f))) {
      throw new StorageOpenError(
        'OPEN_FAILED',
        dir,
        `chain database ${dir} holds data files but no CURRENT file (damaged or partly deleted); run tracechain reindex --repair`,
      );
    }
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (err) {
      if (levelErrorCode(err) === 'LEVEL_LOCKED') {
        throw new StorageOpenError(
          'LOCKED',
          dir,
          `chain database ${dir} is locked: another tracechain node (or another open store in this process) is using it; stop it or use a different data directory`,
          { cause: err },
        );
      }
      const detail = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new StorageOpenError('OPEN_FAILED', dir, `cannot open chain database ${dir}: ${detail}`, { cause: err });
    }
    try {
      const repositories = new Repositories(db);
      const schema = await checkSchema(db, repositories, dir, log);
      const clearPending = await readClearing(repositories, dir, log);
      if (clearPending) log.warn({ dir }, 'an index clear was interrupted; indexes are partial until clearIndexes() and a reindex run');
      if (schema < LINKS_SCHEMA) log.warn({ dir, schema }, 'chain store written by an older build: its links index is rebuilt from the blocks before use');
      // The tip is not read here: a corrupt tip must not stop `audit` from opening the store to report it.
      log.info({ dir, schema }, 'chain store open');
      const queryTerms = (await repositories.meta.getQueryTerms()) >= QUERY_TERMS_VERSION;
      const store = new LevelChainStore(dir, db, log, clearPending, schema, queryTerms);
      // Recalls are rare, and every event's status asks about its lot: keep the set in memory.
      for await (const lot of repositories.recalledLots.keys()) store.recalled.add(lotSetKey(lot));
      return store;
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    // Let queued writes finish (or fail) first; their callers see their own outcome.
    await this.writeQueue.then(
      () => undefined,
      () => undefined,
    );
    await this.db.close();
  }

  /**
   * One consistent read view of the whole database (a LevelDB snapshot), for an online backup:
   * its tip, and every entry in key order (so bucket by bucket), read in batches by iterators
   * on that one snapshot. Writes go on meanwhile; the view does not see them. Close it after use.
   */
  openSnapshot(): StoreSnapshot {
    const snapshot = this.db.snapshot();
    const db = this.db;
    const repos = this.repositories;
    return {
      async tip() {
        const raw = await db.get(repos.meta.dbKey('tip'), { snapshot });
        if (raw === undefined) return undefined;
        const hash = toHex(raw);
        const block = await db.get(repos.blocks.dbKey(hash), { snapshot });
        if (block === undefined) throw new StorageCorruptionError('blocks', hash, 'the tip block of the snapshot is missing');
        try {
          return { hash, height: storedBlockHeight(block) };
        } catch (err) {
          if (err instanceof DecodeError) throw new StorageCorruptionError('blocks', hash, `the tip block of the snapshot: ${err.message}`, { cause: err });
          throw err;
        }
      },
      async *batches(size = 1000) {
        // At most `size` entries and ~256 KiB per step (LevelDB stops a step once it holds that
        // much): each step's hashing and framing on the event loop stays around a millisecond.
        const it = db.iterator({ snapshot, highWaterMarkBytes: 256 * 1024 });
        try {
          for (;;) {
            const batch = await it.nextv(size);
            if (batch.length === 0) return;
            yield batch as [Uint8Array, Uint8Array][];
          }
        } finally {
          await it.close();
        }
      },
      async close() {
        await snapshot.close();
      },
    };
  }

  /** True while the database is open (for /health). */
  isOpen(): boolean {
    return this.db.status === 'open';
  }

  // ---------------------------------------------------------------- write gate

  /** True when writes are allowed: not suspended and no unrecovered write failure. */
  get writable(): boolean {
    return this.suspendedFor === undefined && this.failedWrite === undefined;
  }

  /** Why writes are refused right now (undefined when writable). */
  get writeBlockedReason(): string | undefined {
    return this.failedWrite?.message ?? this.suspendedFor;
  }

  /** The write failure that blocks writes, if any (cleared by recover()). */
  get writeFailure(): StorageWriteError | undefined {
    return this.failedWrite;
  }

  /** Call `listener` each time a write fails (after which writes are refused until recover()). */
  onWriteFailure(listener: (err: StorageWriteError) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /**
   * Refuse every write with StorageSuspendedError until resumeWrites(): the disk is nearly full
   * and a block must never be half-accepted for lack of space. Reads keep working.
   */
  suspendWrites(reason: string): void {
    if (this.suspendedFor === undefined) this.log.warn({ dir: this.dir, reason }, 'chain store writes suspended');
    this.suspendedFor = reason;
  }

  resumeWrites(): void {
    if (this.suspendedFor === undefined) return;
    this.suspendedFor = undefined;
    this.log.info({ dir: this.dir }, 'chain store writes resumed');
  }

  /**
   * Make the store writable again after a failed write: close and reopen the database, then a
   * synced probe write (the schema version, rewritten unchanged). Serialised with the writes.
   * Throws StorageWriteError if the store is still not writable (the next call tries again).
   *
   * Why reopen rather than just write again: a log append that fails half-way (ENOSPC) leaves
   * a torn record in LevelDB's log, and LevelDB keeps appending after it; on the next open the
   * log reader drops everything after the tear, so writes acknowledged in between would be lost
   * at the next restart (seen in test/integration/reliability-disk.test.ts before this fix).
   * Reopening replays the log up to the tear (every acknowledged write: the failed one never
   * reached the memtable), turns it into a table and starts a fresh log. Until then no write is
   * let through. Call only when there is room again: an open needs to write a new manifest, and
   * the database stays closed (reads fail) if it cannot.
   */
  recover(): Promise<void> {
    return this.serial(async () => {
      if (this.failedWrite === undefined) return;
      try {
        if (this.db.status === 'open') await this.db.close();
        await this.db.open();
        await this.db.batch([this.repositories.meta.putSchema(this.schema)], { sync: true });
      } catch (err) {
        throw new StorageWriteError('recover', err);
      }
      this.log.info({ dir: this.dir, after: this.failedWrite.message }, 'chain store reopened and writable again');
      this.failedWrite = undefined;
    });
  }

  // ---------------------------------------------------------------- reads

  getGenesis(): Promise<string | undefined> {
    return this.repositories.meta.getGenesis();
  }

  getTip(): Promise<string | undefined> {
    return this.repositories.meta.getTip();
  }

  async *loadHeaderEntries(): AsyncGenerator<HeaderEntry> {
    for await (const [, entry] of this.repositories.headers.entries()) yield entry;
  }

  getHeaderEntry(hash: string): Promise<HeaderEntry | undefined> {
    return this.repositories.headers.get(hash);
  }

  /**
   * A stored block's wire bytes. A block stored by this build is a compact record (header,
   * signature, tx count) whose txs are its blockTxs records: they are read in one LevelDB call,
   * expanded and laid out as chain/block.ts encodes a block. A block stored by an older build is
   * its wire bytes already. Damage (a missing or undecodable tx record) is a StorageCorruptionError
   * naming the bucket and key; bytes that decode but differ are caught by the reader's hash checks.
   */
  async getBlockBytes(hash: string): Promise<Uint8Array | undefined> {
    const stored = await this.repositories.blocks.get(hash);
    if (stored === undefined) return undefined;
    let rec: StoredBlockRecord;
    try {
      rec = parseBlockRecord(stored);
    } catch (err) {
      if (err instanceof DecodeError) throw new StorageCorruptionError('blocks', hash, err.message, { cause: err });
      throw err;
    }
    if (rec.kind === 'plain') return rec.bytes;
    const refs = Array.from({ length: rec.txCount }, (_, index) => ({ hash, index }));
    const txs = await this.repositories.blockTxs.getMany(refs);
    const out: Uint8Array[] = [];
    txs.forEach((tx, i) => {
      if (tx === undefined) throw new StorageCorruptionError('blockTxs', `${hash}:${i}`, `tx ${i} of the ${rec.txCount} the block record counts is missing`);
      out.push(tx);
    });
    return assembleBlock(rec.head, out);
  }

  /** Raw keys of the eventLocations bucket (the event digests), 4,096 per batch: no per-key decoding or promise. */
  async *eventDigestBatches(): AsyncGenerator<Uint8Array[]> {
    const prefix = BUCKETS.eventLocations;
    const it = this.db.keys({ gte: Uint8Array.of(prefix), lt: Uint8Array.of(prefix + 1) });
    try {
      for (;;) {
        const keys = await it.nextv(4096);
        if (keys.length === 0) return;
        yield keys.map((k) => k.subarray(1));
      }
    } finally {
      await it.close();
    }
  }

  getBlockTxIds(hash: string): Promise<Uint8Array | undefined> {
    return this.repositories.blockTxIds.get(hash);
  }

  getBlockTx(hash: string, index: number): Promise<Uint8Array | undefined> {
    return this.repositories.blockTxs.get({ hash, index });
  }

  async getBlockTxTexts(refs: readonly { hash: string; index: number }[]): Promise<(string | undefined)[]> {
    // Expanded from either stored form by blockTxs' codec (an empty record is damage there).
    // Invalid UTF-8 reads with U+FFFD in it, so a caller that hashes the text finds the damage.
    const txs = await this.repositories.blockTxs.getMany(refs);
    return txs.map((t) => (t === undefined ? undefined : Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('utf8')));
  }

  hasBlock(hash: string): Promise<boolean> {
    return this.repositories.blocks.has(hash);
  }

  getMainHash(height: number): Promise<string | undefined> {
    return this.repositories.main.get(height);
  }

  getTxLocation(txId: string): Promise<TxLocation | undefined> {
    return this.repositories.txLocations.get(txId);
  }

  getEventLocation(eventId: string): Promise<EventLocation | undefined> {
    return this.repositories.eventLocations.get(eventId);
  }

  async getItem(key: string): Promise<StoredItem | undefined> {
    return this.repositories.items.getManySync([key])[0];
  }

  async hasItemWithPrefix(prefix: string): Promise<boolean> {
    const start = new TextEncoder().encode(prefix);
    if (start.length === 0) throw new StorageArgumentError('item key prefix must not be empty');
    // Keys are the UTF-8 item keys: the first key at or after the prefix tells.
    for await (const key of this.repositories.items.rawKeys({ gte: start, limit: 1 })) {
      return key.length >= start.length && Buffer.compare(Buffer.from(key.subarray(0, start.length)), Buffer.from(start)) === 0;
    }
    return false;
  }

  getTxLocations(txIds: readonly string[]): Promise<(TxLocation | undefined)[]> {
    return this.repositories.txLocations.getMany(txIds);
  }

  getEventLocations(eventIds: readonly string[]): Promise<(EventLocation | undefined)[]> {
    return this.repositories.eventLocations.getMany(eventIds);
  }

  /** A few keys (a /verify, a trace's status) are read synchronously (Repository.getManySync), more in one async multi-get. */
  async getItems(keys: readonly string[]): Promise<(StoredItem | undefined)[]> {
    if (keys.length <= SYNC_ITEM_READS) return this.repositories.items.getManySync(keys);
    return this.repositories.items.getMany(keys);
  }

  getRecords(ns: RecordNs, keys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    return this.repositories.records.getMany(keys.map((key) => ({ ns, key })));
  }

  async scanRecordIndex(prefix: string, opts: { after?: string; limit: number }): Promise<string[]> {
    const start = encodeRecordIndexKey(prefix);
    const end = start.slice();
    // Every key that starts with `prefix`: below the prefix with its last byte plus one (prefixes end in U+0000).
    end[end.length - 1] = (end[end.length - 1] as number) + 1;
    const range = opts.after !== undefined ? { gt: encodeRecordIndexKey(opts.after), lt: end, limit: opts.limit } : { gte: start, lt: end, limit: opts.limit };
    const out: string[] = [];
    for await (const k of this.repositories.recordIndex.keys(range)) out.push(k);
    return out;
  }

  async isLotRecalled(lot: LotKey): Promise<boolean> {
    return this.recalled.has(lotSetKey(lot));
  }

  getUndo(hash: string): Promise<UndoRecord | undefined> {
    return this.repositories.undo.get(hash);
  }

  getGovernance(): Promise<string | undefined> {
    return this.repositories.governance.get('state');
  }

  async history(key: string, opts: { after?: EpcHistoryEntry; to?: HistoryPosition; limit: number }): Promise<EpcHistoryEntry[]> {
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 0) throw new StorageArgumentError('limit must be a non-negative integer');
    if (opts.after !== undefined && opts.after.key !== key) throw new StorageArgumentError('history cursor belongs to another item key');
    if (opts.to !== undefined) checkPosition('history end', opts.to);
    if (opts.limit === 0) {
      historyPrefix(key); // a bad key fails the same way whatever the limit
      return [];
    }
    const page = await this.repositories.history.page(key, opts.after === undefined ? undefined : cursorOf(opts.after), opts.limit, opts.to);
    return page.map(([k, eventId]) => ({ key: k.key, height: k.height, txIndex: k.txIndex, eventIndex: k.eventIndex, eventId }));
  }

  async termPositions(term: string, opts: { after?: HistoryPosition; min: number }): Promise<TermPositions> {
    if (!Number.isSafeInteger(opts.min) || opts.min < 1) throw new StorageArgumentError('min must be a positive integer');
    const after = opts.after;
    if (after !== undefined) checkCursor(after);
    const positions: HistoryPosition[] = [];
    let from = after === undefined || after.height < 0 ? 0 : after.height;
    for (;;) {
      const rows = await this.repositories.terms.page(term, from, TERM_ROWS_PER_READ);
      for (const row of rows) {
        const p = row.positions;
        for (let i = 0; i < p.length; i += 2) {
          const pos = { height: row.height, txIndex: p[i] as number, eventIndex: p[i + 1] as number };
          if (after !== undefined && comparePositions(pos, after) <= 0) continue;
          positions.push(pos);
        }
      }
      const last = rows[rows.length - 1];
      if (rows.length < TERM_ROWS_PER_READ || last === undefined) return { positions, done: true };
      if (last.height === 0xffffffff) return { positions, done: true };
      from = last.height + 1;
      if (positions.length >= opts.min) return { positions, done: false };
    }
  }

  async links(key: string, role: LinkRole, opts: { after?: HistoryPosition; upTo?: HistoryPosition; limit: number }): Promise<LinkRecord[]> {
    if (!Number.isSafeInteger(opts.limit) || opts.limit < 0) throw new StorageArgumentError('limit must be a non-negative integer');
    if (opts.upTo !== undefined) checkPosition('links end', opts.upTo);
    const from = opts.after === undefined ? undefined : cursorOf(opts.after);
    if (opts.limit === 0) {
      linkPrefix(key, role);
      return [];
    }
    const page = await this.repositories.links.page(key, role, { ...(from ?? {}), ...(opts.upTo !== undefined ? { lte: opts.upTo } : {}), limit: opts.limit });
    return page.map(linkRecordOf);
  }

  async linksBefore(key: string, role: LinkRole, at: HistoryPosition, limit: number): Promise<LinkRecord[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new StorageArgumentError('limit must be a non-negative integer');
    checkPosition('links position', at);
    if (limit === 0) {
      linkPrefix(key, role);
      return [];
    }
    return (await this.repositories.links.page(key, role, { lte: at, limit, reverse: true })).map(linkRecordOf);
  }

  async allLinks(key: string, limit: number): Promise<RoleLinkRecord[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) throw new StorageArgumentError('limit must be a non-negative integer');
    if (limit === 0) {
      historyPrefix(key);
      return [];
    }
    return (await this.repositories.links.pageAll(key, limit)).map(([k, v]) => ({ ...linkRecordOf([k, v]), role: k.role }));
  }

  linksReady(): boolean {
    return this.schema >= LINKS_SCHEMA;
  }

  /**
   * Whether the query index (the terms bucket's rows, trace/query-terms.ts) covers the
   * main chain with the current terms (QUERY_TERMS_VERSION): true for a store created by a build
   * with them, false for an older store (no index, or older terms) until `addQueryTerms` has
   * written its rows (the node does it when it starts: node/terms-backfill.ts).
   */
  queryTermsReady(): boolean {
    return this.queryTerms;
  }

  /**
   * Write the query index rows of the main chain's blocks (rows computed by the caller from the
   * blocks), then mark the index complete. First removes the rows of an older index: the
   * terms bucket's, and the per-event term rows that version 1 and 2 kept in the history bucket
   * (keys starting with `?`, which no item key does). A crash part-way leaves the index
   * unmarked, and the next start does it all again. Run before anything else writes to the store.
   */
  async addQueryTerms(source: AsyncIterable<TermRow[]>): Promise<number> {
    const r = this.repositories;
    const question = 0x3f; // '?'
    await this.serial(async () => {
      try {
        await this.db.clear({ gte: Uint8Array.of(BUCKETS.history, question), lt: Uint8Array.of(BUCKETS.history, question + 1) });
        await this.db.clear(r.terms.bounds());
      } catch (err) {
        throw new StorageWriteError('addQueryTerms (clear the older index)', err);
      }
    });
    let written = 0;
    for await (const rows of source) {
      if (rows.length === 0) continue;
      const ops = rows.map((t) => r.terms.put({ term: t.term, height: t.height }, t.positions));
      await this.serial(() => this.write('addQueryTerms', ops, false));
      written += rows.length;
    }
    await this.serial(() => this.write('addQueryTerms (finish)', [r.meta.putQueryTerms()]));
    this.queryTerms = true;
    this.log.info({ dir: this.dir, rows: written }, 'query index built');
    return written;
  }

  countLinks(): Promise<number> {
    return this.repositories.links.count();
  }

  countRecords(): Promise<number> {
    return this.repositories.records.count();
  }

  historyAt(entries: readonly (HistoryPosition & { key: string })[]): Promise<(string | undefined)[]> {
    for (const e of entries) checkPosition('history position', e);
    return this.repositories.history.getMany(entries.map((e) => ({ key: e.key, height: e.height, txIndex: e.txIndex, eventIndex: e.eventIndex })));
  }

  async linksAt(entries: readonly (HistoryPosition & { key: string; role: LinkRole })[]): Promise<(LinkRecord | undefined)[]> {
    for (const e of entries) checkPosition('links position', e);
    const keys: LinkKey[] = entries.map((e) => ({ key: e.key, role: e.role, height: e.height, txIndex: e.txIndex, eventIndex: e.eventIndex }));
    const values = await this.repositories.links.getMany(keys);
    return values.map((v, i) => (v === undefined ? undefined : linkRecordOf([keys[i] as LinkKey, v])));
  }

  /** Main chain from `fromHeight` upwards, in height order. */
  async *iterateMainChain(fromHeight = 0): AsyncGenerator<{ height: number; hash: string }> {
    for await (const [height, hash] of this.repositories.main.entries({ gte: encodeU32('fromHeight', fromHeight) })) yield { height, hash };
  }

  /** Number of entries in one bucket (walks its keys; for audit and metrics, not hot paths). */
  countBucket(bucket: BucketName): Promise<number> {
    return this.repositories.byName(bucket).count();
  }

  async stats(): Promise<StoreStats> {
    const counts = {} as Record<BucketName, number>;
    for (const name of BUCKET_NAMES) counts[name] = await this.countBucket(name);
    return { counts, approximateBytes: await this.approximateSize() };
  }

  /** LevelDB's estimate of bytes on disk for one bucket or the whole database (cheap). */
  async approximateSize(bucket?: BucketName): Promise<number> {
    const { gte, lt } = bucket === undefined ? { gte: new Uint8Array([0]), lt: new Uint8Array([0xff]) } : this.repositories.byName(bucket).bounds();
    return this.db.approximateSize(gte, lt);
  }

  // ---------------------------------------------------------------- writes

  putGenesis(genesisJson: string, genesis: Block, entry: HeaderEntry): Promise<void> {
    return this.serial(async () => {
      const hash = genesis.hashHex;
      checkEntryFor(genesis, entry);
      if (genesis.header.height !== 0) throw new StorageArgumentError('genesis block must have height 0');
      const existing = await this.repositories.meta.getGenesis();
      if (existing !== undefined) {
        const main0 = await this.repositories.main.get(0);
        if (existing === genesisJson && main0 === hash) return;
        throw new StorageStateError(`a different genesis is already stored in ${this.dir} (main[0] = ${main0 ?? 'none'})`);
      }
      const r = this.repositories;
      await this.write('putGenesis', [
        r.meta.putGenesis(genesisJson),
        r.blocks.put(hash, encodeBlock(genesis)),
        r.headers.put(hash, entry),
        r.main.put(0, hash),
        r.meta.putTip(hash),
      ]);
      this.log.info({ hash }, 'genesis stored');
    });
  }

  putBlock(block: Block, bytes: Uint8Array, entry: HeaderEntry): Promise<void> {
    return this.serial(async () => {
      checkEntryFor(block, entry);
      if (bytes.length < HEADER_SIZE || !equalBytes(bytes.subarray(0, HEADER_SIZE), block.headerBytes)) {
        throw new StorageArgumentError(`block bytes do not start with the header of block ${block.hashHex}`);
      }
      // Not synced on its own: LevelDB appends to one log, so the synced connect batch that
      // follows makes this write durable too. A crash in between loses only a block that was
      // never connected (a peer serves it again), never a connected one. Halves fsyncs per block.
      // Compact form (storage/compact.ts): the block record is its head and tx count; each tx is
      // stored once, compressed on libuv's thread pool (not on the event loop).
      const r = this.repositories;
      const txValues = await Promise.all(block.txBytes.map((tx) => compress(tx)));
      const ops: BatchOp[] = [
        { type: 'put', key: r.blocks.dbKey(block.hashHex), value: compactBlockRecord(block.headerBytes, block.signature, block.txBytes.length) },
        r.headers.put(block.hashHex, entry),
        r.blockTxIds.put(block.hashHex, this.txIdRecord(block)),
      ];
      txValues.forEach((value, index) => ops.push({ type: 'put', key: r.blockTxs.dbKey({ hash: block.hashHex, index }), value }));
      await this.write('putBlock', ops, false);
      this.putHashes.add(block.hashHex);
      if (this.putHashes.size > PUT_HASHES) this.putHashes.delete(this.putHashes.values().next().value as string);
    });
  }

  /** Proof material and each tx on its own (buckets blockTxIds, blockTxs), so a proof reads ~one tx, not a ~4 MiB block. */
  private proofRecordOps(block: Block): BatchOp[] {
    const ops = [this.repositories.blockTxIds.put(block.hashHex, this.txIdRecord(block))];
    block.txBytes.forEach((tx, index) => ops.push(this.repositories.blockTxs.put({ hash: block.hashHex, index }, tx)));
    return ops;
  }

  /** header ‖ tx IDs: what a proof needs of a block (bucket blockTxIds). */
  private txIdRecord(block: Block): Uint8Array {
    const ids = new Uint8Array(HEADER_SIZE + 32 * block.txIds.length);
    ids.set(block.headerBytes, 0);
    block.txIds.forEach((id, i) => ids.set(id, HEADER_SIZE + 32 * i));
    return ids;
  }

  /**
   * Node-local notification records (bucket notify: named queries, subscriptions, delivery
   * cursors) in one batch, through the same write gate and queue as the chain's writes. Not part
   * of any block batch: a reindex leaves them alone.
   */
  writeNotify(ops: readonly { key: NotifyKey; value: string | null }[], opts: { sync: boolean }): Promise<void> {
    const r = this.repositories.notify;
    return this.serial(() => this.write('notify', ops.map((o) => (o.value === null ? r.del(o.key) : r.put(o.key, o.value))), opts.sync));
  }

  /** Rewrite a stored block's proof records from the block (reindex: repairs them, and adds them to blocks stored by older builds). */
  putProofRecords(block: Block): Promise<void> {
    return this.serial(() => this.write('putProofRecords', this.proofRecordOps(block)));
  }

  putHeaderEntry(entry: HeaderEntry): Promise<void> {
    return this.serial(() => this.write('putHeaderEntry', [this.repositories.headers.put(entry.hash, entry)]));
  }

  connect(batch: ConnectBatch, opts: { sync?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      const { block } = batch;
      const hash = block.hashHex;
      const height = block.header.height;
      const r = this.repositories;
      const tip = await this.currentTip();
      const prev = toHex(block.header.prevHash);
      if (tip !== prev) throw new StorageStateError(`connect ${hash} at height ${height}: its parent ${prev} is not the tip (${tip ?? 'none'})`);
      if (!this.putHashes.has(hash) && (!(await r.headers.has(hash)) || !(await r.blocks.has(hash)))) {
        throw new StorageStateError(`connect ${hash}: store the block and its header entry (putBlock) first`);
      }
      const ops: BatchOp[] = [r.main.put(height, hash)];
      for (const { txId, loc } of batch.txLocations) {
        if (loc.blockHash !== hash || loc.height !== height) throw new StorageArgumentError(`tx ${txId} location does not point at block ${hash}`);
        ops.push(r.txLocations.put(txId, loc));
      }
      for (const { eventId, loc } of batch.events) ops.push(r.eventLocations.put(eventId, loc));
      for (const h of batch.history) {
        if (h.height !== height) throw new StorageArgumentError(`history entry for ${h.key} is at height ${h.height}, not ${height}`);
        ops.push(r.history.put(h, h.eventId));
      }
      for (const t of batch.terms) {
        if (t.height !== height) throw new StorageArgumentError(`query index row for ${t.term} is at height ${t.height}, not ${height}`);
        ops.push(r.terms.put({ term: t.term, height }, t.positions));
      }
      for (const l of batch.links) {
        if (l.height !== height) throw new StorageArgumentError(`link record for ${l.key} is at height ${l.height}, not ${height}`);
        ops.push(linkPut(r, l));
      }
      for (const item of batch.items) ops.push(r.items.put(item.key, item));
      for (const lot of batch.recalledLots) ops.push(r.recalledLots.put(lot, true));
      if (batch.governance !== undefined) ops.push(r.governance.put('state', batch.governance));
      for (const w of batch.records ?? []) ops.push(w.value === null ? r.records.del({ ns: w.ns, key: w.key }) : r.records.put({ ns: w.ns, key: w.key }, w.value));
      for (const k of batch.recordIndex?.del ?? []) ops.push(r.recordIndex.del(k));
      for (const k of batch.recordIndex?.put ?? []) ops.push(r.recordIndex.put(k, true));
      // The undo record compressed on libuv's thread pool (storage/compact.ts).
      ops.push({ type: 'put', key: r.undo.dbKey(hash), value: await compress(encodeUndo(batch.undo)) });
      ops.push(r.meta.putTip(hash));
      await this.writeTip('connect', ops, hash, opts.sync ?? true);
      for (const lot of batch.recalledLots) this.recalled.add(lotSetKey(lot));
      this.log.debug({ hash, height, ops: ops.length }, 'block connected');
    });
  }

  disconnect(batch: DisconnectBatch): Promise<void> {
    return this.serial(async () => {
      const { block, newTip } = batch;
      const hash = block.hashHex;
      const height = block.header.height;
      const r = this.repositories;
      const tip = await this.currentTip();
      if (tip !== hash) throw new StorageStateError(`disconnect ${hash}: it is not the tip (${tip ?? 'none'})`);
      const prev = toHex(block.header.prevHash);
      if (newTip.hash !== prev || newTip.height !== height - 1) {
        throw new StorageArgumentError(`disconnect ${hash}: newTip must be its parent ${prev} at height ${height - 1}`);
      }
      const ops: BatchOp[] = [r.main.del(height)];
      for (const txId of batch.txIds) ops.push(r.txLocations.del(txId));
      for (const eventId of batch.eventIds) ops.push(r.eventLocations.del(eventId));
      for (const h of batch.history) ops.push(r.history.del(h));
      for (const t of batch.terms) ops.push(r.terms.del({ term: t.term, height }));
      for (const l of batch.links) ops.push(r.links.del(linkKeyOf(l)));
      // In one batch the last write to a key wins. Undo entries are applied newest first, so if
      // a key appears more than once, its oldest `prev` (the state before the block) is final.
      for (let i = batch.undo.items.length - 1; i >= 0; i--) {
        const u = batch.undo.items[i] as UndoRecord['items'][number];
        ops.push(u.prev === null ? r.items.del(u.key) : r.items.put(u.key, u.prev));
      }
      for (let i = batch.undo.lots.length - 1; i >= 0; i--) {
        const u = batch.undo.lots[i] as UndoRecord['lots'][number];
        ops.push(u.prev ? r.recalledLots.put(u.lot, true) : r.recalledLots.del(u.lot));
      }
      if (batch.undo.governance === null) ops.push(r.governance.del('state'));
      else if (batch.undo.governance !== undefined) ops.push(r.governance.put('state', batch.undo.governance));
      const records = batch.undo.records ?? [];
      for (let i = records.length - 1; i >= 0; i--) {
        const u = records[i] as NonNullable<UndoRecord['records']>[number];
        ops.push(u.prev === null ? r.records.del({ ns: u.ns, key: u.key }) : r.records.put({ ns: u.ns, key: u.key }, u.prev));
      }
      for (const k of batch.recordIndex?.del ?? []) ops.push(r.recordIndex.del(k));
      for (const k of batch.recordIndex?.put ?? []) ops.push(r.recordIndex.put(k, true));
      ops.push(r.undo.del(hash));
      ops.push(r.meta.putTip(newTip.hash));
      await this.writeTip('disconnect', ops, newTip.hash);
      for (const u of batch.undo.lots) {
        if (u.prev) this.recalled.add(lotSetKey(u.lot));
        else this.recalled.delete(lotSetKey(u.lot));
      }
      this.log.debug({ hash, height, newTip: newTip.hash, ops: ops.length }, 'block disconnected');
    });
  }

  /**
   * Rebuild the links index of a store written by an older build (schema 1): delete whatever
   * link records it holds, write the batches `source` yields (the records of the main chain's
   * blocks, computed by the caller from the blocks), then mark the store as schema 2 — in that
   * order, so a crash part-way leaves a schema-1 store that is rebuilt again at the next start.
   * Run it before anything else writes to the store (the node does, before opening the chain).
   */
  async rebuildLinks(source: AsyncIterable<LinkEntry[]>): Promise<number> {
    const r = this.repositories;
    let deleted: BatchOp[] = [];
    for await (const inner of r.links.rawKeys()) {
      const key = new Uint8Array(inner.length + 1);
      key[0] = r.links.prefix;
      key.set(inner, 1);
      deleted.push({ type: 'del', key });
      if (deleted.length >= CLEAR_BATCH) {
        const ops = deleted;
        await this.serial(() => this.write('rebuildLinks (clear)', ops, false));
        deleted = [];
      }
    }
    if (deleted.length > 0) {
      const ops = deleted;
      await this.serial(() => this.write('rebuildLinks (clear)', ops, false));
    }
    let written = 0;
    for await (const entries of source) {
      if (entries.length === 0) continue;
      const ops = entries.map((l) => linkPut(r, l));
      await this.serial(() => this.write('rebuildLinks', ops, false));
      written += entries.length;
    }
    await this.serial(() => this.write('rebuildLinks (finish)', [r.meta.putSchema(SCHEMA_VERSION)]));
    this.schema = SCHEMA_VERSION;
    this.log.info({ dir: this.dir, links: written }, 'links index rebuilt');
    return written;
  }

  /**
   * Delete every index (main chain above genesis, tx/event locations, history, items, recalled
   * lots, undo) in bounded batches, keeping blocks, header index, genesis and meta, and reset
   * the tip to the genesis block: afterwards the store is in its just-after-genesis state and a
   * reindex reconnects blocks from height 1. A marker in meta makes an interrupted clear visible
   * on the next open (`clearPending`).
   */
  clearIndexes(): Promise<ClearResult> {
    return this.serial(async () => {
      const r = this.repositories;
      this.tipMirror = undefined; // the tip moves to genesis below (or stays unknown if this fails)
      await this.write('clearIndexes (mark)', [r.meta.putClearing()]);
      const genesisHash = await r.main.get(0);
      const deleted: Partial<Record<BucketName, number>> = {};
      for (const name of INDEX_BUCKETS) {
        const repo = r.byName(name);
        const range = name === 'main' ? { gt: encodeU32('height', 0) } : {};
        let pending: BatchOp[] = [];
        let n = 0;
        for await (const inner of repo.rawKeys(range)) {
          const key = new Uint8Array(inner.length + 1);
          key[0] = repo.prefix;
          key.set(inner, 1);
          pending.push({ type: 'del', key });
          n++;
          if (pending.length >= CLEAR_BATCH) {
            await this.write(`clearIndexes (${name})`, pending, false);
            pending = [];
          }
        }
        if (pending.length > 0) await this.write(`clearIndexes (${name})`, pending, false);
        deleted[name] = n;
      }
      // Every index is empty now, the links index included: it is complete for the genesis-only chain.
      const final: BatchOp[] = [genesisHash === undefined ? r.meta.del('tip') : r.meta.putTip(genesisHash), r.meta.del('clearing'), r.meta.putSchema(SCHEMA_VERSION), r.meta.putQueryTerms()];
      await this.write('clearIndexes (finish)', final);
      this.schema = SCHEMA_VERSION;
      this.queryTerms = true;
      this.recalled.clear();
      this.log.info({ deleted, tip: genesisHash }, 'indexes cleared');
      return { deleted, tip: genesisHash };
    });
  }

  // ---------------------------------------------------------------- internals

  /** The stored tip, from the mirror (read once from meta when not known). Inside serial() only. */
  private async currentTip(): Promise<string | undefined> {
    if (this.tipMirror === undefined) this.tipMirror = await this.repositories.meta.getTip();
    return this.tipMirror;
  }

  /** A write that moves the tip pointer to `tip`: the mirror follows on success, is dropped on failure. */
  private async writeTip(operation: string, ops: BatchOp[], tip: string, sync = true): Promise<void> {
    try {
      await this.write(operation, ops, sync);
    } catch (err) {
      this.tipMirror = undefined;
      throw err;
    }
    this.tipMirror = tip;
  }

  private async write(operation: string, ops: BatchOp[], sync = true): Promise<void> {
    const blocked = this.writeBlockedReason;
    if (blocked !== undefined) throw new StorageSuspendedError(operation, blocked);
    try {
      await this.writeBatch(ops, sync);
    } catch (err) {
      const failure = new StorageWriteError(operation, err);
      // A closed database is a shutdown, not a fault to recover from.
      if (this.db.status === 'open') {
        this.failedWrite = failure;
        this.log.warn({ dir: this.dir, err: failure.message }, 'chain store write failed; writes refused until it recovers');
        for (const listener of this.failureListeners) listener(failure);
      }
      throw failure;
    }
  }

  /**
   * One atomic LevelDB write of `ops`, built as a chained batch: abstract-level's array form
   * clones and re-validates every operation and the binding then reads each one's properties back,
   * ~250 ms of main thread for a 25,000-op block connect against ~35 ms this way (same WriteBatch,
   * same atomicity and sync).
   */
  private async writeBatch(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    const batch = this.db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
    } catch (err) {
      await batch.close();
      throw err;
    }
    await batch.write({ sync });
  }

  /** Run one write at a time, in call order; a failure does not block later writes. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(fn, fn);
    this.writeQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/**
 * A history cursor as a range start. Components are compared as integers, so a negative one is
 * a valid "just before" cursor: strictly after (h, t, -1) is from (h, t, 0) on, strictly after
 * (h, -1, e) from (h, 0, 0), strictly after (-1, t, e) from the start.
 */
function cursorOf(after: HistoryPosition): { gt: HistoryPosition } | { gte: HistoryPosition } | undefined {
  const { height, txIndex, eventIndex } = after;
  for (const [name, v] of [['height', height], ['txIndex', txIndex], ['eventIndex', eventIndex]] as const) {
    if (!Number.isSafeInteger(v) || v > 0xffffffff) throw new StorageArgumentError(`history cursor ${name} must be an integer ≤ 2^32-1, got ${String(v)}`);
  }
  if (height < 0) return undefined;
  if (txIndex < 0) return { gte: { height, txIndex: 0, eventIndex: 0 } };
  if (eventIndex < 0) return { gte: { height, txIndex, eventIndex: 0 } };
  return { gt: { height, txIndex, eventIndex } };
}

/** Item reads up to this many keys are made synchronously (getItems). */
const SYNC_ITEM_READS = 4;

/** Term rows per read of termPositions (each a block's events with the term). */
const TERM_ROWS_PER_READ = 16;

function comparePositions(a: HistoryPosition, b: HistoryPosition): number {
  return a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex;
}

/** A cursor's components: integers ≤ 2^32-1 (negative: "just before", as cursorOf). */
function checkCursor(after: HistoryPosition): void {
  for (const [name, v] of [['height', after.height], ['txIndex', after.txIndex], ['eventIndex', after.eventIndex]] as const) {
    if (!Number.isSafeInteger(v) || v > 0xffffffff) throw new StorageArgumentError(`query index cursor ${name} must be an integer ≤ 2^32-1, got ${String(v)}`);
  }
}

function checkPosition(what: string, p: HistoryPosition): void {
  for (const [name, v] of [['height', p.height], ['txIndex', p.txIndex], ['eventIndex', p.eventIndex]] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw new StorageArgumentError(`${what} ${name} must be a u32, got ${String(v)}`);
  }
}

function linkKeyOf(l: LinkEntry): LinkKey {
  return { key: l.key, role: linkRoleOf(l.kind), height: l.height, txIndex: l.txIndex, eventIndex: l.eventIndex };
}

function linkPut(r: Repositories, l: LinkEntry): BatchOp {
  return r.links.put(linkKeyOf(l), l.other === undefined ? { kind: l.kind } : { kind: l.kind, other: l.other });
}

function linkRecordOf([k, v]: [LinkKey, { kind: LinkRecord['kind']; other?: string }]): LinkRecord {
  const rec: LinkRecord = { height: k.height, txIndex: k.txIndex, eventIndex: k.eventIndex, kind: v.kind };
  if (v.other !== undefined) rec.other = v.other;
  return rec;
}

function checkEntryFor(block: Block, entry: HeaderEntry): void {
  if (entry.hash !== block.hashHex) throw new StorageArgumentError(`header entry hash ${entry.hash} is not block ${block.hashHex}`);
  if (entry.height !== block.header.height) throw new StorageArgumentError(`header entry height ${entry.height} is not block height ${block.header.height}`);
}

/** The interrupted-clear marker; a corrupt marker counts as set (the safe reading), with a warning. */
async function readClearing(repositories: Repositories, dir: string, log: StoreLogger): Promise<boolean> {
  try {
    return await repositories.meta.getClearing();
  } catch (err) {
    if (!(err instanceof StorageCorruptionError)) throw err;
    log.warn({ dir, err: err.message }, 'corrupt index-clear marker; treating the indexes as partial');
    return true;
  }
}

/** The stored schema version (written for a new store); throws for one this build cannot read. */
async function checkSchema(db: Db, repositories: Repositories, dir: string, log: StoreLogger): Promise<number> {
  const version = await repositories.meta.getSchema();
  if (version === undefined) {
    let empty = true;
    for await (const _ of db.keys({ limit: 1 })) empty = false;
    if (!empty) {
      throw new StorageOpenError('CORRUPTION', dir, `chain database ${dir} holds data but no schema version: not a tracechain store, or damaged`);
    }
    try {
      // A new store: every block it connects writes its query terms, so the query index is complete.
      await db.batch([repositories.meta.putSchema(SCHEMA_VERSION), repositories.meta.putQueryTerms()], { sync: true });
    } catch (err) {
      throw new StorageWriteError('write schema version', err);
    }
    log.info({ dir, schema: SCHEMA_VERSION }, 'new chain store');
    return SCHEMA_VERSION;
  }
  if (version > SCHEMA_VERSION) {
    throw new StorageOpenError(
      'SCHEMA_UNSUPPORTED',
      dir,
      `chain database ${dir} has schema version ${version}, newer than this build supports (${SCHEMA_VERSION}); upgrade tracechain`,
    );
  }
  if (version < 1) throw new StorageOpenError('CORRUPTION', dir, `chain database ${dir} has impossible schema version ${version}`);
  if (version === LINKS_SCHEMA) {
    // Schema 2 → 3 needs no rewrite (both forms are read): mark it, so an older build refuses it.
    try {
      await db.batch([repositories.meta.putSchema(SCHEMA_VERSION)], { sync: true });
    } catch (err) {
      throw new StorageWriteError('write schema version', err);
    }
    log.info({ dir, from: version, schema: SCHEMA_VERSION }, 'chain store marked for the compact forms (blocks stored before keep their plain form)');
    return SCHEMA_VERSION;
  }
  return version;
}

function lotSetKey(lot: LotKey): string {
  return `${lot.gtin}\u0000${lot.lot}`;
}
