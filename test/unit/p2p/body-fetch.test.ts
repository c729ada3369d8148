/** BodyFetcher (src/p2p/body-fetch.ts): in-order hand-out, the fetch-ahead window, and peers that lack or fail a chunk. */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { BodyFetcher, type BodySource } from '../../../src/p2p/body-fetch.js';
import type { HeaderItem } from '../../../src/p2p/headers.js';
import type { BlockReplyItem } from '../../../src/p2p/sync-protocol.js';

const items: HeaderItem[] = Array.from({ length: 10 }, (_, i) => ({ hash: `h${i}`, height: i + 1, prevHash: i === 0 ? 'g' : `h${i - 1}` }));
const opts = { blocksPerRequest: 2, maxInflightPerPeer: 1, windowBlocks: 4, windowBytes: 1 << 20 };
const peer = (id: string, height: number): BodySource => ({ id, inflight: 0, status: { height }, announcedHeight: 0, rttMs: 1 });

/** A transport whose peers answer from `has` (hash → bytes), recording every request. */
function transport(has: Record<string, Set<string>>, fail = new Set<string>()) {
  const asked: { peer: string; hashes: string[] }[] = [];
  return {
    asked,
    blocks: async (p: string, hashes: string[]): Promise<BlockReplyItem[]> => {
      asked.push({ peer: p, hashes });
      if (fail.has(p)) throw new Error(`${p} failed`);
      return hashes.map((hash) => ({ hash, bytes: has[p]?.has(hash) ? new Uint8Array([Number(hash.slice(1))]) : null }));
    },
  };
}

async function drain(f: BodyFetcher<BodySource>, n: number): Promise<{ got: number[]; end: 'none' | 'done' }> {
  const got: number[] = [];
  while (got.length < n) {
    const r = f.poll();
    if (r === 'none') return { got, end: 'none' };
    if (r === 'wait') {
      await f.arrival();
      continue;
    }
    got.push(r.bytes[0] as number);
    f.advance();
  }
  return { got, end: 'done' };
}

const prepare = async (list: readonly Uint8Array[]) => list.map(() => undefined);
const logger = pino({ level: 'silent' });

describe('BodyFetcher', () => {
  it('hands bodies out in chain order, asking every able peer, never more than the window ahead', async () => {
    const all = new Set(items.map((i) => i.hash));
    const t = transport({ a: all, b: all });
    const peers = new Map([
      ['a', peer('a', 10)],
      ['b', peer('b', 10)],
    ]);
    // Peers could take 8 requests at once: the window (4 blocks ahead) is what holds the fetch back.
    const f = new BodyFetcher(items, peers.get('a') as BodySource, { ...opts, maxInflightPerPeer: 4 }, { transport: t, peers, prepare, requestFailed: () => undefined, logger });
    const first = f.poll();
    expect(first).toBe('wait');
    // Window of 4 blocks, 2 per request: two chunks asked at first, spread over the peers.
    expect(t.asked.map((a) => a.hashes)).toEqual([
      ['h0', 'h1'],
      ['h2', 'h3'],
    ]);
    expect(new Set(t.asked.map((a) => a.peer))).toEqual(new Set(['a', 'b']));
    const { got, end } = await drain(f, 10);
    expect(end).toBe('done');
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    f.cancel();
  });

  it("a chunk a peer does not have, or fails, goes to another; 'none' once no connected peer can serve the next block", async () => {
    const t = transport({ a: new Set(['h0', 'h1', 'h2']), b: new Set(['h2', 'h3']) }, new Set(['c']));
    const failed: string[] = [];
    const peers = new Map([
      ['a', peer('a', 10)],
      ['b', peer('b', 10)],
      ['c', peer('c', 10)],
    ]);
    const f = new BodyFetcher(items.slice(0, 6), peers.get('a') as BodySource, { ...opts, maxInflightPerPeer: 2 }, {
      transport: t,
      peers,
      prepare,
      requestFailed: (p) => failed.push(p.id),
      logger,
    });
    const { got, end } = await drain(f, 6);
    expect(got).toEqual([0, 1, 2, 3]);
    expect(end).toBe('none');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((p) => p === 'c')).toBe(true);
    // h4/h5 were asked of everyone (none has them) before giving up.
    const askedFor = (h: string) => new Set(t.asked.filter((a) => a.hashes.includes(h)).map((a) => a.peer));
    expect(askedFor('h4')).toEqual(new Set(['a', 'b', 'c']));
    f.cancel();
  });
});
