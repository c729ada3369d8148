/**
 * The gossip model behind docs/scale.md's member counts (bench/gossip-model.ts): exact times on
 * a small mesh, the mesh's shape, and determinism for a seed.
 */
import { describe, expect, it } from 'vitest';
import { randomMesh, runGossipModel, seededRandom, spread, type GossipModelParams } from '../../../bench/gossip-model.js';

const params: GossipModelParams = {
  peers: 3,
  degree: 2,
  degreeHigh: 4,
  events: 100,
  blockBytes: 125_000, // 1 Mbit: 10 ms at 100 Mbit/s
  importBaseMs: 5,
  importPerEventMs: 0.1, // import: 15 ms
  forwardAfterImport: true,
  headerCheckMs: 2,
  uplinkMbps: 100,
  latencyMs: 20,
};

describe('gossip model', () => {
  it('on a path 0 - 1 - 2 a block arrives after each hop\'s send and latency, forwarded after the import', () => {
    const r = spread([[1], [0, 2], [1]], 0, params, seededRandom(1));
    expect(r.arrival[0]).toBe(0);
    expect(r.arrival[1]).toBeCloseTo(10 + 20, 9);
    expect(r.arrival[2]).toBeCloseTo(30 + 15 + 10 + 20, 9);
    expect([...r.hops]).toEqual([0, 1, 2]);
    expect(r.sends).toBe(2); // never back to the peer it came from
  });

  it('forwarded after the header checks, the next hop starts headerCheckMs after arrival', () => {
    const r = spread([[1], [0, 2], [1]], 0, { ...params, forwardAfterImport: false }, seededRandom(1));
    expect(r.arrival[2]).toBeCloseTo(30 + 2 + 10 + 20, 9);
  });

  it('a node sends to its peers one after another through its uplink', () => {
    const r = spread([[1, 2], [0], [0]], 0, params, seededRandom(1));
    expect([r.arrival[1], r.arrival[2]].sort()).toEqual([30, 40]);
  });

  it('random meshes are symmetric, without self-links, and no node has more than degreeHigh links', () => {
    const mesh = randomMesh(300, 6, 12, seededRandom(7));
    mesh.forEach((peers, u) => {
      expect(peers).not.toContain(u);
      expect(peers.length).toBeLessThanOrEqual(12);
      expect(peers.length).toBeGreaterThan(0);
      for (const v of peers) expect(mesh[v]).toContain(u);
    });
  });

  it('is deterministic for a seed, reaches every node, and more peers never take fewer hops', () => {
    const a = runGossipModel({ ...params, peers: 200, degree: 6, degreeHigh: 12 }, 20, 42);
    expect(runGossipModel({ ...params, peers: 200, degree: 6, degreeHigh: 12 }, 20, 42)).toEqual(a);
    expect(Number.isFinite(a.allP99Ms)).toBe(true);
    const small = runGossipModel({ ...params, peers: 10, degree: 6, degreeHigh: 12 }, 20, 42);
    expect(small.hopsP50).toBeLessThanOrEqual(a.hopsP50);
    expect(small.allP50Ms).toBeLessThanOrEqual(a.allP50Ms);
  });
});
