/** HeaderIndex (src/chain/header-index.ts): candidate tips, invalidity, reorg paths, and a damaged index named as such. */
import { describe, expect, it } from 'vitest';
import { StoreDamagedError } from '../../../src/common/errors.js';
import { generateKeyPair } from '../../../src/chain/keys.js';
import { childEntry, genesisEntryOf, HeaderIndex } from '../../../src/chain/header-index.js';
import type { HeaderEntry } from '../../../src/chain/store.js';
import { makeGenesis, memberOf } from '../../../src/node/dev-consortium.js';
import { medianTimePast } from '../../../src/consensus/block-time.js';
import { GENESIS_TIME, TEST_PARAMS } from '../../helpers/chain-fixture.js';

const genesis = makeGenesis('index', [memberOf({ name: 'a', role: 'dev', key: generateKeyPair(), peerId: 'p' })], GENESIS_TIME, TEST_PARAMS);
const g = genesisEntryOf(genesis);

/** A child entry of `parent`, `bits` setting its work (lower bits = harder = more work). */
function child(parent: HeaderEntry, name: string, bits = TEST_PARAMS.genesisBits): HeaderEntry {
  return childEntry(parent, { hash: name.padEnd(64, '0'), height: parent.height + 1, prevHash: parent.hash, time: parent.time + 10_000, bits });
}

describe('HeaderIndex', () => {
  // genesis ─ a1 ─ a2 ─ a3
  //        └─ b1 ─ b2 (b2 much harder: more work than a3)
  const a1 = child(g, 'a1');
  const a2 = child(a1, 'a2');
  const a3 = child(a2, 'a3');
  const b1 = child(g, 'b1');
  const b2 = child(b1, 'b2', 0x1e00ffff);

  it('candidate tips are the valid entries without a valid child; best is the most work, the tip on a tie', () => {
    const index = new HeaderIndex(genesis, g, [a1, a2, a3, b1]);
    expect(index.size).toBe(5);
    expect(index.best(g).hash).toBe(a3.hash);
    index.add(b2);
    expect(index.best(a3).hash).toBe(b2.hash);
    // Equal work: the current tip stays.
    const tie = new HeaderIndex(genesis, g, [a1, b1]);
    expect(tie.best(b1).hash).toBe(b1.hash);
    expect(tie.best(a1).hash).toBe(a1.hash);
  });

  it('pathBetween disconnects down to the fork (tip first) and connects up from it', () => {
    const index = new HeaderIndex(genesis, g, [a1, a2, a3, b1, b2]);
    const path = index.pathBetween(a3, b2);
    expect(path.fork.hash).toBe(g.hash);
    expect(path.disconnect.map((e) => e.hash)).toEqual([a3.hash, a2.hash, a1.hash]);
    expect(path.connect.map((e) => e.hash)).toEqual([b1.hash, b2.hash]);
    expect(index.pathBetween(a1, a3).disconnect).toEqual([]);
    expect(index.ancestor(a3, 1)?.hash).toBe(a1.hash);
    expect(index.ancestor(a3, 4)).toBeUndefined();
  });

  it('markInvalid marks the block and every descendant, returns them to store, and its parent is a candidate again', () => {
    const index = new HeaderIndex(genesis, g, [a1, a2, a3, b1]);
    const bad = index.markInvalid(a2, 'BAD_TX');
    expect(bad.map((e) => [e.hash, e.status, e.invalidCode])).toEqual([
      [a2.hash, 'invalid', 'BAD_TX'],
      [a3.hash, 'invalid', 'INVALID_ANCESTOR'],
    ]);
    expect(index.get(a3.hash)?.status).toBe('invalid');
    // a1 and b1 tie on work: from b1 it stays, from genesis the first candidate with more work wins.
    expect(index.best(b1).hash).toBe(b1.hash);
    expect([a1.hash, b1.hash]).toContain(index.best(g).hash);
  });

  it('a missing parent is a damaged store (StoreDamagedError), never a crash or a wrong answer', () => {
    // a3 is indexed, its parent a2 is not: the stored index lost an entry.
    const index = new HeaderIndex(genesis, g, [a1, a3]);
    expect(() => index.parentOf(a3)).toThrow(StoreDamagedError);
    expect(() => index.pathBetween(g, a3)).toThrow(StoreDamagedError);
    expect(() => index.anchorFor(a3)).toThrow(StoreDamagedError);
    expect(() => index.nextBitsAfter(a3)).toThrow(/run tracechain reindex/);
    // With the parent there, the same questions have answers.
    const whole = new HeaderIndex(genesis, g, [a1, a2, a3]);
    expect(whole.parentOf(a3).hash).toBe(a2.hash);
    expect(typeof whole.nextBitsAfter(a3)).toBe('number');
    expect(whole.medianTimePast(a3)).toBe(medianTimePast([a3.time, a2.time, a1.time, g.time]));
  });
});
