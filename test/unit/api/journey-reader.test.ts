import { describe, expect, it } from 'vitest';
import type { Chain } from '../../../src/chain/chain.js';
import type { RoleLinkRecord } from '../../../src/chain/store.js';
import type { Provenance } from '../../../src/api/provenance.js';
import { storeJourneyReader } from '../../../src/api/journey-reader.js';

/** A chain whose store counts allLinks reads and whose state stamp the test moves. */
function fixture() {
  const state = { stamp: 1 as number | undefined, reads: 0, historyReads: 0, ready: true, duringRead: (): void => undefined };
  const records = (key: string): RoleLinkRecord[] => [{ height: 1, txIndex: 0, eventIndex: 0, kind: 'in', other: `${key}/parent`, role: 'child' }];
  const store = {
    linksReady: () => state.ready,
    allLinks: async (key: string, limit: number) => {
      state.reads++;
      state.duringRead();
      return records(key).slice(0, limit);
    },
    history: async (key: string, opts: { after?: { height: number }; to?: { height: number }; limit: number }) => {
      state.historyReads++;
      return [1, 2, 3, 4]
        .filter((h) => (opts.after === undefined || h > opts.after.height) && (opts.to === undefined || h <= opts.to.height))
        .slice(0, opts.limit)
        .map((height) => ({ key, height, txIndex: 0, eventIndex: 0, eventId: `e${height}` }));
    },
  };
  const chain = { store, stateStamp: () => state.stamp } as unknown as Chain;
  return { state, reader: storeJourneyReader(chain, {} as Provenance) };
}

describe('journey reader: containers’ link records', () => {
  it('are read once while the chain state stays the same, and again once a block connected or disconnected', async () => {
    const { state, reader } = fixture();
    expect(await reader.allLinks('case', 65, true)).toHaveLength(1);
    expect(await reader.allLinks('case', 65, true)).toEqual([{ height: 1, txIndex: 0, eventIndex: 0, kind: 'in', other: 'case/parent', role: 'child' }]);
    expect(state.reads).toBe(1);
    state.stamp = 2;
    await reader.allLinks('case', 65, true);
    expect(state.reads).toBe(2);
    await reader.allLinks('case', 65, true);
    expect(state.reads).toBe(2);
  });

  it('are not kept when read while a block connects, or when one connected during the read; the traced item’s are never kept', async () => {
    const { state, reader } = fixture();
    state.stamp = undefined;
    await reader.allLinks('case', 65, true);
    await reader.allLinks('case', 65, true);
    expect(state.reads).toBe(2);
    state.stamp = 5;
    state.duringRead = () => {
      state.stamp = 6;
    };
    await reader.allLinks('pallet', 65, true);
    state.duringRead = () => undefined;
    await reader.allLinks('pallet', 65, true);
    expect(state.reads).toBe(4);
    await reader.allLinks('pallet', 65, true);
    expect(state.reads).toBe(4);
    await reader.allLinks('pack', 65, false);
    await reader.allLinks('pack', 65, false);
    expect(state.reads).toBe(6);
  });

  it('shared history ranges (a container window, a class) are kept per range while the chain state stays the same', async () => {
    const { state, reader } = fixture();
    const p = (height: number) => ({ height, txIndex: 0, eventIndex: 0 });
    const a = await reader.history('case', { after: p(1), upTo: p(3), limit: 10 }, true);
    expect(a.map((r) => r.eventId)).toEqual(['e2', 'e3']);
    expect(await reader.history('case', { after: p(1), upTo: p(3), limit: 10 }, true)).toEqual(a);
    expect(state.historyReads).toBe(1);
    // Another range, another limit: another read.
    expect((await reader.history('case', { after: p(1), limit: 10 }, true)).map((r) => r.eventId)).toEqual(['e2', 'e3', 'e4']);
    expect((await reader.history('case', { after: p(1), upTo: p(3), limit: 1 }, true)).map((r) => r.eventId)).toEqual(['e2']);
    expect(state.historyReads).toBe(3);
    state.stamp = 9;
    await reader.history('case', { after: p(1), upTo: p(3), limit: 10 }, true);
    expect(state.historyReads).toBe(4);
    // The traced item's own history: never kept.
    await reader.history('pack', { limit: 10 }, false);
    await reader.history('pack', { limit: 10 }, false);
    expect(state.historyReads).toBe(6);
  });

  it('answer 503 INDEX_NOT_READY while the links index of an older store is not built', async () => {
    const { state, reader } = fixture();
    state.ready = false;
    await expect(reader.allLinks('case', 65, true)).rejects.toMatchObject({ status: 503, code: 'INDEX_NOT_READY' });
  });
});
