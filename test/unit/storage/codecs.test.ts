import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareBytes, equalBytes, toHex } from '../../../src/common/bytes.js';
import type { HeaderEntry, UndoRecord } from '../../../src/chain/store.js';
import * as c from '../../../src/storage/codecs.js';
import { StorageArgumentError } from '../../../src/storage/errors.js';

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => toHex(b));
const u32 = fc.nat({ max: 0xffffffff });
/** Any well-formed, non-empty string without U+0000 (item keys, GTINs, lots). */
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\u0000'));
const eventId = hex32.map((h) => `ni:///sha-256;${h}?ver=CBV2.0`);

const headerEntry: fc.Arbitrary<HeaderEntry> = fc
  .record({
    hash: hex32,
    height: u32,
    prevHash: hex32,
    time: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    bits: u32,
    chainwork: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
    invalid: fc.boolean(),
    invalidCode: fc.option(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }).filter((s) => !s.includes('\u0000')), { nil: undefined }),
  })
  .map(({ invalid, invalidCode, ...rest }): HeaderEntry => {
    if (!invalid) return { ...rest, status: 'stored' };
    return invalidCode === undefined ? { ...rest, status: 'invalid' } : { ...rest, status: 'invalid', invalidCode };
  });

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const item = fc.tuple(text, fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== 'key'), jsonValue, { maxKeys: 5 })).map(([key, rest]) => ({ ...rest, key }));

const undo: fc.Arbitrary<UndoRecord> = fc.record({
  items: fc.array(
    item.chain((it) => fc.record({ key: fc.constant(it.key), prev: fc.option(fc.constant(it), { nil: null }) })),
    { maxLength: 5 },
  ),
  lots: fc.array(fc.record({ lot: fc.record({ gtin: text, lot: text }), prev: fc.boolean() }), { maxLength: 5 }),
});

/** JSON round trip normalises what JSON.stringify does (e.g. -0 → 0). */
function viaJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

describe('header entry codec', () => {
  it('round-trips every entry', () => {
    fc.assert(
      fc.property(headerEntry, (e) => {
        const b = c.encodeHeaderEntry(e);
        expect(b.length).toBe(c.HEADER_ENTRY_FIXED + (e.invalidCode === undefined ? 0 : Buffer.byteLength(e.invalidCode)));
        expect(c.decodeHeaderEntry(e.hash, b)).toEqual(e);
      }),
    );
  });

  it('decodes arbitrary bytes only to an entry that re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(hex32, fc.uint8Array({ minLength: 0, maxLength: 120 }), (hash, b) => {
        let e: HeaderEntry;
        try {
          e = c.decodeHeaderEntry(hash, b);
        } catch (err) {
          expect(err).toBeInstanceOf(c.DecodeError);
          return;
        }
        expect(equalBytes(c.encodeHeaderEntry(e), b)).toBe(true);
      }),
    );
  });

  it('rejects short values, unknown status and trailing bytes on a stored entry', () => {
    const e: HeaderEntry = { hash: '00'.repeat(32), height: 1, prevHash: '11'.repeat(32), time: 5, bits: 7, chainwork: 9n, status: 'stored' };
    const b = c.encodeHeaderEntry(e);
    expect(() => c.decodeHeaderEntry(e.hash, b.subarray(0, 80))).toThrow(c.DecodeError);
    const badStatus = b.slice();
    badStatus[80] = 7;
    expect(() => c.decodeHeaderEntry(e.hash, badStatus)).toThrow(/status byte/);
    const trailing = new Uint8Array([...b, 0x41]);
    expect(() => c.decodeHeaderEntry(e.hash, trailing)).toThrow(/trailing/);
  });

  it('rejects what it cannot represent', () => {
    const e: HeaderEntry = { hash: '00'.repeat(32), height: 1, prevHash: '11'.repeat(32), time: 5, bits: 7, chainwork: 9n, status: 'stored' };
    expect(() => c.encodeHeaderEntry({ ...e, chainwork: 1n << 256n })).toThrow(StorageArgumentError);
    expect(() => c.encodeHeaderEntry({ ...e, chainwork: -1n })).toThrow(StorageArgumentError);
    expect(() => c.encodeHeaderEntry({ ...e, height: -1 })).toThrow(StorageArgumentError);
    expect(() => c.encodeHeaderEntry({ ...e, time: 1.5 })).toThrow(StorageArgumentError);
    expect(() => c.encodeHeaderEntry({ ...e, prevHash: 'AB'.repeat(32) })).toThrow(StorageArgumentError);
    expect(() => c.encodeHeaderEntry({ ...e, invalidCode: 'BAD_POW' })).toThrow(/only allowed on an invalid/);
  });
});

describe('location codecs', () => {
  it('tx location round-trips and is 40 bytes', () => {
    fc.assert(
      fc.property(fc.record({ blockHash: hex32, height: u32, index: u32 }), (loc) => {
        const b = c.encodeTxLocation(loc);
        expect(b.length).toBe(40);
        expect(c.decodeTxLocation(b)).toEqual(loc);
      }),
    );
  });

  it('event location round-trips and is 36 bytes', () => {
    fc.assert(
      fc.property(fc.record({ txId: hex32, index: u32 }), (loc) => {
        const b = c.encodeEventLocation(loc);
        expect(b.length).toBe(36);
        expect(c.decodeEventLocation(b)).toEqual(loc);
      }),
    );
  });

  it('wrong lengths are decode errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        if (b.length !== 40) expect(() => c.decodeTxLocation(b)).toThrow(c.DecodeError);
        if (b.length !== 36) expect(() => c.decodeEventLocation(b)).toThrow(c.DecodeError);
        if (b.length !== 32) expect(() => c.decodeHash(b, 'x')).toThrow(c.DecodeError);
        if (b.length !== 4) expect(() => c.decodeU32(b, 'x')).toThrow(c.DecodeError);
      }),
    );
  });

  it('event IDs map to their 32-byte digest and back', () => {
    fc.assert(
      fc.property(eventId, (id) => {
        const b = c.encodeEventId(id);
        expect(b.length).toBe(32);
        expect(c.decodeEventId(b)).toBe(id);
      }),
    );
    expect(() => c.encodeEventId('ni:///sha-256;' + 'AB'.repeat(32) + '?ver=CBV2.0')).toThrow(StorageArgumentError);
    expect(() => c.encodeEventId('urn:uuid:1234')).toThrow(StorageArgumentError);
  });

  it('main-chain height keys sort numerically', () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        expect(Math.sign(compareBytes(c.encodeU32('h', a), c.encodeU32('h', b)))).toBe(Math.sign(a - b));
        expect(c.decodeU32(c.encodeU32('h', a), 'h')).toBe(a);
      }),
    );
  });
});

describe('EPC history key', () => {
  const pos = fc.record({ height: u32, txIndex: u32, eventIndex: u32 });

  it('round-trips', () => {
    fc.assert(
      fc.property(text, pos, (key, p) => {
        const k = { key, ...p };
        expect(c.decodeHistoryKey(c.encodeHistoryKey(k))).toEqual(k);
      }),
    );
  });

  it('sorts one item by (height, txIndex, eventIndex)', () => {
    fc.assert(
      fc.property(text, pos, pos, (key, a, b) => {
        const tuple = (p: c.HistoryPosition) => [p.height, p.txIndex, p.eventIndex];
        const ta = tuple(a);
        const tb = tuple(b);
        let expected = 0;
        for (let i = 0; i < 3 && expected === 0; i++) expected = Math.sign((ta[i] as number) - (tb[i] as number));
        expect(Math.sign(compareBytes(c.encodeHistoryKey({ key, ...a }), c.encodeHistoryKey({ key, ...b })))).toBe(expected);
      }),
    );
  });

  it("keeps another item's entries out of an item's prefix range", () => {
    fc.assert(
      fc.property(text, text, pos, (k1, k2, p) => {
        fc.pre(k1 !== k2);
        const prefix = c.historyPrefix(k1);
        const key = c.encodeHistoryKey({ key: k2, ...p });
        expect(equalBytes(key.subarray(0, prefix.length), prefix)).toBe(false);
      }),
    );
  });

  it('rejects keys with U+0000, lone surrogates or nothing', () => {
    const p = { height: 1, txIndex: 0, eventIndex: 0 };
    expect(() => c.encodeHistoryKey({ key: 'a\u0000b', ...p })).toThrow(StorageArgumentError);
    expect(() => c.encodeHistoryKey({ key: 'a\ud800', ...p })).toThrow(/well-formed/);
    expect(() => c.encodeHistoryKey({ key: '', ...p })).toThrow(StorageArgumentError);
    expect(() => c.encodeItemKey('x\u0000')).toThrow(StorageArgumentError);
  });

  it('rejects malformed stored keys', () => {
    expect(() => c.decodeHistoryKey(new Uint8Array(13))).toThrow(c.DecodeError);
    const k = c.encodeHistoryKey({ key: 'abc', height: 1, txIndex: 2, eventIndex: 3 });
    const noSep = k.slice();
    noSep[3] = 0x41;
    expect(() => c.decodeHistoryKey(noSep)).toThrow(/separator/);
    const nulInKey = k.slice();
    nulInKey[1] = 0;
    expect(() => c.decodeHistoryKey(nulInKey)).toThrow(/0x00/);
  });
});

describe('link key and value', () => {
  const pos = fc.record({ height: u32, txIndex: u32, eventIndex: u32 });
  const role = fc.constantFrom('child' as const, 'parent' as const, 'transform' as const);

  it('round-trips, and sorts one item and role by position, apart from other roles and items', () => {
    fc.assert(
      fc.property(text, role, pos, pos, text, (key, r, a, b, other) => {
        const k = { key, role: r, ...a };
        expect(c.decodeLinkKey(c.encodeLinkKey(k))).toEqual(k);
        const expected = Math.sign(a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex);
        expect(Math.sign(compareBytes(c.encodeLinkKey(k), c.encodeLinkKey({ key, role: r, ...b })))).toBe(expected);
        const prefix = c.linkPrefix(key, r);
        for (const [k2, r2] of [[key, r === 'child' ? 'parent' : 'child'], [other, r]] as const) {
          if (k2 === key && r2 === r) continue;
          const o = c.encodeLinkKey({ key: k2, role: r2, ...b });
          expect(equalBytes(o.subarray(0, prefix.length), prefix)).toBe(false);
        }
      }),
    );
  });

  it('values carry the kind, and the container key exactly for in and out', () => {
    for (const v of [{ kind: 'in' as const, other: 'https://id.gs1.org/00/006141411234567890' }, { kind: 'out' as const, other: 'ü' }]) {
      expect(c.decodeLinkValue(c.encodeLinkValue(v, 'child'), 'child')).toEqual(v);
    }
    expect(c.decodeLinkValue(c.encodeLinkValue({ kind: 'left' }, 'child'), 'child')).toEqual({ kind: 'left' });
    expect(c.decodeLinkValue(c.encodeLinkValue({ kind: 'emptied' }, 'parent'), 'parent')).toEqual({ kind: 'emptied' });
    for (const kind of ['input', 'output', 'input-output'] as const) expect(c.decodeLinkValue(c.encodeLinkValue({ kind }, 'transform'), 'transform')).toEqual({ kind });
    expect(() => c.encodeLinkValue({ kind: 'in' }, 'child')).toThrow(/needs container key/);
    expect(() => c.encodeLinkValue({ kind: 'left', other: 'x' }, 'child')).toThrow(/takes no container key/);
    expect(() => c.encodeLinkValue({ kind: 'emptied' }, 'child')).toThrow(/not of role child/);
    expect(() => c.decodeLinkValue(new Uint8Array([]), 'child')).toThrow(c.DecodeError);
    expect(() => c.decodeLinkValue(new Uint8Array([9]), 'child')).toThrow(/unknown link kind/);
    expect(() => c.decodeLinkValue(new Uint8Array([4]), 'child')).toThrow(/stored under role child/);
    expect(() => c.decodeLinkValue(new Uint8Array([3, 65]), 'child')).toThrow(/trailing/);
    expect(() => c.decodeLinkValue(new Uint8Array([1]), 'child')).toThrow(/empty/);
    const k = c.encodeLinkKey({ key: 'abc', role: 'child', height: 1, txIndex: 2, eventIndex: 3 });
    const badRole = k.slice();
    badRole[4] = 7;
    expect(() => c.decodeLinkKey(badRole)).toThrow(/role byte/);
    expect(() => c.decodeLinkKey(new Uint8Array(14))).toThrow(c.DecodeError);
  });
});

describe('item, lot, undo and genesis codecs', () => {
  it('items round-trip through JSON and are checked against their key', () => {
    fc.assert(
      fc.property(item, (it) => {
        expect(c.decodeItemKey(c.encodeItemKey(it.key))).toBe(it.key);
        expect(c.decodeItem(it.key, c.encodeItem(it))).toEqual(viaJson(it));
      }),
    );
    const b = c.encodeItem({ key: 'a', status: 'active' });
    expect(() => c.decodeItem('b', b)).toThrow(c.DecodeError);
    expect(() => c.decodeItem('a', new Uint8Array([0xff]))).toThrow(/UTF-8/);
    expect(() => c.decodeItem('a', new TextEncoder().encode('[1]'))).toThrow(/object/);
    expect(() => c.decodeItem('a', new TextEncoder().encode('{'))).toThrow(/JSON/);
    expect(() => c.encodeItem({ key: 'a', n: 1n })).toThrow(StorageArgumentError);
  });

  it('lot keys round-trip', () => {
    fc.assert(
      fc.property(text, text, (gtin, lot) => {
        expect(c.decodeLotKey(c.encodeLotKey({ gtin, lot }))).toEqual({ gtin, lot });
      }),
    );
    expect(() => c.decodeLotKey(new TextEncoder().encode('0614141'))).toThrow(c.DecodeError);
    expect(() => c.decodeEmpty(new Uint8Array(1), 'lot')).toThrow(c.DecodeError);
  });

  it('undo records round-trip', () => {
    fc.assert(
      fc.property(undo, (u) => {
        expect(c.decodeUndo(c.encodeUndo(u))).toEqual(viaJson(u));
      }),
    );
  });

  it('undo records carry the governance state before the block (its JSON, or null for genesis), and the governance bucket holds one state', () => {
    const state = JSON.stringify({ v: 1, members: [], proposals: [], keys: {}, policy: {}, policyHistory: [] });
    for (const governance of [state, null]) {
      expect(c.decodeUndo(c.encodeUndo({ items: [], lots: [], governance }))).toEqual({ items: [], lots: [], governance });
    }
    expect(c.decodeUndo(c.encodeUndo({ items: [], lots: [] }))).toEqual({ items: [], lots: [] });
    expect(c.decodeGovernance(c.encodeGovernance(state))).toBe(state);
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(() => c.decodeUndo(enc({ v: 1, items: [], lots: [], governance: 7 }))).toThrow(c.DecodeError);
    expect(() => c.decodeGovernance(enc({ v: 1, members: [] }))).toThrow(c.DecodeError);
    expect(() => c.encodeGovernance('')).toThrow(StorageArgumentError);
  });

  it('malformed undo records are decode errors', () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(() => c.decodeUndo(enc({ items: [], lots: [] }))).toThrow(c.DecodeError);
    expect(() => c.decodeUndo(enc({ v: 1, items: [{ key: 'a', prev: { key: 'b' } }], lots: [] }))).toThrow(c.DecodeError);
    expect(() => c.decodeUndo(enc({ v: 1, items: [], lots: [{ gtin: '1', lot: 'x', prev: 'yes' }] }))).toThrow(c.DecodeError);
    expect(() => c.encodeUndo({ items: [{ key: 'a', prev: { key: 'b' } }], lots: [] })).toThrow(StorageArgumentError);
  });

  it('JSON decoders never throw anything but DecodeError on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        for (const f of [() => c.decodeUndo(b), () => c.decodeItem('k', b), () => c.decodeGenesisJson(b), () => c.decodeLotKey(b), () => c.decodeHistoryKey(b)]) {
          try {
            f();
          } catch (err) {
            expect(err).toBeInstanceOf(c.DecodeError);
          }
        }
      }),
    );
  });

  it('genesis JSON is stored byte for byte', () => {
    const json = '{"v":1,"name":"\ufeffé"}';
    expect(c.decodeGenesisJson(c.encodeGenesisJson(json))).toBe(json);
  });
});

describe('query index (term) rows', () => {
  it('key and positions round-trip; keys of one term sort by height; bad values are refused', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }).filter((t) => !t.includes('\u0000')),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff })), { minLength: 1, maxLength: 30, selector: ([t, e]) => `${t}/${e}` }),
        (term, h1, h2, pairs) => {
          expect(c.decodeTermKey(c.encodeTermKey(term, h1))).toEqual({ term, height: h1 });
          expect(Math.sign(compareBytes(c.encodeTermKey(term, h1), c.encodeTermKey(term, h2)))).toBe(Math.sign(h1 - h2));
          const sorted = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]).flat();
          expect(c.decodeTermPositions(c.encodeTermPositions(sorted))).toEqual(sorted);
        },
      ),
    );
    expect(() => c.decodeTermPositions(new Uint8Array(0))).toThrow(c.DecodeError);
    expect(() => c.decodeTermPositions(new Uint8Array(12))).toThrow(c.DecodeError);
    // Out of chain order, or a repeat.
    expect(() => c.decodeTermPositions(c.encodeTermPositions([1, 5, 1, 4]))).toThrow(/chain order/);
    expect(() => c.decodeTermPositions(c.encodeTermPositions([1, 5, 1, 5]))).toThrow(/chain order/);
    expect(() => c.encodeTermPositions([1])).toThrow(StorageArgumentError);
    expect(() => c.encodeTermPositions([1, -1])).toThrow(StorageArgumentError);
    expect(() => c.decodeTermKey(new Uint8Array([0x61, 1, 0, 0, 0, 1]))).toThrow(/separator/);
  });
});
