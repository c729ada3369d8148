import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeTx, txId } from '../../../src/chain/tx.js';
import { toHex } from '../../../src/common/bytes.js';
import { indexTxEvents } from '../../../src/api/tx-text.js';
import type { SignedTx } from '../../../src/chain/types.js';
import { awkwardEvent, tx } from './tx-fixtures.js';

describe('indexTxEvents (event slices without JSON.parse)', () => {
  it('finds every event ID and event: a slice is what JSON.stringify(JSON.parse(tx)).events[k] gives unless flagged', () => {
    fc.assert(
      fc.property(fc.array(awkwardEvent, { minLength: 1, maxLength: 6 }), (events) => {
        const t = tx(events);
        const text = new TextDecoder().decode(encodeTx(t));
        const parsed = JSON.parse(text) as SignedTx;
        // In order, and (a fresh index) straight to the last event: extents are found lazily.
        for (const order of [events.map((_, k) => k), [events.length - 1, 0]]) {
          const index = indexTxEvents(text);
          expect(index).toBeDefined();
          if (index === undefined) return;
          expect(index.count).toBe(events.length);
          for (const k of order) {
            expect(index.eventId(k)).toBe(parsed.eventIds[k]);
            const slice = index.event(k) as string;
            expect(JSON.parse(slice)).toEqual(parsed.events[k]);
            if (!index.reorders(k)) expect(slice).toBe(JSON.stringify(parsed.events[k]));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('flags an event with an all-digit key (JS objects list array-index keys first)', () => {
    const index = indexTxEvents(new TextDecoder().decode(encodeTx(tx([{ b: 1, '10': 2, '9': 3 }, { a: 1 }]))));
    index?.event(1);
    expect(index?.reorders(0)).toBe(true);
    expect(index?.reorders(1)).toBe(false);
  });

  it('answers undefined where the text does not have the canonical shape', () => {
    expect(indexTxEvents(JSON.stringify({ chain: 'x', eventIds: [], events: [] }))).toBeUndefined();
    expect(indexTxEvents(`{"chain":"${'a'.repeat(64)}","eventIds":[],"events":[]}`)).toBeUndefined(); // no events
    const good = new TextDecoder().decode(encodeTx(tx([{ a: 1 }, { b: 2 }])));
    expect(indexTxEvents(good.slice(0, good.length - 60))?.event(1)).toBeDefined(); // the tail is not read
    const last = indexTxEvents(good)?.event(1) as string;
    const end = good.indexOf(last) + last.length;
    expect(indexTxEvents(good.slice(0, end - 1))?.event(1)).toBeUndefined(); // cut inside the last event
    expect(indexTxEvents(good.slice(0, end - 1))?.event(0)).toBeDefined(); // the first is whole
    const threeIds = JSON.parse(good) as SignedTx;
    threeIds.eventIds.push(threeIds.eventIds[0] as string);
    const index = indexTxEvents(new TextDecoder().decode(encodeTx(threeIds)));
    expect(index?.event(2)).toBeUndefined(); // more IDs than events
    expect(index?.eventId(3)).toBeUndefined();
    const badId = good.replace('?ver=CBV2.0"', '?ver=CBV2.1"');
    expect(indexTxEvents(badId)?.eventId(0)).toBeUndefined();
  });
});
