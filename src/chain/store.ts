/**
 * The storage interface the chain needs (implemented in storage/). The chain decides what
 * changes; storage encodes it and writes each block connect/disconnect as one atomic batch,
 * tip pointer included.
 */
import type { Block } from './block.js';

/** Where an event is on the main chain: chain order is (height, txIndex, eventIndex). */
export interface Position {
  height: number;
  txIndex: number;
  eventIndex: number;
}

/**
 * The three kinds of link records of an item (trace/journey.ts), each its own range in the
 * links index: `child` — what the item is put in and taken out of (in, out) and its leaving
 * (left); `parent` — the item, as a container, emptied by an unpack naming no children;
 * `transform` — transformations the item was an input or an output of.
 */
export type LinkRole = 'child' | 'parent' | 'transform';
export type LinkKind = 'in' | 'out' | 'left' | 'emptied' | 'input' | 'output' | 'input-output';

/** The role each kind of link record belongs to. */
export function roleOfKind(kind: LinkKind): LinkRole {
  switch (kind) {
    case 'in':
    case 'out':
    case 'left':
      return 'child';
    case 'emptied':
      return 'parent';
    case 'input':
    case 'output':
    case 'input-output':
      return 'transform';
  }
}

/** A stored link record of an item, at its event's position (`other`: the container, for in/out). */
export interface LinkRecord extends Position {
  kind: LinkKind;
  other?: string;
}

export interface RoleLinkRecord extends LinkRecord {
  role: LinkRole;
}

export type BlockStatus = 'stored' | 'invalid';

/** One entry of the header index: everything fork choice needs without reading a block. */
export interface HeaderEntry {
  hash: string;
  height: number;
  prevHash: string;
  time: number;
  bits: number;
  chainwork: bigint;
  status: BlockStatus;
  /** Why a block was marked invalid (error code), if it was. */
  invalidCode?: string;
}

export interface TxLocation {
  blockHash: string;
  height: number;
  /** Position of the tx in the block. */
  index: number;
}

export interface EventLocation {
  txId: string;
  /** Position of the event in its tx. */
  index: number;
}

export interface EpcHistoryEntry {
  /** Canonical item key (see trace/). */
  key: string;
  height: number;
  txIndex: number;
  eventIndex: number;
  eventId: string;
}

/**
 * One query-index row (trace/query-terms.ts): the events of one block that have one term, as
 * (txIndex, eventIndex) pairs in chain order. One row per (term, block) rather than per (term,
 * event): a block of 1,000 events has a few dozen term rows instead of ~7,000, which cost ingest
 * ~40 % of its committed rate in LevelDB writes and compactions.
 */
export interface TermRow {
  term: string;
  height: number;
  /** Flat pairs: txIndex, eventIndex, txIndex, eventIndex, … in chain order. */
  positions: number[];
}

/** Positions read from the query index for one term: in chain order; `done` when no more follow. */
export interface TermPositions {
  positions: Position[];
  done: boolean;
}

/**
 * A link record (trace/journey.ts): at this event, the item `key` went into or out of a
 * container (`other`), left the supply chain, was emptied, or was a transformation's input or
 * output. Written at block connect beside the history entries, deleted at disconnect.
 */
export interface LinkEntry extends Position {
  key: string;
  kind: LinkKind;
  other?: string;
}

/** JSON-serialisable item record kept per EPC (shape owned by trace/). */
export type StoredItem = { key: string } & Record<string, unknown>;

export interface LotKey {
  gtin: string;
  lot: string;
}

/**
 * Chain-derived records beyond item state (chain/alert-state.ts): alerts with their lifecycle, and
 * per-pack facts (its last dispense, its scratch-off code and checks). Each lives in a namespace
 * under a string key, as JSON; written at block connect and restored from undo data.
 */
export type RecordNs = 'alert' | 'pack';
export type StoredRecord = Record<string, unknown>;

export interface RecordWrite {
  ns: RecordNs;
  key: string;
  /** null: the record is deleted. */
  value: StoredRecord | null;
}

/**
 * Writes to the record index (chain/alert-state.ts): keys only, empty values, so a range read
 * answers "the alerts of this owner", "the items of this lot". Deletes are applied before puts.
 */
export interface RecordIndexOps {
  del: string[];
  put: string[];
}

/** What a block's connection changed in mutable state, so it can be undone exactly. */
export interface UndoRecord {
  items: { key: string; prev: StoredItem | null }[];
  lots: { lot: LotKey; prev: boolean }[];
  /**
   * The governance state before the block (its JSON; null: none was stored, the genesis state),
   * present only when the block changed it (chain/governance.ts).
   */
  governance?: string | null;
  /** Chain-derived records the block changed, each with its value before the block (null: none). */
  records?: { ns: RecordNs; key: string; prev: StoredRecord | null }[];
}

export interface ConnectBatch {
  block: Block;
  txLocations: { txId: string; loc: TxLocation }[];
  events: { eventId: string; loc: EventLocation }[];
  history: EpcHistoryEntry[];
  /** The block's query-index rows (none when the rules keep no query index). */
  terms: TermRow[];
  links: LinkEntry[];
  items: StoredItem[];
  recalledLots: LotKey[];
  undo: UndoRecord;
  /** The governance state after the block (its JSON), when the block changed it. */
  governance?: string;
  /** Chain-derived records (alerts, pack facts) the block wrote, and their index keys. */
  records?: RecordWrite[];
  recordIndex?: RecordIndexOps;
}

export interface DisconnectBatch {
  block: Block;
  txIds: string[];
  eventIds: string[];
  history: EpcHistoryEntry[];
  terms: TermRow[];
  links: LinkEntry[];
  undo: UndoRecord;
  /** The new tip after the disconnect (the block's parent). */
  newTip: { hash: string; height: number };
  /** Index keys of the records and items the undo restores (deletes of the block's, puts of the previous). */
  recordIndex?: RecordIndexOps;
}

export interface ChainStore {
  /** The stored genesis document (JSON string), if any. */
  getGenesis(): Promise<string | undefined>;
  putGenesis(genesisJson: string, genesis: Block, entry: HeaderEntry): Promise<void>;
  getTip(): Promise<string | undefined>;
  /** All header index entries, in any order. */
  loadHeaderEntries(): AsyncIterable<HeaderEntry>;
  /** Store a block and its header entry (not connected). */
  putBlock(block: Block, bytes: Uint8Array, entry: HeaderEntry): Promise<void>;
  putHeaderEntry(entry: HeaderEntry): Promise<void>;
  getBlockBytes(hash: string): Promise<Uint8Array | undefined>;
  /**
   * A stored block's header (112 bytes) followed by its tx IDs (32 bytes each), without reading
   * the block; undefined for a block stored by a build that did not write them (read the block).
   */
  getBlockTxIds(hash: string): Promise<Uint8Array | undefined>;
  /** One tx's canonical bytes of a stored block, by position (undefined as for getBlockTxIds). */
  getBlockTx(hash: string, index: number): Promise<Uint8Array | undefined>;
  /**
   * Many txs of stored blocks by position in one read, each as its canonical JSON text (JS
   * strings, decoded from the stored UTF-8: proofs carry the tx as a string). Undefined as for
   * getBlockTx. The text is not checked here: hash it against the block's tx IDs.
   */
  getBlockTxTexts(refs: readonly { hash: string; index: number }[]): Promise<(string | undefined)[]>;
  getMainHash(height: number): Promise<string | undefined>;
  getTxLocation(txId: string): Promise<TxLocation | undefined>;
  getEventLocation(eventId: string): Promise<EventLocation | undefined>;
  /** The 32-byte digests of every event ID with a stored location (the main chain's events), in batches. */
  eventDigestBatches(): AsyncIterable<Uint8Array[]>;
  getItem(key: string): Promise<StoredItem | undefined>;
  /** Batched reads (one LevelDB round trip each), results in argument order. */
  getTxLocations(txIds: readonly string[]): Promise<(TxLocation | undefined)[]>;
  getEventLocations(eventIds: readonly string[]): Promise<(EventLocation | undefined)[]>;
  getItems(keys: readonly string[]): Promise<(StoredItem | undefined)[]>;
  /** Whether any item record's key starts with `prefix` (the verification requests' "is this GTIN known here?"). */
  hasItemWithPrefix(prefix: string): Promise<boolean>;
  isLotRecalled(lot: LotKey): Promise<boolean>;
  /** Chain-derived records by key (batched), results in argument order. */
  getRecords(ns: RecordNs, keys: readonly string[]): Promise<(StoredRecord | undefined)[]>;
  /** Record index keys starting with `prefix`, in key order, strictly after `after` if given, at most `limit`. */
  scanRecordIndex(prefix: string, opts: { after?: string; limit: number }): Promise<string[]>;
  /** How many chain-derived records (alerts and pack facts) the store holds (the audit compares it with a replay). */
  countRecords(): Promise<number>;
  getUndo(hash: string): Promise<UndoRecord | undefined>;
  /** The governance state at the tip (its JSON), undefined while it is the genesis state. */
  getGovernance(): Promise<string | undefined>;
  /** One atomic batch (synced unless `sync: false`): main-chain entry, indexes, item state, undo and tip. */
  connect(batch: ConnectBatch, opts?: { sync?: boolean }): Promise<void>;
  /** One atomic, synced batch reversing a connect. */
  disconnect(batch: DisconnectBatch): Promise<void>;
  /** EPC history of an item in chain order, paged from an exclusive cursor, up to `to` (inclusive) if given. */
  history(key: string, opts: { after?: EpcHistoryEntry; to?: Position; limit: number }): Promise<EpcHistoryEntry[]>;
  /**
   * Query-index positions of one term (trace/query-terms.ts) strictly after `after`, in chain
   * order: whole rows (blocks) until at least `min` positions are read or the term has no more.
   */
  termPositions(term: string, opts: { after?: Position; min: number }): Promise<TermPositions>;
  /** An item's link records of one role in chain order: strictly after `after`, up to `upTo` inclusive, at most `limit`. */
  links(key: string, role: LinkRole, opts: { after?: Position; upTo?: Position; limit: number }): Promise<LinkRecord[]>;
  /** An item's link records of one role at or before `at`, newest first, at most `limit`. */
  linksBefore(key: string, role: LinkRole, at: Position, limit: number): Promise<LinkRecord[]>;
  /** An item's link records of every role in one read (child, parent, transform; each in chain order), at most `limit`. */
  allLinks(key: string, limit: number): Promise<RoleLinkRecord[]>;
  /**
   * Whether the links index covers the main chain. False on a store written by a build without
   * it until it is rebuilt (the node does that when it starts: node/links-backfill.ts).
   */
  linksReady(): boolean;
  /** Whether the query index's term rows (trace/query-terms.ts) cover the main chain (node/terms-backfill.ts builds them for an older store). */
  queryTermsReady(): boolean;
  /** Number of link records (audit compares it with the records the blocks make). */
  countLinks(): Promise<number>;
  /** The event ID the EPC history holds at each exact (item, position), in argument order: one read (audit). */
  historyAt(entries: readonly (Position & { key: string })[]): Promise<(string | undefined)[]>;
  /** The link record held at each exact (item, role, position), in argument order: one read (audit). */
  linksAt(entries: readonly (Position & { key: string; role: LinkRole })[]): Promise<(LinkRecord | undefined)[]>;
}
