/**
 * Reliability, scenario 6 (in-process): hostile peers against the gossip validators and a real
 * chain on LevelDB. Oversized and garbage gossip, bad PoW, a mutated block followed by the
 * original (CVE-2012-2459 style), an invalid block deep inside a heavier fork, floods of
 * orphan and future blocks and of txs, non-members and replays: refused, pools capped, state
 * unchanged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { encodeBlock, makeBlock } from '../../../src/chain/block.js';
import { encodeTx, signTx } from '../../../src/chain/tx.js';
import { generateKeyPair, keyId } from '../../../src/chain/keys.js';
import { toHex } from '../../../src/common/bytes.js';
import { chainPort } from '../../../src/p2p/chain-port.js';
import { GossipValidators } from '../../../src/p2p/gossip.js';
import { buildBlock, extend, GENESIS_TIME, makeFixture, makeTx, type Fixture } from '../../helpers/chain-fixture.js';

const MEMBER = 'peer-sealer';
let fx: Fixture;
let gossip: GossipValidators;
let offences: { peer: string; code: string }[];
let ahead: { peer: string; height: number }[];

function validators(f: Fixture): GossipValidators {
  offences = [];
  ahead = [];
  return new GossipValidators(
    chainPort(f.chain),
    { offence: (peer, _o, code) => offences.push({ peer, code }), unknownParent: () => undefined, aheadOfClock: (peer, height) => ahead.push({ peer, height }) },
    pino({ level: 'silent' }),
  );
}

beforeEach(async () => {
  fx = await makeFixture();
  gossip = validators(fx);
});
afterEach(async () => {
  await fx.close();
});

const block = (b: ReturnType<typeof buildBlock>): Uint8Array => encodeBlock(b);

describe('hostile peers: gossip', () => {
  it('rejects oversized, garbage and non-member gossip and penalises the sender', async () => {
    expect(await gossip.validateBlock('evil', MEMBER, new Uint8Array(fx.genesis.params.maxBlockBytes + 1))).toBe('reject');
    expect(await gossip.validateBlock('evil', MEMBER, Uint8Array.from({ length: 500 }, (_, i) => (i * 7919) & 0xff))).toBe('reject');
    expect(await gossip.validateBlock('evil', MEMBER, new Uint8Array(0))).toBe('reject');
    expect(await gossip.validateTx('evil', MEMBER, new TextEncoder().encode('{"v":1,"__proto__":{"x":1}}'))).toBe('reject');
    expect(await gossip.validateTx('evil', MEMBER, new Uint8Array(fx.genesis.params.maxTxBytes + 10).fill(0x7b))).toBe('reject');
    // A valid block, but published by a peer that is not a member.
    expect(await gossip.validateBlock('stranger', 'peer-stranger', block(buildBlock(fx)))).toBe('reject');
    expect(fx.chain.tip.height).toBe(0);
    expect(offences.length).toBe(6);
    expect(new Set(offences.map((o) => o.peer))).toEqual(new Set(['evil', 'stranger']));
  });

  it('rejects a block with bad proof of work and does not store it', async () => {
    const bad = buildBlock(fx, { badPow: true });
    expect(await gossip.validateBlock('evil', MEMBER, block(bad))).toBe('reject');
    expect(offences[0]?.code).toBe('BAD_POW');
    expect(fx.chain.header(bad.hashHex)).toBeUndefined();
    expect(fx.chain.tip.height).toBe(0);
  });

  it('CVE-2012-2459 style: a mutated body under a good header is rejected, then the original is accepted', async () => {
    const t1 = makeTx(fx, [{ epc: 'urn:a', action: 'commission' }]);
    const t2 = makeTx(fx, [{ epc: 'urn:b', action: 'commission' }]);
    const t3 = makeTx(fx, [{ epc: 'urn:c', action: 'commission' }]);
    const original = buildBlock(fx, { txs: [t1, t2, t3] });
    const mutations = [
      makeBlock(original.header, original.signature, [t1, t2, t3, t3]), // last tx duplicated
      makeBlock(original.header, original.signature, [t2, t1, t3]), // reordered
      makeBlock(original.header, original.signature, [t1, t2]), // one dropped
    ];
    for (const m of mutations) {
      expect(m.hashHex).toBe(original.hashHex);
      expect(await gossip.validateBlock('evil', MEMBER, block(m))).toBe('reject');
    }
    expect(offences.map((o) => o.code)).toEqual(expect.arrayContaining(['BAD_MERKLE_ROOT']));
    // The hash was not remembered as invalid: the honest block still gets in.
    expect(await gossip.validateBlock('honest', MEMBER, block(original))).toBe('accept');
    expect(fx.chain.tip.hash).toBe(original.hashHex);
  });

  it('an invalid block deep inside a heavier fork aborts the reorg and leaves the state unchanged', async () => {
    const t = makeTx(fx, [{ epc: 'urn:x', action: 'commission' }]);
    const [a1] = await extend(fx, 1, { txs: [t] });
    const fork = fx.chain.tip;
    const [a2, a3] = await extend(fx, 2);
    const tipBefore = fx.chain.tip.hash;
    const itemBefore = await fx.store.getItems(['urn:x']);
    const locBefore = await fx.store.getTxLocations([toHex(a1!.txIds[0]!)]);
    // Fork from a1: b2, b3 (repeats tx t, already on the main chain below the fork), b4, b5.
    const dt = fx.genesis.params.blockIntervalMs + 7; // not the same blocks as the main chain
    const b2 = buildBlock(fx, { parent: fork, dt });
    await fx.chain.importBlock(b2);
    const b3 = buildBlock(fx, { parent: fx.chain.header(b2.hashHex)!, txs: [t], dt });
    await gossip.validateBlock('evil', MEMBER, block(b3));
    const b4 = buildBlock(fx, { parent: fx.chain.header(b3.hashHex)!, dt });
    // b4 makes the fork heavier: the reorg tries b3, which fails to connect.
    await gossip.validateBlock('evil', MEMBER, block(b4));
    expect(fx.chain.header(b4.hashHex)).toBeDefined(); // stored: the fork was heavier
    expect(fx.chain.header(b3.hashHex)?.status).toBe('invalid'); // found out at connect
    expect(fx.chain.tip.hash).toBe(tipBefore);
    expect(await fx.store.getItems(['urn:x'])).toEqual(itemBefore);
    expect(await fx.store.getTxLocations([toHex(a1!.txIds[0]!)])).toEqual(locBefore);
    expect(await fx.store.getMainHash(2)).toBe(a2!.hashHex);
    expect(await fx.store.getMainHash(3)).toBe(a3!.hashHex);
    // Building on the invalid branch is refused outright.
    expect(fx.chain.header(b4.hashHex)).toBeDefined();
    const b5 = buildBlock(fx, { parent: fx.chain.header(b4.hashHex)!, dt });
    expect(await gossip.validateBlock('evil', MEMBER, block(b5))).toBe('reject');
    expect(fx.chain.tip.hash).toBe(tipBefore);
    // The honest chain keeps growing.
    await extend(fx, 1);
    expect(fx.chain.tip.height).toBe(4);
  });

  it('a flood of orphan blocks keeps nothing; a flood of future blocks stays capped', async () => {
    await extend(fx, 1);
    const headersBefore = fx.chain.headerCount;
    for (let i = 0; i < 300; i++) {
      const unknown = Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7 + 1) & 0xff);
      const orphan = buildBlock(fx, { height: 2 + (i % 50), mutateHeader: (h) => (h.prevHash = unknown) });
      expect(await gossip.validateBlock('evil', MEMBER, block(orphan))).toBe('ignore');
    }
    expect(fx.chain.headerCount).toBe(headersBefore);
    // Far-future blocks (a peer whose clock is 3 h ahead) are held, but at most 64 of them.
    for (let i = 0; i < 150; i++) {
      const b = buildBlock(fx, { time: fx.clock.now + 3 * 3_600_000 + i * 1_000 });
      expect(await gossip.validateBlock('skewed', MEMBER, block(b))).toBe('ignore');
    }
    expect(fx.chain.futureCount).toBeLessThanOrEqual(64);
    expect(offences).toEqual([]);
    // Each is reported as its publisher's chain running ahead of our clock (sync then does not count it as "known").
    expect(ahead).toHaveLength(150);
    expect(ahead.every((a) => a.peer === MEMBER && a.height === 2)).toBe(true);
  });

  it('a tx is admitted as its canonical bytes; the same tx in another encoding is rejected and not admitted', async () => {
    const tx = makeTx(fx, [{ epc: 'urn:canon', action: 'commission' }]);
    const bytes = encodeTx(tx);
    // Same content, keys in another order: not the one encoding a tx has.
    const reordered = new TextEncoder().encode(JSON.stringify({ v: tx.v, sig: tx.sig, chain: tx.chain, kind: tx.kind, submitter: tx.submitter, time: tx.time, events: tx.events, eventIds: tx.eventIds }));
    expect(await gossip.validateTx('evil', MEMBER, reordered)).toBe('reject');
    expect(offences.map((o) => o.code)).toEqual(['MALFORMED']);
    expect(fx.chain.mempool.size).toBe(0);
    const admitted: Uint8Array[] = [];
    fx.chain.on('tx', (_t, _id, origin, raw) => origin === 'gossip' && admitted.push(raw));
    expect(await gossip.validateTx('peer', MEMBER, bytes)).toBe('accept');
    const [entry] = fx.chain.mempool.select(1 << 20);
    expect(entry && toHex(entry.raw)).toBe(toHex(bytes));
    expect(admitted.map((a) => toHex(a))).toEqual([toHex(bytes)]);
  });

  it('a flood of txs stays within the mempool cap; non-member and replayed txs are refused', async () => {
    const cap = 1000;
    let full = 0;
    for (let i = 0; i < cap + 60; i++) {
      const v = await gossip.validateTx('peer', MEMBER, encodeTx(makeTx(fx, [{ epc: `urn:f${i}`, action: 'commission' }])));
      if (v === 'ignore') full++;
    }
    expect(fx.chain.mempool.size).toBeLessThanOrEqual(cap);
    expect(full).toBeGreaterThanOrEqual(60);
    // A non-member's key.
    const outsider = generateKeyPair();
    const forged = signTx({ v: 1, chain: fx.chain.chainId, kind: 'epcis', submitter: toHex(keyId(outsider.publicKey)), time: GENESIS_TIME, events: [{ epc: 'urn:o', action: 'commission' }], eventIds: makeTx(fx, [{ epc: 'urn:o', action: 'commission' }]).eventIds }, outsider.secretKey);
    expect(await gossip.validateTx('evil', MEMBER, encodeTx(forged))).toBe('reject');
    // A member's tx from another consortium (other chain ID): replay refused.
    const other = await makeFixture();
    try {
      const foreign = makeTx(other, [{ epc: 'urn:r', action: 'commission' }], other.sealer);
      expect(await gossip.validateTx('evil', MEMBER, encodeTx(foreign))).toBe('reject');
    } finally {
      await other.close();
    }
    expect(offences.map((o) => o.code)).toEqual(expect.arrayContaining(['UNKNOWN_SUBMITTER']));
    expect(offences.length).toBe(2);
  });
});
