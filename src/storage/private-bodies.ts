/**
 * The node's private store of event bodies (docs/confidentiality.md), a LevelDB database of its
 * own beside the chain store (`<dataDir>/private`): bodies are not chain data, a reindex or an
 * audit never reads them, and a node that lost them fetches them again from other entitled
 * holders.
 *
 * Layout (big-endian):
 *   0x01 ‖ commitment (32)  → flags u8 (bit 0: purged) ‖ seq u64 ‖ storedAt u64 ‖ salt (32) ‖ event JCS (UTF-8)
 *   0x02 ‖ seq u64          → commitment (32)
 *   0x03 "seq"              → the last seq given, u64
 *   0x04 ‖ SHA-256(eventId) → commitment (32): the CBV 2.0 event ID of a body, when known
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import type { NewBody, PrivateBodyStore, StoredBody } from '../chain/private-store.js';
import { StorageCorruptionError, StorageOpenError, StorageWriteError, levelErrorCode } from './errors.js';

type Db = ClassicLevel<Uint8Array, Uint8Array>;
const BODY = 0x01;
const LOG = 0x02;
const META = 0x03;
const BY_EVENT = 0x04;
const FIXED = 1 + 8 + 8 + 32;
const SEQ_KEY = Uint8Array.of(META, 0x73, 0x65, 0x71);
const HEX64 = /^[0-9a-f]{64}$/;

function bodyKey(commitment: string): Uint8Array {
  if (!HEX64.test(commitment)) throw new TypeError(`not a commitment: ${commitment.slice(0, 80)}`);
  const k = new Uint8Array(33);
  k[0] = BODY;
  k.set(Buffer.from(commitment, 'hex'), 1);
  return k;
}

function eventKey(eventId: string): Uint8Array {
  const k = new Uint8Array(33);
  k[0] = BY_EVENT;
  k.set(createHash('sha256').update(eventId, 'utf8').digest(), 1);
  return k;
}

function logKey(seq: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = LOG;
  new DataView(k.buffer).setBigUint64(1, BigInt(seq), false);
  return k;
}

function encodeBody(b: Omit<StoredBody, 'commitment'>): Uint8Array {
  const text = Buffer.from(b.eventText, 'utf8');
  const out = new Uint8Array(FIXED + text.length);
  const dv = new DataView(out.buffer);
  out[0] = b.purged ? 1 : 0;
  dv.setBigUint64(1, BigInt(b.seq), false);
  dv.setBigUint64(9, BigInt(b.storedAt), false);
  if (!b.purged) out.set(Buffer.from(b.salt, 'hex'), 17);
  out.set(text, FIXED);
  return out;
}

function decodeBody(commitment: string, v: Uint8Array): StoredBody {
  if (v.length < FIXED || ((v[0] as number) & ~1) !== 0) throw new StorageCorruptionError('privateBodies', commitment, `a stored body of ${v.length} bytes is not one`);
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const purged = v[0] === 1;
  return {
    commitment,
    seq: Number(dv.getBigUint64(1, false)),
    storedAt: Number(dv.getBigUint64(9, false)),
    purged,
    salt: purged ? '' : Buffer.from(v.subarray(17, FIXED)).toString('hex'),
    eventText: Buffer.from(v.subarray(FIXED)).toString('utf8'),
  };
}

/** Most puts written in one batch. */
const MAX_GROUP = 256;

interface WaitingPut {
  bodies: readonly NewBody[];
  now: number;
  resolve: (added: number) => void;
  reject: (err: unknown) => void;
}

export class LevelPrivateBodyStore implements PrivateBodyStore {
  private lastSeq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly waiting: WaitingPut[] = [];
  private flushing = false;
  /** Whether any body is indexed by event ID. */
  private indexed = false;

  private constructor(private readonly db: Db) {}

  static async open(dir: string): Promise<LevelPrivateBodyStore> {
    await mkdir(dir, { recursive: true });
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (err) {
      if (levelErrorCode(err) === 'LEVEL_LOCKED') throw new StorageOpenError('LOCKED', dir, `private body store ${dir} is locked by another process`, { cause: err });
      throw new StorageOpenError('OPEN_FAILED', dir, `cannot open private body store ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const store = new LevelPrivateBodyStore(db);
    const seq = await db.get(SEQ_KEY);
    if (seq !== undefined) store.lastSeq = Number(new DataView(seq.buffer, seq.byteOffset, 8).getBigUint64(0, false));
    for await (const _ of db.keys({ gt: Uint8Array.of(BY_EVENT), lt: Uint8Array.of(BY_EVENT + 1), limit: 1 })) store.indexed = true;
    return store;
  }

  /** Writes (a group of puts, a purge) one after another: seq numbers are handed out in order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Group commit: a put waits for the write in flight, then every put that waited is written in
   * one synced batch (captures arriving together share one fsync, as the tx log's records do).
   * The waiting puts are those of requests in flight, each answered once its batch is on disk.
   */
  put(bodies: readonly NewBody[], now: number): Promise<number> {
    for (const b of bodies) {
      if (!HEX64.test(b.commitment)) return Promise.reject(new TypeError(`not a commitment: ${String(b.commitment).slice(0, 80)}`));
      if (!HEX64.test(b.salt)) return Promise.reject(new TypeError('a salt is 32 bytes of lowercase hex'));
    }
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ bodies, now, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MAX_GROUP);
        try {
          const counts = await this.serial(() => this.write(group));
          group.forEach((g, i) => g.resolve(counts[i] as number));
        } catch (err) {
          for (const g of group) g.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One synced batch for a group of puts; how many bodies each put added. */
  private async write(group: readonly WaitingPut[]): Promise<number[]> {
    const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    let seq = this.lastSeq;
    const fresh = new Set<string>();
    const all = group.flatMap((g) => g.bodies);
    const held = await this.db.getMany(all.map((b) => bodyKey(b.commitment)));
    const heldSet = new Set(all.filter((_, i) => held[i] !== undefined).map((b) => b.commitment));
    const counts = group.map((g) => {
      let n = 0;
      for (const b of g.bodies) {
        if (heldSet.has(b.commitment) || fresh.has(b.commitment)) continue;
        fresh.add(b.commitment);
        seq++;
        n++;
        ops.push({ type: 'put', key: bodyKey(b.commitment), value: encodeBody({ seq, storedAt: g.now, purged: false, salt: b.salt, eventText: b.eventText }) });
        ops.push({ type: 'put', key: logKey(seq), value: Buffer.from(b.commitment, 'hex') });
        if (b.eventId !== undefined) ops.push({ type: 'put', key: eventKey(b.eventId), value: Buffer.from(b.commitment, 'hex') });
      }
      return n;
    });
    if (ops.length === 0) return counts;
    const seqValue = new Uint8Array(8);
    new DataView(seqValue.buffer).setBigUint64(0, BigInt(seq), false);
    try {
      await this.db.batch([...ops, { type: 'put', key: SEQ_KEY, value: seqValue }], { sync: true });
    } catch (err) {
      throw new StorageWriteError('private bodies put', err);
    }
    this.lastSeq = seq;
    if (all.some((b) => b.eventId !== undefined)) this.indexed = true;
    return counts;
  }

  async get(commitment: string): Promise<StoredBody | undefined> {
    const v = await this.db.get(bodyKey(commitment));
    return v === undefined ? undefined : decodeBody(commitment, v);
  }

  async commitmentsOfEvents(eventIds: readonly string[]): Promise<(string | undefined)[]> {
    // A node that never kept a body answers without a read (a public capture asks this too).
    if (!this.indexed) return eventIds.map(() => undefined);
    const got = await this.db.getMany(eventIds.map(eventKey));
    return got.map((v) => (v === undefined ? undefined : Buffer.from(v).toString('hex')));
  }

  async has(commitment: string): Promise<boolean> {
    return (await this.db.get(bodyKey(commitment))) !== undefined;
  }

  async after(seq: number, limit: number): Promise<StoredBody[]> {
    const out: StoredBody[] = [];
    for await (const [, c] of this.db.iterator({ gt: logKey(seq), lt: Uint8Array.of(LOG + 1), limit })) {
      const commitment = Buffer.from(c).toString('hex');
      const b = await this.get(commitment);
      if (b === undefined) throw new StorageCorruptionError('privateBodies', commitment, 'the arrival log names a body the store does not hold');
      out.push(b);
    }
    return out;
  }

  purge(before: number): Promise<number> {
    return this.serial(async () => {
      let n = 0;
      const ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
      for await (const [k, v] of this.db.iterator({ gt: Uint8Array.of(BODY), lt: Uint8Array.of(BODY + 1) })) {
        const b = decodeBody(Buffer.from(k.subarray(1)).toString('hex'), v);
        if (b.purged || b.storedAt >= before) continue;
        ops.push({ type: 'put', key: Uint8Array.from(k), value: encodeBody({ ...b, purged: true, salt: '', eventText: '' }) });
        n++;
      }
      if (ops.length > 0) {
        try {
          await this.db.batch(ops, { sync: true });
        } catch (err) {
          throw new StorageWriteError('private bodies purge', err);
        }
      }
      return n;
    });
  }

  async count(): Promise<number> {
    let n = 0;
    for await (const _ of this.db.keys({ gt: Uint8Array.of(BODY), lt: Uint8Array.of(BODY + 1) })) n++;
    return n;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
