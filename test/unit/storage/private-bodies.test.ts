/** The private body store: bodies kept once, in arrival order, across a reopen; purge keeps the commitment. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelPrivateBodyStore } from '../../../src/storage/private-bodies.js';
import { tempDir } from './helpers.js';

const c = (n: number): string => n.toString(16).padStart(64, '0');
const salt = (n: number): string => (n % 256).toString(16).padStart(2, '0').repeat(32);
const body = (n: number) => ({ commitment: c(n), salt: salt(n), eventText: `{"n":${n},"text":"é"}` });

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe('LevelPrivateBodyStore', () => {
  it('keeps each body once, in arrival order, and finds it again after a reopen', async () => {
    let s = await LevelPrivateBodyStore.open(dir);
    expect(await s.put([body(1), body(2), body(1)], 1_000)).toBe(2);
    expect(await s.put([body(2), body(3)], 2_000)).toBe(1);
    expect(await s.has(c(3))).toBe(true);
    expect(await s.has(c(4))).toBe(false);
    await s.close();
    s = await LevelPrivateBodyStore.open(dir);
    expect(await s.get(c(2))).toEqual({ commitment: c(2), seq: 2, storedAt: 1_000, purged: false, salt: salt(2), eventText: '{"n":2,"text":"é"}' });
    expect((await s.after(0, 10)).map((b) => b.seq)).toEqual([1, 2, 3]);
    expect((await s.after(1, 1)).map((b) => b.commitment)).toEqual([c(2)]);
    // seq numbering continues after the reopen
    expect(await s.put([body(4)], 3_000)).toBe(1);
    expect((await s.get(c(4)))?.seq).toBe(4);
    expect(await s.count()).toBe(4);
    await s.close();
  });

  it('purge drops salt and event of bodies stored before the cut, keeps their commitments and arrival order', async () => {
    const s = await LevelPrivateBodyStore.open(dir);
    await s.put([body(1)], 1_000);
    await s.put([body(2)], 5_000);
    expect(await s.purge(2_000)).toBe(1);
    expect(await s.purge(2_000)).toBe(0);
    expect(await s.get(c(1))).toMatchObject({ purged: true, salt: '', eventText: '', seq: 1 });
    expect(await s.get(c(2))).toMatchObject({ purged: false, salt: salt(2) });
    expect(await s.has(c(1))).toBe(true);
    // a purged body is not taken again from a peer
    expect(await s.put([body(1)], 9_000)).toBe(0);
    await s.close();
  });

  it('refuses what is not a commitment or a salt, storing nothing of the batch', async () => {
    const s = await LevelPrivateBodyStore.open(dir);
    await expect(s.put([body(1), { ...body(2), salt: 'zz' }], 1)).rejects.toThrow(/salt/);
    await expect(s.put([{ ...body(3), commitment: 'abc' }], 1)).rejects.toThrow(/not a commitment/);
    expect(await s.count()).toBe(0);
    await s.close();
  });
});

describe('LevelPrivateBodyStore group commit', () => {
  it('puts arriving together are written together, each told how many it added, in arrival order', async () => {
    const s = await LevelPrivateBodyStore.open(dir);
    const counts = await Promise.all([s.put([body(1), body(2)], 1), s.put([body(2), body(3)], 2), s.put([body(4)], 3), s.put([], 4)]);
    expect(counts).toEqual([2, 1, 1, 0]);
    expect((await s.after(0, 10)).map((b) => [b.commitment, b.seq, b.storedAt])).toEqual([
      [c(1), 1, 1],
      [c(2), 2, 1],
      [c(3), 3, 2],
      [c(4), 4, 3],
    ]);
    // a bad put is refused alone; the others of its group are written
    const mixed = await Promise.allSettled([s.put([body(5)], 5), s.put([{ ...body(6), salt: 'x' }], 5), s.put([body(7)], 5)]);
    expect(mixed.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await s.count()).toBe(6);
    await s.close();
  });
});

describe('LevelPrivateBodyStore event index', () => {
  it('finds the commitment of a held event by its CBV event ID, across a reopen', async () => {
    let s = await LevelPrivateBodyStore.open(dir);
    expect(await s.commitmentsOfEvents(['ev-1'])).toEqual([undefined]);
    await s.put([{ ...body(1), eventId: 'ev-1' }, body(2)], 1);
    expect(await s.commitmentsOfEvents(['ev-1', 'ev-2'])).toEqual([c(1), undefined]);
    await s.close();
    s = await LevelPrivateBodyStore.open(dir);
    expect(await s.commitmentsOfEvents(['ev-2', 'ev-1'])).toEqual([undefined, c(1)]);
    await s.close();
  });
});
