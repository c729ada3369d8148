/**
 * The sync protocol's messages (`/tracechain/<chainId>/sync/1`). One request per stream: the
 * requester writes one frame and closes its side; the responder writes reply frames and
 * closes. Binary, fixed layouts, every count bounded before anything is allocated.
 *
 * Requests (first byte = type):
 *   0x01 STATUS
 *   0x02 HEADERS  u8 n ≤ 64 ‖ n × 32-byte locator hash ‖ 32-byte stop hash (zeros: none) ‖ u16 max ≤ 2000
 *   0x03 BLOCKS   u16 n ≤ 128 ‖ n × 32-byte block hash
 * Replies:
 *   0x81 STATUS   u32 height ‖ 32-byte tip hash ‖ 32-byte chainwork (big-endian)
 *   0x82 HEADERS  u16 n ≤ 2000 ‖ n × 112-byte header
 *   0x83 BLOCK    block bytes (one frame per block, in request order)
 *   0x84 NOT_FOUND 32-byte hash
 *   0x8f ERROR    UTF-8 reason (≤ 256 bytes)
 */
import { bigIntToBytesBE, bytesToBigIntBE, fromHex, fromUtf8, toHex, utf8 } from '../common/bytes.js';
import { HEADER_SIZE } from '../chain/header.js';

export const SYNC_LIMITS = {
  maxLocator: 64,
  maxHeadersPerReply: 2_000,
  maxBlocksPerRequest: 128,
  /** A responder stops adding blocks to a reply once it carries this much (it always sends one). */
  replyByteBudget: 8 * 1024 * 1024,
  maxRequestBytes: 8 * 1024,
  maxErrorBytes: 256,
} as const;

const HASH = 32;
const ZERO_HASH = '0'.repeat(64);

export type SyncRequest =
  | { type: 'status' }
  | { type: 'headers'; locator: string[]; stop: string | null; max: number }
  | { type: 'blocks'; hashes: string[] };

export type SyncReply =
  | { type: 'status'; height: number; tip: string; chainwork: bigint }
  | { type: 'headers'; headers: Uint8Array[] }
  | { type: 'block'; bytes: Uint8Array }
  | { type: 'notFound'; hash: string }
  | { type: 'error'; message: string };

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code = 'BAD_MESSAGE';
}

const REQ = { status: 0x01, headers: 0x02, blocks: 0x03 } as const;
const REP = { status: 0x81, headers: 0x82, block: 0x83, notFound: 0x84, error: 0x8f } as const;

function bad(msg: string): never {
  throw new ProtocolError(msg);
}

class Writer {
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private o = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
  u8(v: number): this {
    this.dv.setUint8(this.o, v);
    this.o += 1;
    return this;
  }
  u16(v: number): this {
    this.dv.setUint16(this.o, v, false);
    this.o += 2;
    return this;
  }
  u32(v: number): this {
    this.dv.setUint32(this.o, v, false);
    this.o += 4;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.o);
    this.o += b.length;
    return this;
  }
  hash(hex: string): this {
    return this.bytes(fromHex(hex, HASH));
  }
  done(): Uint8Array {
    if (this.o !== this.buf.length) throw new Error(`encoder wrote ${this.o} of ${this.buf.length} bytes`);
    return this.buf;
  }
}

class Reader {
  private readonly dv: DataView;
  private o = 0;
  constructor(private readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.o + n > this.buf.length) bad(`message truncated at byte ${this.o}`);
  }
  u8(): number {
    this.need(1);
    return this.dv.getUint8(this.o++);
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.o, false);
    this.o += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.o, false);
    this.o += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.o, this.o + n);
    this.o += n;
    return b;
  }
  hash(): string {
    return toHex(this.bytes(HASH));
  }
  rest(): Uint8Array {
    const b = this.buf.subarray(this.o);
    this.o = this.buf.length;
    return b;
  }
  end(): void {
    if (this.o !== this.buf.length) bad(`${this.buf.length - this.o} trailing bytes`);
  }
}

function checkHashes(hashes: readonly string[]): void {
  for (const h of hashes) if (!/^[0-9a-f]{64}$/.test(h)) throw new RangeError(`not a block hash: ${h}`);
}

export function encodeRequest(req: SyncRequest): Uint8Array {
  switch (req.type) {
    case 'status':
      return new Writer(1).u8(REQ.status).done();
    case 'headers': {
      if (req.locator.length === 0 || req.locator.length > SYNC_LIMITS.maxLocator) throw new RangeError(`locator must hold 1 to ${SYNC_LIMITS.maxLocator} hashes`);
      if (!Number.isInteger(req.max) || req.max < 1 || req.max > SYNC_LIMITS.maxHeadersPerReply) throw new RangeError('max headers out of range');
      checkHashes(req.locator);
      const w = new Writer(1 + 1 + req.locator.length * HASH + HASH + 2).u8(REQ.headers).u8(req.locator.length);
      for (const h of req.locator) w.hash(h);
      return w.hash(req.stop ?? ZERO_HASH).u16(req.max).done();
    }
    case 'blocks': {
      if (req.hashes.length === 0 || req.hashes.length > SYNC_LIMITS.maxBlocksPerRequest) throw new RangeError(`ask for 1 to ${SYNC_LIMITS.maxBlocksPerRequest} blocks`);
      checkHashes(req.hashes);
      const w = new Writer(1 + 2 + req.hashes.length * HASH).u8(REQ.blocks).u16(req.hashes.length);
      for (const h of req.hashes) w.hash(h);
      return w.done();
    }
  }
}

export function decodeRequest(bytes: Uint8Array): SyncRequest {
  if (bytes.length > SYNC_LIMITS.maxRequestBytes) bad(`request of ${bytes.length} bytes, limit ${SYNC_LIMITS.maxRequestBytes}`);
  const r = new Reader(bytes);
  const type = r.u8();
  let req: SyncRequest;
  if (type === REQ.status) {
    req = { type: 'status' };
  } else if (type === REQ.headers) {
    const n = r.u8();
    if (n === 0 || n > SYNC_LIMITS.maxLocator) bad(`locator of ${n} hashes, limit ${SYNC_LIMITS.maxLocator}`);
    const locator: string[] = [];
    for (let i = 0; i < n; i++) locator.push(r.hash());
    const stop = r.hash();
    const max = r.u16();
    if (max === 0 || max > SYNC_LIMITS.maxHeadersPerReply) bad(`max headers ${max} out of range`);
    req = { type: 'headers', locator, stop: stop === ZERO_HASH ? null : stop, max };
  } else if (type === REQ.blocks) {
    const n = r.u16();
    if (n === 0 || n > SYNC_LIMITS.maxBlocksPerRequest) bad(`${n} blocks asked, limit ${SYNC_LIMITS.maxBlocksPerRequest}`);
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) hashes.push(r.hash());
    req = { type: 'blocks', hashes };
  } else {
    bad(`unknown request type 0x${type.toString(16)}`);
  }
  r.end();
  return req;
}

export function encodeReply(rep: SyncReply): Uint8Array {
  switch (rep.type) {
    case 'status':
      return new Writer(1 + 4 + HASH + 32).u8(REP.status).u32(rep.height).hash(rep.tip).bytes(bigIntToBytesBE(rep.chainwork, 32)).done();
    case 'headers': {
      if (rep.headers.length > SYNC_LIMITS.maxHeadersPerReply) throw new RangeError('too many headers for one reply');
      const w = new Writer(1 + 2 + rep.headers.length * HEADER_SIZE).u8(REP.headers).u16(rep.headers.length);
      for (const h of rep.headers) {
        if (h.length !== HEADER_SIZE) throw new RangeError('header must be 112 bytes');
        w.bytes(h);
      }
      return w.done();
    }
    case 'block':
      return new Writer(1 + rep.bytes.length).u8(REP.block).bytes(rep.bytes).done();
    case 'notFound':
      return new Writer(1 + HASH).u8(REP.notFound).hash(rep.hash).done();
    case 'error': {
      const msg = utf8.encode(rep.message).subarray(0, SYNC_LIMITS.maxErrorBytes);
      return new Writer(1 + msg.length).u8(REP.error).bytes(msg).done();
    }
  }
}

export function decodeReply(bytes: Uint8Array): SyncReply {
  const r = new Reader(bytes);
  const type = r.u8();
  let rep: SyncReply;
  if (type === REP.status) {
    const height = r.u32();
    const tip = r.hash();
    const chainwork = bytesToBigIntBE(r.bytes(32));
    rep = { type: 'status', height, tip, chainwork };
  } else if (type === REP.headers) {
    const n = r.u16();
    if (n > SYNC_LIMITS.maxHeadersPerReply) bad(`${n} headers in one reply, limit ${SYNC_LIMITS.maxHeadersPerReply}`);
    const headers: Uint8Array[] = [];
    for (let i = 0; i < n; i++) headers.push(r.bytes(HEADER_SIZE));
    rep = { type: 'headers', headers };
  } else if (type === REP.block) {
    rep = { type: 'block', bytes: r.rest() };
  } else if (type === REP.notFound) {
    rep = { type: 'notFound', hash: r.hash() };
  } else if (type === REP.error) {
    const raw = r.rest();
    if (raw.length > SYNC_LIMITS.maxErrorBytes) bad('error reason too long');
    let message: string;
    try {
      message = fromUtf8.decode(raw);
    } catch {
      bad('error reason is not UTF-8');
    }
    rep = { type: 'error', message };
  } else {
    bad(`unknown reply type 0x${type.toString(16)}`);
  }
  r.end();
  return rep;
}

/** Frame limits for reading a request (responder side). */
export const REQUEST_FRAME_LIMITS = { maxFrameBytes: SYNC_LIMITS.maxRequestBytes, maxTotalBytes: SYNC_LIMITS.maxRequestBytes + 4 };

/** Frame limits for reading a reply (requester side), given the chain's block size limit. */
export function replyFrameLimits(maxBlockBytes: number): { maxFrameBytes: number; maxTotalBytes: number } {
  const maxFrameBytes = Math.max(1 + maxBlockBytes, 1 + 2 + SYNC_LIMITS.maxHeadersPerReply * HEADER_SIZE);
  // The byte budget plus the one block that may cross it, plus per-frame overhead.
  const maxTotalBytes = SYNC_LIMITS.replyByteBudget + maxFrameBytes + SYNC_LIMITS.maxBlocksPerRequest * (4 + 1 + HASH) + 4;
  return { maxFrameBytes, maxTotalBytes };
}
