/**
 * Pure key/value codecs for every bucket (DESIGN.md, Storage). Big-endian fixed-width numbers
 * so LevelDB's bytewise order is numeric order; hashes as 32 raw bytes. Encoders reject what
 * they cannot represent with StorageArgumentError; decoders validate every length and throw
 * DecodeError, which the repositories turn into StorageCorruptionError with bucket and key.
 * Nothing that is hashed is JSON-encoded here: JSON is used only for item and undo values,
 * which are stored, never hashed.
 */
import { concatBytes, toHex, utf8 } from '../common/bytes.js';
import type { BlockStatus, EventLocation, HeaderEntry, LinkKind, LinkRole, LotKey, RecordNs, StoredItem, StoredRecord, TxLocation, UndoRecord } from '../chain/store.js';
import { StorageArgumentError } from './errors.js';

/** Stored bytes that do not decode. Internal: repositories rethrow it as StorageCorruptionError. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export const HASH_SIZE = 32;
const HEX32 = /^[0-9a-f]{64}$/;
const EVENT_ID = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/;
const U32_MAX = 0xffffffff;
const U256_LIMIT = 1n << 256n;
/** Strict and exact: invalid UTF-8 throws, and a leading U+FEFF is kept rather than dropped as a BOM. */
const fromUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------- primitives

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkU32(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > U32_MAX) throw new StorageArgumentError(`${name} must be a u32, got ${String(n)}`);
}

export function encodeU32(name: string, n: number): Uint8Array {
  checkU32(name, n);
  const b = new Uint8Array(4);
  dv(b).setUint32(0, n, false);
  return b;
}

export function decodeU32(b: Uint8Array, what: string): number {
  if (b.length !== 4) throw new DecodeError(`${what} must be 4 bytes, got ${b.length}`);
  return dv(b).getUint32(0, false);
}

/** A lowercase-hex 32-byte hash to its raw bytes. */
export function encodeHash(name: string, hex: string): Uint8Array {
  if (typeof hex !== 'string' || !HEX32.test(hex)) throw new StorageArgumentError(`${name} must be 32 bytes of lowercase hex`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function decodeHash(b: Uint8Array, what: string): string {
  if (b.length !== HASH_SIZE) throw new DecodeError(`${what} must be ${HASH_SIZE} bytes, got ${b.length}`);
  return toHex(b);
}

function decodeUtf8(b: Uint8Array, what: string): string {
  try {
    return fromUtf8.decode(b);
  } catch (err) {
    if (err instanceof TypeError) throw new DecodeError(`${what} is not valid UTF-8`);
    throw err;
  }
}

function parseJson(b: Uint8Array, what: string): unknown {
  const text = decodeUtf8(b, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    if (err instanceof SyntaxError) throw new DecodeError(`${what} is not JSON: ${err.message}`);
    throw err;
  }
}

function stringifyJson(value: unknown, what: string): Uint8Array {
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch (err) {
    // BigInt values and cycles throw TypeError: the caller handed us something that is not JSON.
    if (err instanceof TypeError) throw new StorageArgumentError(`${what} is not JSON-serialisable: ${err.message}`);
    throw err;
  }
  if (s === undefined) throw new StorageArgumentError(`${what} has no JSON form`);
  return utf8.encode(s);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A text key (item key, GTIN, lot) as UTF-8. Must be non-empty, well-formed (no lone
 * surrogates, which UTF-8 cannot carry) and free of U+0000, the separator byte.
 */
export function encodeText(name: string, s: string): Uint8Array {
  if (typeof s !== 'string' || s.length === 0) throw new StorageArgumentError(`${name} must be a non-empty string`);
  if (s.includes('\u0000')) throw new StorageArgumentError(`${name} must not contain U+0000`);
  const b = utf8.encode(s);
  // TextEncoder replaces lone surrogates with U+FFFD; refuse rather than store a different key.
  if (fromUtf8.decode(b) !== s) throw new StorageArgumentError(`${name} is not well-formed Unicode`);
  return b;
}

function decodeText(b: Uint8Array, what: string): string {
  if (b.length === 0) throw new DecodeError(`${what} is empty`);
  if (b.includes(0)) throw new DecodeError(`${what} contains a 0x00 byte`);
  return decodeUtf8(b, what);
}

// ---------------------------------------------------------------- event IDs

/** `ni:///sha-256;<hex>?ver=CBV2.0` to its 32-byte digest. */
export function encodeEventId(eventId: string): Uint8Array {
  const m = typeof eventId === 'string' ? EVENT_ID.exec(eventId) : null;
  if (m === null || m[1] === undefined) throw new StorageArgumentError(`not a CBV 2.0 event ID: ${String(eventId).slice(0, 100)}`);
  return new Uint8Array(Buffer.from(m[1], 'hex'));
}

export function decodeEventId(b: Uint8Array, what = 'event digest'): string {
  return `ni:///sha-256;${decodeHash(b, what)}?ver=CBV2.0`;
}

// ---------------------------------------------------------------- header index

/**
 * Header index value (key = block hash): height u32 ‖ time u64 ‖ bits u32 ‖ prevHash 32 ‖
 * chainwork u256 ‖ status u8 (0 stored, 1 invalid) ‖ invalid code (UTF-8, rest; only when
 * status is invalid, and then non-empty if present). All big-endian. 81 bytes + code.
 */
export const HEADER_ENTRY_FIXED = 4 + 8 + 4 + 32 + 32 + 1;
const STATUS_CODES: Record<BlockStatus, number> = { stored: 0, invalid: 1 };

export function encodeHeaderEntry(e: HeaderEntry): Uint8Array {
  checkU32('height', e.height);
  checkU32('bits', e.bits);
  if (!Number.isSafeInteger(e.time) || e.time < 0) throw new StorageArgumentError('time must be a non-negative safe integer');
  if (typeof e.chainwork !== 'bigint' || e.chainwork < 0n || e.chainwork >= U256_LIMIT) {
    throw new StorageArgumentError('chainwork must be a bigint in [0, 2^256)');
  }
  const status = STATUS_CODES[e.status];
  if (status === undefined) throw new StorageArgumentError(`unknown block status ${String(e.status)}`);
  let code: Uint8Array = new Uint8Array(0);
  if (e.invalidCode !== undefined) {
    if (e.status !== 'invalid') throw new StorageArgumentError('invalidCode is only allowed on an invalid entry');
    code = encodeText('invalidCode', e.invalidCode);
    if (code.length > 255) throw new StorageArgumentError('invalidCode longer than 255 bytes');
  }
  const out = new Uint8Array(HEADER_ENTRY_FIXED + code.length);
  const d = dv(out);
  d.setUint32(0, e.height, false);
  d.setBigUint64(4, BigInt(e.time), false);
  d.setUint32(12, e.bits, false);
  out.set(encodeHash('prevHash', e.prevHash), 16);
  const work = e.chainwork.toString(16).padStart(64, '0');
  out.set(Buffer.from(work, 'hex'), 48);
  out[80] = status;
  out.set(code, HEADER_ENTRY_FIXED);
  return out;
}

export function decodeHeaderEntry(hash: string, b: Uint8Array): HeaderEntry {
  if (b.length < HEADER_ENTRY_FIXED) throw new DecodeError(`header entry must be at least ${HEADER_ENTRY_FIXED} bytes, got ${b.length}`);
  const d = dv(b);
  const time = d.getBigUint64(4, false);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('header entry time out of range');
  const statusByte = b[80];
  const entry: HeaderEntry = {
    hash,
    height: d.getUint32(0, false),
    prevHash: toHex(b.subarray(16, 48)),
    time: Number(time),
    bits: d.getUint32(12, false),
    chainwork: BigInt('0x' + toHex(b.subarray(48, 80))),
    status: 'stored',
  };
  if (statusByte === 0) {
    if (b.length !== HEADER_ENTRY_FIXED) throw new DecodeError('stored header entry has trailing bytes');
  } else if (statusByte === 1) {
    entry.status = 'invalid';
    if (b.length > HEADER_ENTRY_FIXED + 255) throw new DecodeError('invalid code longer than 255 bytes');
    if (b.length > HEADER_ENTRY_FIXED) entry.invalidCode = decodeText(b.subarray(HEADER_ENTRY_FIXED), 'invalid code');
  } else {
    throw new DecodeError(`unknown header status byte ${String(statusByte)}`);
  }
  return entry;
}

// ---------------------------------------------------------------- main chain, tx and event locations

/** Tx location value: blockHash 32 ‖ height u32 ‖ index u32 (40 bytes). */
export function encodeTxLocation(loc: TxLocation): Uint8Array {
  return concatBytes(encodeHash('blockHash', loc.blockHash), encodeU32('height', loc.height), encodeU32('index', loc.index));
}

export function decodeTxLocation(b: Uint8Array): TxLocation {
  if (b.length !== 40) throw new DecodeError(`tx location must be 40 bytes, got ${b.length}`);
  const d = dv(b);
  return { blockHash: toHex(b.subarray(0, 32)), height: d.getUint32(32, false), index: d.getUint32(36, false) };
}

/** Event location value: txid 32 ‖ index u32 (36 bytes). */
export function encodeEventLocation(loc: EventLocation): Uint8Array {
  return concatBytes(encodeHash('txId', loc.txId), encodeU32('index', loc.index));
}

export function decodeEventLocation(b: Uint8Array): EventLocation {
  if (b.length !== 36) throw new DecodeError(`event location must be 36 bytes, got ${b.length}`);
  return { txId: toHex(b.subarray(0, 32)), index: dv(b).getUint32(32, false) };
}

// ---------------------------------------------------------------- EPC history

export interface HistoryPosition {
  height: number;
  txIndex: number;
  eventIndex: number;
}

export interface HistoryKey extends HistoryPosition {
  key: string;
}

const HISTORY_SUFFIX = 1 + 12;

/** `utf8(key) ‖ 0x00`: every history key of one item starts with this, and no other item's does. */
export function historyPrefix(key: string): Uint8Array {
  return concatBytes(encodeText('item key', key), new Uint8Array([0]));
}

export function encodeHistoryPosition(p: HistoryPosition): Uint8Array {
  return concatBytes(encodeU32('height', p.height), encodeU32('txIndex', p.txIndex), encodeU32('eventIndex', p.eventIndex));
}

/** History key: utf8(key) ‖ 0x00 ‖ height u32 ‖ txIndex u32 ‖ eventIndex u32. */
export function encodeHistoryKey(k: HistoryKey): Uint8Array {
  return concatBytes(historyPrefix(k.key), encodeHistoryPosition(k));
}

export function decodeHistoryKey(b: Uint8Array): HistoryKey {
  if (b.length < HISTORY_SUFFIX + 1) throw new DecodeError(`history key must be at least ${HISTORY_SUFFIX + 1} bytes, got ${b.length}`);
  const sep = b.length - HISTORY_SUFFIX;
  if (b[sep] !== 0) throw new DecodeError('history key lacks the 0x00 separator');
  const d = dv(b);
  return {
    key: decodeText(b.subarray(0, sep), 'item key'),
    height: d.getUint32(sep + 1, false),
    txIndex: d.getUint32(sep + 5, false),
    eventIndex: d.getUint32(sep + 9, false),
  };
}

// ---------------------------------------------------------------- query index (terms)

/** Term row key: utf8(term) ‖ 0x00 ‖ height u32 (one row per term and block). */
export function encodeTermKey(term: string, height: number): Uint8Array {
  return concatBytes(historyPrefix(term), encodeU32('height', height));
}

export function decodeTermKey(b: Uint8Array): { term: string; height: number } {
  if (b.length < 6) throw new DecodeError(`term key must be at least 6 bytes, got ${b.length}`);
  const sep = b.length - 5;
  if (b[sep] !== 0) throw new DecodeError('term key lacks the 0x00 separator');
  return { term: decodeText(b.subarray(0, sep), 'term'), height: dv(b).getUint32(sep + 1, false) };
}

/** Term row value: (txIndex u32 ‖ eventIndex u32) per event, in chain order, at least one. */
export function encodeTermPositions(positions: readonly number[]): Uint8Array {
  if (positions.length === 0 || positions.length % 2 !== 0) throw new StorageArgumentError('term positions must be non-empty (txIndex, eventIndex) pairs');
  const out = new Uint8Array(positions.length * 4);
  const d = dv(out);
  for (let i = 0; i < positions.length; i++) {
    const v = positions[i] as number;
    checkU32('term position', v);
    d.setUint32(i * 4, v, false);
  }
  return out;
}

export function decodeTermPositions(b: Uint8Array): number[] {
  if (b.length === 0 || b.length % 8 !== 0) throw new DecodeError(`term positions must be a non-empty multiple of 8 bytes, got ${b.length}`);
  const d = dv(b);
  const out = new Array<number>(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = d.getUint32(i * 4, false);
  for (let i = 2; i < out.length; i += 2) {
    const t = out[i] as number;
    const pt = out[i - 2] as number;
    if (t < pt || (t === pt && (out[i + 1] as number) <= (out[i - 1] as number))) throw new DecodeError('term positions are not in chain order');
  }
  return out;
}

// ---------------------------------------------------------------- links (containment, leaving, transformations)

/** Link roles: each its own key range per item (trace/journey.ts LinkRole). */
const LINK_ROLES: Record<LinkRole, number> = { child: 0, parent: 1, transform: 2 };
const LINK_ROLE_NAMES: readonly LinkRole[] = ['child', 'parent', 'transform'];
/** Link kinds as stored (value byte 0), and the role each belongs to. */
const LINK_KINDS: Record<LinkKind, { code: number; role: LinkRole; container: boolean }> = {
  in: { code: 1, role: 'child', container: true },
  out: { code: 2, role: 'child', container: true },
  left: { code: 3, role: 'child', container: false },
  emptied: { code: 4, role: 'parent', container: false },
  input: { code: 5, role: 'transform', container: false },
  output: { code: 6, role: 'transform', container: false },
  'input-output': { code: 7, role: 'transform', container: false },
};
const LINK_KIND_BY_CODE = new Map(Object.entries(LINK_KINDS).map(([k, v]) => [v.code, k as LinkKind]));

export interface LinkKey extends HistoryPosition {
  key: string;
  role: LinkRole;
}

export function linkRoleOf(kind: LinkKind): LinkRole {
  const k = LINK_KINDS[kind];
  if (k === undefined) throw new StorageArgumentError(`unknown link kind ${String(kind)}`);
  return k.role;
}

/** `utf8(key) ‖ 0x00 ‖ role`: every link key of one item and role starts with this, and no other's does. */
export function linkPrefix(key: string, role: LinkRole): Uint8Array {
  const r = LINK_ROLES[role];
  if (r === undefined) throw new StorageArgumentError(`unknown link role ${String(role)}`);
  return concatBytes(encodeText('item key', key), new Uint8Array([0, r]));
}

const LINK_SUFFIX = 2 + 12;

/** Link key: utf8(key) ‖ 0x00 ‖ role u8 ‖ height u32 ‖ txIndex u32 ‖ eventIndex u32. */
export function encodeLinkKey(k: LinkKey): Uint8Array {
  return concatBytes(linkPrefix(k.key, k.role), encodeHistoryPosition(k));
}

export function decodeLinkKey(b: Uint8Array): LinkKey {
  if (b.length < LINK_SUFFIX + 1) throw new DecodeError(`link key must be at least ${LINK_SUFFIX + 1} bytes, got ${b.length}`);
  const sep = b.length - LINK_SUFFIX;
  if (b[sep] !== 0) throw new DecodeError('link key lacks the 0x00 separator');
  const role = LINK_ROLE_NAMES[b[sep + 1] as number];
  if (role === undefined) throw new DecodeError(`unknown link role byte ${String(b[sep + 1])}`);
  const d = dv(b);
  return {
    key: decodeText(b.subarray(0, sep), 'item key'),
    role,
    height: d.getUint32(sep + 2, false),
    txIndex: d.getUint32(sep + 6, false),
    eventIndex: d.getUint32(sep + 10, false),
  };
}

export interface LinkValue {
  kind: LinkKind;
  other?: string;
}

/** Link value: kind u8 ‖ utf8(container key) (only for `in` and `out`). */
export function encodeLinkValue(v: LinkValue, role: LinkRole): Uint8Array {
  const k = LINK_KINDS[v.kind];
  if (k === undefined) throw new StorageArgumentError(`unknown link kind ${String(v.kind)}`);
  if (k.role !== role) throw new StorageArgumentError(`link kind ${v.kind} is not of role ${role}`);
  if (k.container !== (v.other !== undefined)) throw new StorageArgumentError(`link kind ${v.kind} ${k.container ? 'needs' : 'takes no'} container key`);
  return v.other === undefined ? new Uint8Array([k.code]) : concatBytes(new Uint8Array([k.code]), encodeText('container key', v.other));
}

export function decodeLinkValue(b: Uint8Array, role: LinkRole): LinkValue {
  if (b.length === 0) throw new DecodeError('link value is empty');
  const kind = LINK_KIND_BY_CODE.get(b[0] as number);
  if (kind === undefined) throw new DecodeError(`unknown link kind byte ${String(b[0])}`);
  const k = LINK_KINDS[kind];
  if (k.role !== role) throw new DecodeError(`link kind ${kind} stored under role ${role}`);
  if (!k.container) {
    if (b.length !== 1) throw new DecodeError(`link kind ${kind} has ${b.length - 1} trailing bytes`);
    return { kind };
  }
  return { kind, other: decodeText(b.subarray(1), 'container key') };
}

// ---------------------------------------------------------------- items and lots

export function encodeItemKey(key: string): Uint8Array {
  return encodeText('item key', key);
}

export function decodeItemKey(b: Uint8Array): string {
  return decodeText(b, 'item key');
}

export function encodeItem(item: StoredItem): Uint8Array {
  if (!isPlainObject(item)) throw new StorageArgumentError('item must be an object');
  encodeText('item key', item.key);
  return stringifyJson(item, 'item');
}

export function decodeItem(key: string, b: Uint8Array): StoredItem {
  const v = parseJson(b, 'item');
  if (!isPlainObject(v)) throw new DecodeError('item is not a JSON object');
  if (v.key !== key) throw new DecodeError(`item record is for key ${JSON.stringify(v.key)}, stored under ${JSON.stringify(key)}`);
  return v as StoredItem;
}

/** Recalled-lot key: utf8(gtin) ‖ 0x00 ‖ utf8(lot). The value is empty. */
export function encodeLotKey(l: LotKey): Uint8Array {
  return concatBytes(encodeText('gtin', l.gtin), new Uint8Array([0]), encodeText('lot', l.lot));
}

export function decodeLotKey(b: Uint8Array): LotKey {
  const sep = b.indexOf(0);
  if (sep < 0) throw new DecodeError('lot key lacks the 0x00 separator');
  return { gtin: decodeText(b.subarray(0, sep), 'gtin'), lot: decodeText(b.subarray(sep + 1), 'lot') };
}

// ---------------------------------------------------------------- undo records

/** Undo value: JSON `{"v":1,"items":[{"key","prev"}],"lots":[{"gtin","lot","prev"}]}`. */
export function encodeUndo(u: UndoRecord): Uint8Array {
  const items = u.items.map(({ key, prev }) => {
    encodeText('undo item key', key);
    if (prev !== null && (!isPlainObject(prev) || prev.key !== key)) throw new StorageArgumentError(`undo prev for ${key} must be null or an item with that key`);
    return { key, prev };
  });
  const lots = u.lots.map(({ lot, prev }) => {
    encodeLotKey(lot);
    if (typeof prev !== 'boolean') throw new StorageArgumentError('undo lot prev must be a boolean');
    return { gtin: lot.gtin, lot: lot.lot, prev };
  });
  if (u.governance !== undefined && u.governance !== null) parseJson(utf8.encode(u.governance), 'undo governance state');
  const out: Record<string, unknown> = u.governance === undefined ? { v: 1, items, lots } : { v: 1, items, lots, governance: u.governance };
  if (u.records !== undefined && u.records.length > 0) out.records = u.records.map(({ ns, key, prev }) => checkUndoRecord(ns, key, prev));
  return stringifyJson(out, 'undo record');
}

// ---------------------------------------------------------------- governance state

/** The governance state (chain/governance.ts) as its canonical JSON text, one value. */
export function encodeGovernance(json: string): Uint8Array {
  if (typeof json !== 'string' || json.length === 0) throw new StorageArgumentError('governance state must be non-empty JSON text');
  const b = utf8.encode(json);
  parseJson(b, 'governance state');
  return b;
}

export function decodeGovernance(b: Uint8Array): string {
  const v = parseJson(b, 'governance state');
  if (!isPlainObject(v) || v.v !== 1 || !Array.isArray(v.members) || !Array.isArray(v.proposals)) throw new DecodeError('governance state is not {v:1, members, proposals, …}');
  return decodeUtf8(b, 'governance state');
}

export function decodeUndo(b: Uint8Array): UndoRecord {
  const v = parseJson(b, 'undo record');
  if (!isPlainObject(v) || v.v !== 1 || !Array.isArray(v.items) || !Array.isArray(v.lots)) {
    throw new DecodeError('undo record is not {v:1, items:[], lots:[]}');
  }
  const items: UndoRecord['items'] = [];
  for (const it of v.items as unknown[]) {
    if (!isPlainObject(it) || typeof it.key !== 'string' || it.key.length === 0) throw new DecodeError('undo item without a key');
    const prev = it.prev;
    if (prev === null) items.push({ key: it.key, prev: null });
    else if (isPlainObject(prev) && prev.key === it.key) items.push({ key: it.key, prev: prev as StoredItem });
    else throw new DecodeError(`undo item ${it.key}: prev is neither null nor an item with that key`);
  }
  const lots: UndoRecord['lots'] = [];
  for (const l of v.lots as unknown[]) {
    if (!isPlainObject(l) || typeof l.gtin !== 'string' || typeof l.lot !== 'string' || typeof l.prev !== 'boolean') {
      throw new DecodeError('undo lot is not {gtin, lot, prev}');
    }
    lots.push({ lot: { gtin: l.gtin, lot: l.lot }, prev: l.prev });
  }
  const out: UndoRecord = { items, lots };
  if (v.governance !== undefined) {
    if (v.governance !== null && typeof v.governance !== 'string') throw new DecodeError('undo governance is neither null nor the previous state');
    out.governance = v.governance;
  }
  if (v.records !== undefined) {
    if (!Array.isArray(v.records)) throw new DecodeError('undo records is not an array');
    out.records = (v.records as unknown[]).map((r) => {
      if (!isPlainObject(r) || (r.ns !== 'alert' && r.ns !== 'pack') || typeof r.key !== 'string' || r.key.length === 0 || (r.prev !== null && !isPlainObject(r.prev))) {
        throw new DecodeError('undo record entry is not {ns, key, prev}');
      }
      return { ns: r.ns, key: r.key, prev: r.prev as StoredRecord | null };
    });
  }
  return out;
}

function checkUndoRecord(ns: RecordNs, key: string, prev: StoredRecord | null): { ns: RecordNs; key: string; prev: StoredRecord | null } {
  encodeRecordKey({ ns, key });
  if (prev !== null && !isPlainObject(prev)) throw new StorageArgumentError(`undo prev of record ${ns}/${key} must be null or an object`);
  return { ns, key, prev };
}

// ---------------------------------------------------------------- chain-derived records (chain/alert-state.ts)

const RECORD_NS: Readonly<Record<RecordNs, number>> = { alert: 0x01, pack: 0x02 };

/** Record key: namespace byte (alert 0x01, pack 0x02) ‖ utf8(key). */
export function encodeRecordKey(k: { ns: RecordNs; key: string }): Uint8Array {
  const ns = RECORD_NS[k.ns];
  if (ns === undefined) throw new StorageArgumentError(`unknown record namespace ${String(k.ns)}`);
  return concatBytes(new Uint8Array([ns]), encodeText('record key', k.key));
}

export function decodeRecordKey(b: Uint8Array): { ns: RecordNs; key: string } {
  const ns = (Object.keys(RECORD_NS) as RecordNs[]).find((n) => RECORD_NS[n] === b[0]);
  if (ns === undefined) throw new DecodeError(`unknown record namespace byte ${String(b[0])}`);
  return { ns, key: decodeText(b.subarray(1), 'record key') };
}

export function encodeRecord(v: StoredRecord): Uint8Array {
  if (!isPlainObject(v)) throw new StorageArgumentError('record must be an object');
  return stringifyJson(v, 'record');
}

export function decodeRecord(b: Uint8Array): StoredRecord {
  const v = parseJson(b, 'record');
  if (!isPlainObject(v)) throw new DecodeError('record is not a JSON object');
  return v as StoredRecord;
}

/** Record index key: the index string's UTF-8 bytes as they are (U+0000 separates its parts, so ranges follow them). */
export function encodeRecordIndexKey(k: string): Uint8Array {
  if (typeof k !== 'string' || k.length === 0) throw new StorageArgumentError('record index key must be a non-empty string');
  const b = utf8.encode(k);
  if (fromUtf8.decode(b) !== k) throw new StorageArgumentError('record index key is not well-formed Unicode');
  return b;
}

export function decodeRecordIndexKey(b: Uint8Array): string {
  return decodeUtf8(b, 'record index key');
}

// ---------------------------------------------------------------- meta

export function encodeGenesisJson(json: string): Uint8Array {
  if (typeof json !== 'string' || json.length === 0) throw new StorageArgumentError('genesis JSON must be a non-empty string');
  const b = utf8.encode(json);
  if (fromUtf8.decode(b) !== json) throw new StorageArgumentError('genesis JSON is not well-formed Unicode');
  return b;
}

export function decodeGenesisJson(b: Uint8Array): string {
  if (b.length === 0) throw new DecodeError('genesis JSON is empty');
  const s = decodeUtf8(b, 'genesis JSON');
  parseJson(b, 'genesis JSON');
  return s;
}

export function decodeEmpty(b: Uint8Array, what: string): true {
  if (b.length !== 0) throw new DecodeError(`${what} value must be empty, got ${b.length} bytes`);
  return true;
}
