import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeHeader, encodeHeader, HEADER_SIZE, type Header } from '../../../src/chain/header.js';
import { BlockError, TxError } from '../../../src/common/errors.js';
import { generateKeyPair, keyIdHex, keyPairFromSecret, sign, verify } from '../../../src/chain/keys.js';
import { decodeTx, encodeTx, signTx, txId, verifyTxSignature, txSigningMessage } from '../../../src/chain/tx.js';
import { fromHex, toHex, utf8 } from '../../../src/common/bytes.js';
import { Mempool } from '../../../src/chain/mempool.js';
import type { SignedTx } from '../../../src/chain/types.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const header = fc.record({
  version: fc.integer({ min: 0, max: 0xffffffff }),
  height: fc.integer({ min: 0, max: 0xffffffff }),
  prevHash: bytes(32),
  merkleRoot: bytes(32),
  sealer: bytes(20),
  time: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  bits: fc.integer({ min: 0, max: 0xffffffff }),
  nonce: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
});

describe('header codec', () => {
  it('round-trips every header (property)', () => {
    fc.assert(
      fc.property(header, (h: Header) => {
        const enc = encodeHeader(h);
        expect(enc.length).toBe(HEADER_SIZE);
        expect(decodeHeader(enc)).toEqual(h);
      }),
    );
  });

  it('lays fields out little-endian at the documented offsets', () => {
    const h: Header = { version: 1, height: 0x0a0b0c0d, prevHash: new Uint8Array(32).fill(1), merkleRoot: new Uint8Array(32).fill(2), sealer: new Uint8Array(20).fill(3), time: 0x0102030405, bits: 0x1d00ffff, nonce: 0x1122334455667788n };
    const e = encodeHeader(h);
    expect(toHex(e.subarray(0, 8))).toBe('010000000d0c0b0a');
    expect(e[8]).toBe(1);
    expect(e[40]).toBe(2);
    expect(e[72]).toBe(3);
    expect(toHex(e.subarray(92, 100))).toBe('0504030201000000');
    expect(toHex(e.subarray(100, 104))).toBe('ffff001d');
    expect(toHex(e.subarray(104, 112))).toBe('8877665544332211');
  });

  it('rejects wrong sizes and out-of-range fields with BlockError MALFORMED', () => {
    for (const n of [0, 111, 113]) expect(() => decodeHeader(new Uint8Array(n))).toThrow(BlockError);
    const tooLate = new Uint8Array(HEADER_SIZE).fill(0xff);
    expect(() => decodeHeader(tooLate)).toThrow(/time out of range/);
    const h = decodeHeader(new Uint8Array(HEADER_SIZE));
    expect(() => encodeHeader({ ...h, nonce: -1n })).toThrow(BlockError);
    expect(() => encodeHeader({ ...h, height: 2 ** 32 })).toThrow(BlockError);
    expect(() => encodeHeader({ ...h, sealer: new Uint8Array(19) })).toThrow(BlockError);
  });
});

describe('Ed25519 keys (node:crypto) against @noble/curves', () => {
  it('signatures verify both ways and key IDs are SHA-256 prefixes', () => {
    for (let i = 0; i < 10; i++) {
      const kp = generateKeyPair();
      expect(toHex(ed25519.getPublicKey(kp.secretKey))).toBe(toHex(kp.publicKey));
      const msg = utf8.encode(`message ${i}`);
      const sig = sign(kp.secretKey, msg);
      expect(ed25519.verify(sig, msg, kp.publicKey)).toBe(true);
      expect(verify(kp.publicKey, msg, ed25519.sign(msg, kp.secretKey))).toBe(true);
      expect(verify(kp.publicKey, utf8.encode('other'), sig)).toBe(false);
      expect(keyIdHex(kp.publicKey)).toHaveLength(40);
      expect(toHex(keyPairFromSecret(kp.secretKey).publicKey)).toBe(toHex(kp.publicKey));
    }
  });

  it('malformed keys and signatures verify false, never throw', () => {
    const kp = generateKeyPair();
    const msg = utf8.encode('x');
    expect(verify(new Uint8Array(31), msg, new Uint8Array(64))).toBe(false);
    expect(verify(kp.publicKey, msg, new Uint8Array(63))).toBe(false);
    expect(verify(new Uint8Array(32).fill(0xff), msg, new Uint8Array(64))).toBe(false);
  });
});

describe('transactions', () => {
  const kp = generateKeyPair();
  const body = {
    v: 1 as const,
    chain: '11'.repeat(32),
    kind: 'epcis' as const,
    submitter: keyIdHex(kp.publicKey),
    time: 1_700_000_000_000,
    events: [{ type: 'ObjectEvent', b: 2, a: 1 }],
    eventIds: [`ni:///sha-256;${'ab'.repeat(32)}?ver=CBV2.0`],
  };
  const limits = { maxTxBytes: 4096, maxEventsPerTx: 3 };

  it('tx ID is SHA-256 of the RFC 8785 body, independent of key order; signature over the domain-separated ID', () => {
    const tx = signTx(body, kp.secretKey);
    const reordered = { eventIds: body.eventIds, events: [{ a: 1, b: 2, type: 'ObjectEvent' }], time: body.time, submitter: body.submitter, kind: body.kind, chain: body.chain, v: body.v };
    expect(toHex(txId(reordered))).toBe(toHex(txId(tx)));
    expect(verifyTxSignature(tx, kp.publicKey)).toBe(true);
    expect(ed25519.verify(fromHex(tx.sig), txSigningMessage(txId(tx)), kp.publicKey)).toBe(true);
    expect(verifyTxSignature({ ...tx, time: tx.time + 1 }, kp.publicKey)).toBe(false);
    const enc = encodeTx(tx);
    expect(decodeTx(enc, limits)).toEqual(tx);
    expect(new TextDecoder().decode(enc)).toMatch(/^\{"chain":/); // JCS: keys sorted
  });

  it('decodeTx refuses every malformed input with a TxError code', () => {
    const tx = signTx(body, kp.secretKey);
    const cases: [unknown, string][] = [
      ['not json', 'MALFORMED'],
      [[], 'MALFORMED'],
      [{ ...tx, v: 2 }, 'MALFORMED'],
      [{ ...tx, extra: 1 }, 'MALFORMED'],
      [{ ...tx, chain: 'zz' }, 'MALFORMED'],
      [{ ...tx, submitter: '00' }, 'MALFORMED'],
      [{ ...tx, time: -1 }, 'MALFORMED'],
      [{ ...tx, sig: '00' }, 'MALFORMED'],
      [{ ...tx, events: [], eventIds: [] }, 'NO_EVENTS'],
      [{ ...tx, events: [{}, {}, {}, {}], eventIds: [1, 2, 3, 4] }, 'TOO_MANY_EVENTS'],
      [{ ...tx, eventIds: ['bad'] }, 'MALFORMED'],
      [{ ...tx, events: [{}, {}], eventIds: [tx.eventIds[0], tx.eventIds[0]] }, 'DUPLICATE_EVENT'],
      [{ ...tx, events: [{ pad: 'x'.repeat(5000) }] }, 'OVERSIZE'],
    ];
    for (const [value, code] of cases) {
      const raw = typeof value === 'string' ? utf8.encode(value) : utf8.encode(JSON.stringify(value));
      try {
        decodeTx(raw, limits);
        throw new Error(`accepted ${JSON.stringify(value).slice(0, 80)}`);
      } catch (err) {
        expect(err, JSON.stringify(value).slice(0, 80)).toBeInstanceOf(TxError);
        expect((err as TxError).code).toBe(code);
      }
    }
    expect(() => decodeTx(new Uint8Array([0xff, 0xfe, 0x7b]), limits)).toThrow(TxError);
  });

  it('random bytes and random JSON never crash the decoder (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.json().map((j) => utf8.encode(j))), (raw) => {
        try {
          decodeTx(raw, limits);
        } catch (err) {
          expect(err).toBeInstanceOf(TxError);
        }
      }),
    );
  });
});

describe('mempool', () => {
  const kp = generateKeyPair();
  let n = 0;
  const tx = (eventIds: string[]): SignedTx =>
    signTx({ v: 1, chain: '22'.repeat(32), kind: 'epcis', submitter: keyIdHex(kp.publicKey), time: ++n, events: eventIds.map(() => ({})), eventIds }, kp.secretKey);
  const ev = (i: number) => `ni:///sha-256;${i.toString(16).padStart(64, '0')}?ver=CBV2.0`;

  it('refuses duplicates by tx and by event, leaves the pool unchanged, and stays within its bounds', () => {
    const pool = new Mempool({ maxTxs: 3, maxBytes: 1 << 20 });
    const a = tx([ev(1), ev(2)]);
    pool.add(a, txId(a), new Uint8Array(100), 0);
    expect(() => pool.add(a, txId(a), new Uint8Array(100), 0)).toThrow(expect.objectContaining({ code: 'ALREADY_KNOWN' }));
    const b = tx([ev(3), ev(2)]);
    expect(() => pool.add(b, txId(b), new Uint8Array(100), 0)).toThrow(expect.objectContaining({ code: 'DUPLICATE_EVENT' }));
    expect(pool.size).toBe(1);
    expect(pool.txOfEvent(ev(3))).toBeUndefined();
    for (let i = 10; i < 12; i++) {
      const t = tx([ev(i)]);
      pool.add(t, txId(t), new Uint8Array(100), 0);
    }
    const over = tx([ev(99)]);
    expect(() => pool.add(over, txId(over), new Uint8Array(100), 0)).toThrow(expect.objectContaining({ code: 'MEMPOOL_FULL' }));
    expect(pool.size).toBe(3);
    expect(pool.bytes).toBe(300);
  });

  it('selects in arrival order within a byte budget, and removes what a block includes', () => {
    const pool = new Mempool({ maxTxs: 100, maxBytes: 1 << 20 });
    const txs = [tx([ev(20)]), tx([ev(21)]), tx([ev(22)])];
    const sizes = [100, 200, 100];
    txs.forEach((t, i) => pool.add(t, txId(t), new Uint8Array(sizes[i] as number), i));
    expect(pool.select(10_000).map((e) => e.tx)).toEqual(txs);
    // Each tx costs its size + 4: the 204-byte one does not fit beside the first, the third does.
    expect(pool.select(220).map((e) => e.tx)).toEqual([txs[0], txs[2]]);
    expect(pool.select(220, 1).map((e) => e.tx)).toEqual([txs[0]]);
    const other = tx([ev(22)].map(() => ev(23)));
    pool.add(other, txId(other), new Uint8Array(50), 9);
    // A block with txs[0] and an unrelated tx holding event 22 clears txs[0] and txs[2].
    expect(pool.removeIncluded([toHex(txId(txs[0] as SignedTx))], [ev(22)])).toBe(2);
    expect(pool.select(10_000).map((e) => e.tx)).toEqual([txs[1], other]);
  });
});
