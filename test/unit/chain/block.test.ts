/** The block byte layout (src/chain/block.ts): encode, txSpans (the txs' places without decoding them), strict decode. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBlock, encodeBlock, makeBlock, TX_AREA, txSpans } from '../../../src/chain/block.js';
import { BlockError } from '../../../src/common/errors.js';
import { generateKeyPair, keyId, keyIdHex } from '../../../src/chain/keys.js';
import { signTx } from '../../../src/chain/tx.js';
import { toHex } from '../../../src/common/bytes.js';
import type { Header } from '../../../src/chain/header.js';

const key = generateKeyPair();
const limits = { maxBlockBytes: 1 << 22, maxTxBytes: 1 << 20, maxEventsPerTx: 100 };
const header: Header = { version: 1, height: 3, prevHash: new Uint8Array(32).fill(1), merkleRoot: new Uint8Array(32).fill(2), sealer: keyId(key.publicKey), time: 1_700_000_000_000, bits: 0x207fffff, nonce: 9n };

function blockBytes(eventsPerTx: number[]): { bytes: Uint8Array; txBytes: Uint8Array[] } {
  const txs = eventsPerTx.map((n, t) =>
    signTx(
      {
        v: 1,
        chain: 'ab'.repeat(32),
        kind: 'epcis',
        submitter: keyIdHex(key.publicKey),
        time: t,
        events: Array.from({ length: n }, (_, i) => ({ i, note: 'x'.repeat(t * 3) })),
        eventIds: Array.from({ length: n }, (_, i) => `ni:///sha-256;${String(t * 1000 + i).padStart(64, '0')}?ver=CBV2.0`),
      },
      key.secretKey,
    ),
  );
  const block = makeBlock(header, new Uint8Array(64).fill(3), txs);
  return { bytes: encodeBlock(block), txBytes: block.txBytes };
}

function malformed(f: () => unknown, message: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BlockError);
  expect((err as BlockError).code).toBe('MALFORMED');
  expect((err as Error).message).toMatch(message);
}

describe('txSpans', () => {
  it("finds each tx's canonical bytes in the encoded block, in order (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 6 }), (counts) => {
        const { bytes, txBytes } = blockBytes(counts);
        const spans = txSpans(bytes);
        expect(spans.length).toBe(2 * counts.length);
        txBytes.forEach((t, i) => {
          const start = spans[2 * i] as number;
          expect(toHex(bytes.subarray(start, start + (spans[2 * i + 1] as number)))).toBe(toHex(t));
        });
        expect(decodeBlock(bytes, limits).txBytes.map((t) => toHex(t))).toEqual(txBytes.map((t) => toHex(t)));
      }),
      { numRuns: 30 },
    );
  });

  it('refuses bytes without the block layout with BlockError MALFORMED, as decodeBlock does', () => {
    const { bytes } = blockBytes([1, 2]);
    const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const short = bytes.slice(0, TX_AREA + 3);
    const lie = bytes.slice();
    dv(lie).setUint32(TX_AREA, 1_000_000, true);
    const past = bytes.slice();
    dv(past).setUint32(TX_AREA + 4, bytes.length, true);
    const truncated = bytes.slice();
    dv(truncated).setUint32(TX_AREA, 3, true); // a third tx the bytes do not hold
    const trailing = new Uint8Array([...bytes, 0]);
    for (const [bad, message] of [
      [short, /shorter than/],
      [lie, /exceeds what the bytes can hold/],
      [past, /runs past the end/],
      [truncated, /truncated before tx 2/],
      [trailing, /1 trailing bytes/],
    ] as const) {
      malformed(() => txSpans(bad), message);
      malformed(() => decodeBlock(bad, limits), message);
    }
  });

  it('an empty block has no spans', () => {
    expect(txSpans(blockBytes([]).bytes).length).toBe(0);
  });
});
