/**
 * The 112-byte block header (DESIGN.md, Formats). Little-endian integers; the nonce sits in
 * the second 64-byte chunk so miners can hash the first chunk once (midstate).
 */
import { BlockError } from '../common/errors.js';
import { sha256d } from './sha256.js';
import { toHex } from '../common/bytes.js';

export const HEADER_SIZE = 112;
export const HEADER_VERSION = 1;
export const SEALER_ID_SIZE = 20;

export const OFFSET = {
  version: 0,
  height: 4,
  prevHash: 8,
  merkleRoot: 40,
  sealer: 72,
  time: 92,
  bits: 100,
  nonce: 104,
} as const;

export interface Header {
  version: number;
  height: number;
  prevHash: Uint8Array; // 32 bytes
  merkleRoot: Uint8Array; // 32 bytes
  sealer: Uint8Array; // 20 bytes: member key ID
  time: number; // ms since the Unix epoch (safe integer)
  bits: number; // compact target (u32)
  nonce: bigint; // u64
}

const U64_MAX = (1n << 64n) - 1n;

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new BlockError('MALFORMED', `${name} is not a u32`);
}

export function encodeHeader(h: Header): Uint8Array {
  checkU32('version', h.version);
  checkU32('height', h.height);
  checkU32('bits', h.bits);
  if (!Number.isSafeInteger(h.time) || h.time < 0) throw new BlockError('MALFORMED', 'time is not a non-negative safe integer');
  if (typeof h.nonce !== 'bigint' || h.nonce < 0n || h.nonce > U64_MAX) throw new BlockError('MALFORMED', 'nonce is not a u64');
  if (h.prevHash.length !== 32 || h.merkleRoot.length !== 32 || h.sealer.length !== SEALER_ID_SIZE) {
    throw new BlockError('MALFORMED', 'header field of wrong length');
  }
  const out = new Uint8Array(HEADER_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(OFFSET.version, h.version, true);
  dv.setUint32(OFFSET.height, h.height, true);
  out.set(h.prevHash, OFFSET.prevHash);
  out.set(h.merkleRoot, OFFSET.merkleRoot);
  out.set(h.sealer, OFFSET.sealer);
  dv.setBigUint64(OFFSET.time, BigInt(h.time), true);
  dv.setUint32(OFFSET.bits, h.bits, true);
  dv.setBigUint64(OFFSET.nonce, h.nonce, true);
  return out;
}

export function decodeHeader(bytes: Uint8Array): Header {
  if (!(bytes instanceof Uint8Array) || bytes.length !== HEADER_SIZE) {
    throw new BlockError('MALFORMED', `header must be ${HEADER_SIZE} bytes`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const time = dv.getBigUint64(OFFSET.time, true);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw new BlockError('MALFORMED', 'time out of range');
  return {
    version: dv.getUint32(OFFSET.version, true),
    height: dv.getUint32(OFFSET.height, true),
    prevHash: bytes.slice(OFFSET.prevHash, OFFSET.prevHash + 32),
    merkleRoot: bytes.slice(OFFSET.merkleRoot, OFFSET.merkleRoot + 32),
    sealer: bytes.slice(OFFSET.sealer, OFFSET.sealer + SEALER_ID_SIZE),
    time: Number(time),
    bits: dv.getUint32(OFFSET.bits, true),
    nonce: dv.getBigUint64(OFFSET.nonce, true),
  };
}

/** Block hash = SHA-256d(header bytes). */
export function hashHeaderBytes(bytes: Uint8Array): Uint8Array {
  return sha256d(bytes);
}

export function headerHashHex(bytes: Uint8Array): string {
  return toHex(sha256d(bytes));
}

/** Write a nonce into encoded header bytes in place. */
export function setNonce(bytes: Uint8Array, nonce: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigUint64(OFFSET.nonce, nonce, true);
}
