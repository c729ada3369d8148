/**
 * The compact stored forms (src/storage/compact.ts): round trips, fuzz (fast-check), and damage —
 * a flipped byte either fails to expand (a DecodeError) or expands to other bytes, which the
 * readers' hashes catch (see test/unit/chain/audit.test.ts for audit naming it).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError } from '../../../src/storage/codecs.js';
import {
  COMPACT_BLOCK_SIZE,
  assembleBlock,
  compactBlockRecord,
  compress,
  compressSync,
  expand,
  INLINE_COMPRESS_BYTES,
  isCompressed,
  parseBlockRecord,
  storedBlockHeight,
} from '../../../src/storage/compact.js';
import { encodeBlock, makeBlock } from '../../../src/chain/block.js';
import { jcs } from '../../../src/chain/tx.js';

const enc = new TextEncoder();
const jsonObject = fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 20 }).map((o) => enc.encode(jcs(o)));

describe('compact tx and undo values', () => {
  it('a value on either side of the inline limit compresses to the same bytes on the calling thread and on the thread pool', async () => {
    for (const events of [10, 400]) {
      const bytes = enc.encode(JSON.stringify({ events: Array.from({ length: events }, (_, i) => ({ epc: `urn:epc:id:sgtin:0614141.107346.${i}`, action: 'OBSERVE' })) }));
      expect(bytes.length > INLINE_COMPRESS_BYTES).toBe(events === 400);
      const pooled = await compress(bytes);
      expect(pooled).toEqual(compressSync(bytes));
      expect(expand(pooled, 'tx')).toEqual(bytes);
    }
  });

  it('round trip: compressed (sync and on the thread pool) and plain JSON both expand to the same bytes', async () => {
    const bytes = enc.encode(JSON.stringify({ events: Array.from({ length: 50 }, (_, i) => ({ epc: `urn:epc:id:sgtin:0614141.107346.${i}`, action: 'OBSERVE' })) }));
    const a = compressSync(bytes);
    const b = await compress(bytes);
    expect(isCompressed(a)).toBe(true);
    expect(a.length).toBeLessThan(bytes.length / 4);
    expect(expand(a, 'tx')).toEqual(bytes);
    expect(expand(b, 'tx')).toEqual(bytes);
    expect(isCompressed(bytes)).toBe(false);
    expect(expand(bytes, 'tx')).toBe(bytes); // the plain form is read as it is
  });

  it('fuzz: any JSON object round-trips through the compressed form', () => {
    fc.assert(
      fc.property(jsonObject, (bytes) => {
        expect(Buffer.from(expand(compressSync(bytes), 'tx')).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fuzz: arbitrary stored bytes either expand to a JSON object or throw DecodeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (raw, tag) => {
        const stored = tag ? Uint8Array.of(0x01, ...raw) : raw;
        try {
          const out = expand(stored, 'tx');
          expect(out[0]).toBe(0x7b);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('every flipped bit of a compressed value is refused by its checksum (brotli alone ignores some)', () => {
    const bytes = enc.encode(JSON.stringify({ a: 'x'.repeat(300), b: Array.from({ length: 40 }, (_, i) => i * 7) }));
    const stored = compressSync(bytes);
    for (let i = 0; i < stored.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = stored.slice();
        bad[i] = (bad[i] as number) ^ bit;
        expect(() => expand(bad, 'tx')).toThrow(i < 5 ? /checksum|neither JSON/ : /fails its checksum/);
      }
    }
  });

  it('an empty value, or one that starts with neither { nor the tag, is damage', () => {
    expect(() => expand(new Uint8Array(0), 'tx bytes')).toThrow(/tx bytes is empty/);
    expect(() => expand(Uint8Array.of(0x02, 1, 2), 'tx bytes')).toThrow(/neither JSON nor a compressed record/);
  });
});

describe('compact block records', () => {
  const header = new Uint8Array(112).map((_, i) => i);
  header.set([1, 0, 0, 0], 0); // version 1, as every real header
  header.set([7, 1, 0, 0], 4); // height 263
  const signature = new Uint8Array(64).fill(9);

  it('round trip: head and tx count back; assembled with the txs it is the block encoding', () => {
    const rec = compactBlockRecord(header, signature, 3);
    expect(rec.length).toBe(COMPACT_BLOCK_SIZE);
    const parsed = parseBlockRecord(rec);
    expect(parsed.kind).toBe('compact');
    if (parsed.kind !== 'compact') return;
    expect(parsed.txCount).toBe(3);
    expect(storedBlockHeight(rec)).toBe(263);
    const txs = [enc.encode('{"a":1}'), enc.encode('{"b":2}'), enc.encode('{}')];
    const assembled = assembleBlock(parsed.head, txs);
    // The same bytes chain/block.ts encodes for that header, signature and txs.
    const block = { ...makeBlock({ version: 1, height: 263, prevHash: new Uint8Array(32), merkleRoot: new Uint8Array(32), sealer: new Uint8Array(20), time: 0, bits: 0, nonce: 0n }, signature, []), headerBytes: header, txBytes: txs };
    expect(Buffer.from(assembled).equals(Buffer.from(encodeBlock(block)))).toBe(true);
  });

  it('a plain block (an older build’s) is told apart by its first byte and read as it is', () => {
    const plain = new Uint8Array(180);
    plain.set(header, 0);
    const parsed = parseBlockRecord(plain);
    expect(parsed).toEqual({ kind: 'plain', bytes: plain });
    expect(storedBlockHeight(plain)).toBe(263);
  });

  it('a damaged record is a DecodeError: wrong magic after 0xff, wrong length, empty', () => {
    const rec = compactBlockRecord(header, signature, 1);
    const badMagic = rec.slice();
    badMagic[2] = 0;
    expect(() => parseBlockRecord(badMagic)).toThrow(DecodeError);
    expect(() => parseBlockRecord(rec.subarray(0, rec.length - 1))).toThrow(/must be 184 bytes/);
    expect(() => parseBlockRecord(new Uint8Array(0))).toThrow(DecodeError);
  });

  it('fuzz: any bytes parse as a plain or compact record or throw DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        try {
          const r = parseBlockRecord(raw);
          expect(['plain', 'compact']).toContain(r.kind);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
