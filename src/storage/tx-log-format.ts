/**
 * Byte layout of the tx log (`DATA/txlog/`, storage/tx-log.ts) and the scanner that reads a
 * segment back, telling good records, damage in the middle and a torn tail apart. Pure: bytes
 * in, findings out.
 *
 * A segment file is a header followed by records, little-endian:
 *
 *   header (24 bytes): "TCTL" · u32 version (1) · u64 sequence (the number in the file name)
 *                      · u32 zero · u32 CRC-32 of the 20 bytes before it
 *   record (48 bytes + payload):
 *     0  4  magic C7 1A 5E D1 (never inside UTF-8 text: C7 must be followed by 80–BF)
 *     4  4  payload length n, 1 ≤ n ≤ the largest payload allowed
 *     8  1  kind: 1 = tx (key = tx ID, payload = the tx's canonical bytes);
 *              2 is reserved for capture jobs of the EPCIS binding (key = job ID)
 *     9  3  zero
 *    12 32  key
 *    44  4  CRC-32 (IEEE, zlib's) of bytes 4–43 and the payload
 *    48  n  payload
 *
 * The magic lets the scanner find the next good record after damage (whose length field may be
 * garbage); the checksum tells a whole record from a torn or flipped one.
 */
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = Uint8Array.from([0x54, 0x43, 0x54, 0x4c]); // "TCTL"
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 24;
export const RECORD_MAGIC = Uint8Array.from([0xc7, 0x1a, 0x5e, 0xd1]);
export const RECORD_HEADER_BYTES = 48;
export const KEY_BYTES = 32;

/** Record kinds. A kind this build does not know is damage to it (moved aside, never guessed at). */
export const RECORD_KIND = { tx: 1 } as const;
export type RecordKind = (typeof RECORD_KIND)[keyof typeof RECORD_KIND];
const KNOWN_KINDS: ReadonlySet<number> = new Set(Object.values(RECORD_KIND));

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) >>> 0;
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

export function encodeSegmentHeader(sequence: number): Uint8Array {
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new RangeError(`bad segment sequence ${sequence}`);
  const out = new Uint8Array(SEGMENT_HEADER_BYTES);
  out.set(SEGMENT_MAGIC, 0);
  putU32(out, 4, SEGMENT_VERSION);
  putU32(out, 8, sequence % 2 ** 32);
  putU32(out, 12, Math.floor(sequence / 2 ** 32));
  putU32(out, 20, crc32(out.subarray(0, 20)));
  return out;
}

/** The segment's sequence number, or why its header is not one. */
export function decodeSegmentHeader(bytes: Uint8Array): { ok: true; sequence: number } | { ok: false; reason: string } {
  if (bytes.length < SEGMENT_HEADER_BYTES) return { ok: false, reason: `header torn (${bytes.length} of ${SEGMENT_HEADER_BYTES} bytes)` };
  for (let i = 0; i < 4; i++) if (bytes[i] !== SEGMENT_MAGIC[i]) return { ok: false, reason: 'not a tx log segment (bad magic)' };
  if (crc32(bytes.subarray(0, 20)) !== u32(bytes, 20)) return { ok: false, reason: 'header checksum mismatch' };
  const version = u32(bytes, 4);
  if (version !== SEGMENT_VERSION) return { ok: false, reason: `unsupported segment version ${version}` };
  return { ok: true, sequence: u32(bytes, 8) + u32(bytes, 12) * 2 ** 32 };
}

/** The 48-byte header of a record; the payload follows it as is. */
export function encodeRecordHeader(kind: RecordKind, key: Uint8Array, payload: Uint8Array): Uint8Array {
  if (key.length !== KEY_BYTES) throw new RangeError(`a record key is ${KEY_BYTES} bytes, not ${key.length}`);
  if (payload.length === 0) throw new RangeError('a record carries at least one payload byte');
  const out = new Uint8Array(RECORD_HEADER_BYTES);
  out.set(RECORD_MAGIC, 0);
  putU32(out, 4, payload.length);
  out[8] = kind;
  out.set(key, 12);
  putU32(out, 44, crc32(payload, crc32(out.subarray(4, 44))));
  return out;
}

export interface ScannedRecord {
  /** Offset of the record's header in the segment. */
  offset: number;
  /** Header and payload. */
  length: number;
  kind: RecordKind;
  key: Uint8Array;
  payload: Uint8Array;
}

/** Bytes that are not good records, and why. */
export interface DamagedRange {
  offset: number;
  length: number;
  reason: string;
}

export interface SegmentScan {
  records: ScannedRecord[];
  /** Damage followed by at least one good record (middle of the log). */
  damaged: DamagedRange[];
  /** Bytes after the last good record that hold no good record (a torn write, or damage at the end). */
  tail: DamagedRange | undefined;
}

type Check = { ok: true; record: ScannedRecord } | { ok: false; reason: string };

function checkRecordAt(bytes: Uint8Array, at: number, maxPayload: number): Check {
  const left = bytes.length - at;
  if (left < RECORD_HEADER_BYTES) return { ok: false, reason: `record header torn (${left} of ${RECORD_HEADER_BYTES} bytes)` };
  for (let i = 0; i < 4; i++) if (bytes[at + i] !== RECORD_MAGIC[i]) return { ok: false, reason: 'no record magic' };
  const n = u32(bytes, at + 4);
  if (n === 0 || n > maxPayload) return { ok: false, reason: `impossible payload length ${n}` };
  if (left < RECORD_HEADER_BYTES + n) return { ok: false, reason: `record torn (${left} of ${RECORD_HEADER_BYTES + n} bytes)` };
  const payload = bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + n);
  if (crc32(payload, crc32(bytes.subarray(at + 4, at + 44))) !== u32(bytes, at + 44)) return { ok: false, reason: 'checksum mismatch' };
  const kind = bytes[at + 8] as number;
  // A good checksum on an unknown kind: written by a newer build. Damage to this one.
  if (!KNOWN_KINDS.has(kind)) return { ok: false, reason: `unknown record kind ${kind} (written by a newer tracechain?)` };
  if (bytes[at + 9] !== 0 || bytes[at + 10] !== 0 || bytes[at + 11] !== 0) return { ok: false, reason: 'reserved bytes not zero' };
  return { ok: true, record: { offset: at, length: RECORD_HEADER_BYTES + n, kind: kind as RecordKind, key: bytes.subarray(at + 12, at + 44), payload } };
}

/** The next offset after `from` where a good record starts, if any. */
function resync(bytes: Uint8Array, from: number, maxPayload: number): number | undefined {
  for (let at = bytes.indexOf(RECORD_MAGIC[0] as number, from); at >= 0; at = bytes.indexOf(RECORD_MAGIC[0] as number, at + 1)) {
    if (checkRecordAt(bytes, at, maxPayload).ok) return at;
  }
  return undefined;
}

/**
 * Read the records of a segment's bytes after its header (`start`). Good records are returned
 * in order; a bad stretch followed by a good record is `damaged` (with the first problem seen
 * at its start); a bad stretch running to the end is the `tail`. Whether the tail is a torn
 * write (cut it) or damage (move it aside) is the caller's call: only the segment being
 * written when the node stopped can have a torn tail.
 */
export function scanSegment(bytes: Uint8Array, maxPayload: number, start = SEGMENT_HEADER_BYTES): SegmentScan {
  const out: SegmentScan = { records: [], damaged: [], tail: undefined };
  let at = start;
  while (at < bytes.length) {
    const c = checkRecordAt(bytes, at, maxPayload);
    if (c.ok) {
      out.records.push(c.record);
      at += c.record.length;
      continue;
    }
    const next = resync(bytes, at + 1, maxPayload);
    if (next === undefined) {
      out.tail = { offset: at, length: bytes.length - at, reason: c.reason };
      break;
    }
    out.damaged.push({ offset: at, length: next - at, reason: c.reason });
    at = next;
  }
  return out;
}

/** The good record starting at `at` in `bytes`, or why there is none. */
export function recordAt(bytes: Uint8Array, at: number, maxPayload: number): { ok: true; record: ScannedRecord } | { ok: false; reason: string } {
  return checkRecordAt(bytes, at, maxPayload);
}
