/**
 * The private body exchange (p2p/private-bodies.ts) between three members over in-memory libp2p
 * streams, with trace's entitlement and reveal rules: the wholesaler named as destination gets the
 * shipment's body, the pharmacy gets nothing from anyone, a body that does not open its
 * commitment is refused and its sender scored down, and a node that lost its cursors (a restart)
 * catches up from any entitled holder.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { streamPair } from '@libp2p/utils';
import type { Stream } from '@libp2p/interface';
import type { Member } from '../../../src/chain/types.js';
import { PrivateBodyExchange, type PrivateBodyRules, type PrivateEntry } from '../../../src/p2p/private-bodies.js';
import { LevelPrivateBodyStore } from '../../../src/storage/private-bodies.js';
import { bodyTextProblem, eventIdOfText, isEntitledToText } from '../../../src/trace/entitlement.js';
import { canonicalEventText, commitmentOf, projectionOf } from '../../../src/trace/private-event.js';
import { eventIdOf, type JsonObject } from '../../../src/trace/index.js';
import { member } from '../trace/helpers.js';
import { tempDir } from '../storage/helpers.js';

const GLN_FROM = 'urn:epc:id:sgln:0614141.00001.0';
const GLN_TO = 'urn:epc:id:sgln:0614141.00002.0';
const maker: Member = { ...member('manufacturer', 'maker', ['0614141']), parties: [GLN_FROM] };
const wholesaler: Member = { ...member('wholesaler', 'wholesaler'), parties: ['urn:epc:id:pgln:0614141.00002'] };
const pharmacy: Member = { ...member('pharmacy', 'pharmacy'), parties: ['urn:epc:id:sgln:0614141.00003.0'] };
const byPeer = new Map([maker, wholesaler, pharmacy].map((m) => [m.peerId, m]));

let n = 0;
function shipment(): { event: JsonObject; salt: string; commitment: string; eventText: string } {
  n++;
  const event: JsonObject = {
    type: 'ObjectEvent',
    eventTime: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
    eventTimeZoneOffset: '+00:00',
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    epcList: [`urn:epc:id:sgtin:0614141.107346.${n}`],
    bizTransactionList: [{ type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000010:PO-1' }],
    sourceList: [{ type: 'owning_party', source: GLN_FROM }],
    destinationList: [{ type: 'owning_party', destination: GLN_TO }],
  };
  const saltBytes = new Uint8Array(32).fill(n);
  return { event, salt: Buffer.from(saltBytes).toString('hex'), commitment: commitmentOf(event, saltBytes), eventText: canonicalEventText(event) };
}

/** The main chain every node sees: commitment → projection and submitter. */
const onChain = new Map<string, PrivateEntry>();
/** Commitments whose tx waits in the mempool. */
const pending = new Set<string>();
const rules: PrivateBodyRules = { lookup: async (c) => onChain.get(c) ?? (pending.has(c) ? 'pending' : undefined), entitled: isEntitledToText, check: bodyTextProblem, eventIdOf: eventIdOfText };

interface TestNode {
  self: Member;
  store: LevelPrivateBodyStore;
  exchange: PrivateBodyExchange;
  handler?: (stream: Stream, peerId: string) => void;
}

const nodes = new Map<string, TestNode>();
const penalties: { by: string; peer: string; detail: string }[] = [];
const cleanups: (() => Promise<void>)[] = [];

async function node(self: Member, nodeRules: PrivateBodyRules = rules): Promise<TestNode> {
  const { dir, cleanup } = await tempDir();
  const store = await LevelPrivateBodyStore.open(dir);
  cleanups.push(async () => {
    await store.close();
    await cleanup();
  });
  return start(self, store, nodeRules);
}

async function start(self: Member, store: LevelPrivateBodyStore, nodeRules: PrivateBodyRules = rules): Promise<TestNode> {
  const t: TestNode = { self, store } as TestNode;
  t.exchange = new PrivateBodyExchange(
    { chainId: '00'.repeat(32), self: () => self, intervalMs: 3_600_000, batch: 2, timeoutMs: 5_000, maxEventBytes: 64 * 1024 },
    {
      store,
      rules: nodeRules,
      transport: {
        handle: async (_protocol, handler) => void (t.handler = handler),
        dial: async (peer, protocol) => {
          const target = nodes.get(peer);
          if (target?.handler === undefined) throw new Error(`${peer} is not connected`);
          const [outbound, inbound] = await streamPair({ protocol });
          target.handler(inbound, self.peerId);
          return outbound;
        },
        connectedPeers: () => [...nodes.keys()].filter((p) => p !== self.peerId),
        memberOfPeer: (peer) => byPeer.get(peer),
        penalize: (peer, detail) => void penalties.push({ by: self.id, peer, detail }),
      },
      clock: () => 1_000,
      logger: pino({ level: 'silent' }),
    },
  );
  await t.exchange.start();
  nodes.set(self.peerId, t);
  return t;
}

/** The maker captured a shipment: its body is in the maker's store and its projection on chain. */
async function capture(at: TestNode, onChainToo = true): Promise<ReturnType<typeof shipment>> {
  const s = shipment();
  await at.store.put([s], 1_000);
  if (onChainToo) onChain.set(s.commitment, { projection: projectionOf(s.event) as unknown as Record<string, unknown>, submitter: at.self.id });
  return s;
}

beforeEach(() => {
  nodes.clear();
  onChain.clear();
  pending.clear();
  penalties.length = 0;
});
afterEach(async () => {
  for (const t of nodes.values()) t.exchange.stop();
  for (const c of cleanups.splice(0)) await c();
});

describe('private body exchange', () => {
  it('the destination party gets every body (paged), the pharmacy gets none from the maker or the wholesaler', async () => {
    const [m, w, p] = [await node(maker), await node(wholesaler), await node(pharmacy)];
    const shipped = [await capture(m), await capture(m), await capture(m)];
    expect(await w.exchange.pull(maker.peerId)).toEqual({ stored: 3, refused: 0 });
    for (const s of shipped) expect((await w.store.get(s.commitment))?.eventText).toBe(s.eventText);
    // kept with its CBV 2.0 event ID, so the wholesaler's node finds a capture of the same event
    expect(await w.store.commitmentsOfEvents(shipped.map((s) => eventIdOf(s.event)))).toEqual(shipped.map((s) => s.commitment));
    expect(await p.exchange.pull(maker.peerId)).toEqual({ stored: 0, refused: 0 });
    expect(await p.exchange.pull(wholesaler.peerId)).toEqual({ stored: 0, refused: 0 });
    expect(await p.store.count()).toBe(0);
    expect(penalties).toEqual([]);
  });

  it('a non-entitled node that would keep anything it is sent still gets nothing: the holder decides', async () => {
    const [m] = [await node(maker)];
    const greedy = await node(pharmacy, { ...rules, entitled: (who, text, submitter) => who.id === pharmacy.id || isEntitledToText(who, text, submitter) });
    await capture(m);
    expect(await greedy.exchange.pull(maker.peerId)).toEqual({ stored: 0, refused: 0 });
    expect(await greedy.store.count()).toBe(0);
  });

  it('a holder that sends a body not opening its commitment is refused and scored down; nothing is stored', async () => {
    const [m, w] = [await node(maker), await node(wholesaler)];
    const s = shipment();
    onChain.set(s.commitment, { projection: projectionOf(s.event) as unknown as Record<string, unknown>, submitter: maker.id });
    // The maker's store holds a changed quantity under the commitment (a lying or damaged holder).
    await m.store.put([{ ...s, eventText: s.eventText.replace('PO-1', 'PO-2') }], 1_000);
    expect(await w.exchange.pull(maker.peerId)).toEqual({ stored: 0, refused: 1 });
    expect(await w.store.has(s.commitment)).toBe(false);
    expect(penalties).toHaveLength(1);
    expect(penalties[0]).toMatchObject({ by: wholesaler.id, peer: maker.peerId });
    expect(penalties[0]?.detail).toMatch(/COMMITMENT_MISMATCH/);
  });

  it('a body whose tx is still pending waits; it is fetched once the tx is in a block', async () => {
    const [m, w] = [await node(maker), await node(wholesaler)];
    const s = await capture(m, false);
    pending.add(s.commitment);
    expect(await w.exchange.pull(maker.peerId)).toEqual({ stored: 0, refused: 0 });
    pending.delete(s.commitment);
    onChain.set(s.commitment, { projection: projectionOf(s.event) as unknown as Record<string, unknown>, submitter: maker.id });
    expect(await w.exchange.pull(maker.peerId)).toEqual({ stored: 1, refused: 0 });
  });

  it('a kept body whose capture was refused (never on chain, not pending) is never sent and holds nothing up', async () => {
    const [m, w] = [await node(maker), await node(wholesaler)];
    const orphan = await capture(m, false);
    const later = await capture(m);
    expect(await w.exchange.pull(maker.peerId)).toEqual({ stored: 1, refused: 0 });
    expect(await w.store.has(later.commitment)).toBe(true);
    expect(await w.store.has(orphan.commitment)).toBe(false);
  });

  it('a node that was down (cursors lost) catches up from another entitled holder, not only the submitter', async () => {
    const [m, w] = [await node(maker), await node(wholesaler)];
    const a = await capture(m);
    expect((await w.exchange.pull(maker.peerId)).stored).toBe(1);
    // A regulator's node, started later, asks the wholesaler (the maker is gone).
    nodes.delete(maker.peerId);
    const regulator: Member = { ...member('regulator', 'regulator'), peerId: 'peer-regulator' };
    byPeer.set(regulator.peerId, regulator);
    const r = await node(regulator);
    expect(await r.exchange.pull(wholesaler.peerId)).toEqual({ stored: 1, refused: 0 });
    expect((await r.store.get(a.commitment))?.salt).toBe(a.salt);
    // The wholesaler restarts with a fresh exchange: nothing is taken twice.
    w.exchange.stop();
    const w2 = await start(wholesaler, w.store);
    expect(await w2.exchange.pull(regulator.peerId)).toEqual({ stored: 0, refused: 0 });
  });
});
