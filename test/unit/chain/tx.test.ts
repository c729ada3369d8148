/** The signed tx form has one owner (src/chain/tx.ts): building, signing, and reading the ID back from canonical text. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPair, keyIdHex } from '../../../src/chain/keys.js';
import {
  canonicalTx,
  decodeCanonicalTx,
  encodeTx,
  jcs,
  signCanonicalTx,
  signTx,
  txId,
  txIdOfCanonicalBytes,
  txIdOfCanonicalText,
  verifyTxSignature,
} from '../../../src/chain/tx.js';
import { TxError } from '../../../src/common/errors.js';
import { toHex } from '../../../src/common/bytes.js';
import type { SignedTx, TxBody } from '../../../src/chain/types.js';

const key = generateKeyPair();
const limits = { maxTxBytes: 1 << 20, maxEventsPerTx: 10_000 };

function body(events: Record<string, unknown>[], time = 1_700_000_000_000): TxBody {
  return {
    v: 1,
    chain: 'ab'.repeat(32),
    kind: 'epcis',
    submitter: keyIdHex(key.publicKey),
    time,
    events,
    eventIds: events.map((_, i) => `ni:///sha-256;${String(i).padStart(64, '0')}?ver=CBV2.0`),
  };
}

/** Events that try to look like the signed tail, and text JCS escapes or reorders. */
const tricky: Record<string, unknown>[] = [
  { type: 'ObjectEvent', note: '"sig":"' + '0'.repeat(128) + '","submitter":"' + '1'.repeat(40) + '","time":1,"v":1}' },
  { kind: 'epcis', sig: 'f'.repeat(128), submitter: 'e'.repeat(40), time: 5, v: 1 },
  { 'ünïcödé': '日本語 ✓', n: 1.5e-7, '10': 'digit key', '"': '\\' },
];

const eventish = fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant('"sig":"')), {
  maxKeys: 5,
});

describe('signCanonicalTx', () => {
  it('gives the text signTx + encodeTx give (sig where RFC 8785 puts it), its ID, and a signature that verifies (property)', () => {
    fc.assert(
      fc.property(fc.array(eventish, { minLength: 1, maxLength: 4 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (events, time) => {
        const b = body(events, time);
        const out = signCanonicalTx(b, key.secretKey);
        const reference = signTx(b, key.secretKey);
        expect(out.text).toBe(new TextDecoder().decode(encodeTx(reference)));
        expect(out.text).toBe(jcs({ ...b, sig: reference.sig }));
        expect(toHex(out.id)).toBe(toHex(txId(b)));
        const parsed = JSON.parse(out.text) as SignedTx;
        expect(verifyTxSignature(parsed, key.publicKey)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('canonicalTx gives the same bytes and ID for the tx object, and decodeCanonicalTx takes them back in one pass', () => {
    const out = signCanonicalTx(body(tricky), key.secretKey);
    const tx = JSON.parse(out.text) as SignedTx;
    const c = canonicalTx(tx);
    expect(new TextDecoder().decode(c.bytes)).toBe(out.text);
    expect(toHex(c.id)).toBe(toHex(out.id));
    const d = decodeCanonicalTx(c.bytes, limits);
    expect(toHex(d.id)).toBe(toHex(out.id));
    expect(d.tx).toEqual(tx);
  });

  it('refuses a body whose tail is not the fixed shape (MALFORMED), never splicing into event data', () => {
    // A string time is quoted by JCS but not by the fixed tail: the tail is not found, nothing is spliced.
    const b = { ...body([{ a: 1 }]), time: '5' as unknown as number };
    expect(() => signCanonicalTx(b, key.secretKey)).toThrow(TxError);
    expect(() => canonicalTx({ ...signTx(body([{ a: 1 }]), key.secretKey), time: '5' as unknown as number })).toThrow(/MALFORMED/);
  });
});

describe('txIdOfCanonicalBytes / txIdOfCanonicalText (the ID without parsing)', () => {
  it('equals the tx ID for txs whose events try to look like the tail', () => {
    for (const t of [signTx(body(tricky), key.secretKey), signTx(body([{ a: 1 }], 0), key.secretKey), signTx(body([{ b: [] }], Number.MAX_SAFE_INTEGER), key.secretKey)]) {
      const bytes = encodeTx(t);
      expect(toHex(txIdOfCanonicalBytes(bytes) as Uint8Array)).toBe(toHex(txId(t)));
      expect(toHex(txIdOfCanonicalText(new TextDecoder().decode(bytes)) as Uint8Array)).toBe(toHex(txId(t)));
    }
  });

  it('reads a tx that is a view into a larger buffer', () => {
    const bytes = encodeTx(signTx(body(tricky), key.secretKey));
    const big = new Uint8Array(bytes.length + 20);
    big.set(bytes, 7);
    expect(toHex(txIdOfCanonicalBytes(big.subarray(7, 7 + bytes.length)) as Uint8Array)).toBe(toHex(txIdOfCanonicalBytes(bytes) as Uint8Array));
  });

  it('is undefined when the tail is not canonical: no sig, a short sig, no comma before it, v other than 1', () => {
    const good = new TextDecoder().decode(encodeTx(signTx(body([{ a: 1 }]), key.secretKey)));
    const bad = [
      JSON.stringify({ sig: 'x', v: 1 }),
      good.replace(/"sig":"([0-9a-f]{128})"/, (_m, s: string) => `"sig":"${s.slice(2)}"`),
      good.replace(/,"sig":/, '"sig":'),
      good.replace(/"v":1\}$/, '"v":2}'),
    ];
    for (const text of bad) {
      expect(txIdOfCanonicalBytes(new TextEncoder().encode(text))).toBeUndefined();
      expect(txIdOfCanonicalText(text)).toBeUndefined();
    }
  });
});
