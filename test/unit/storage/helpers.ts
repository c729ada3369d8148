/** Test helpers: temp dirs, fake blocks, and a tiny stand-in for the chain's connect logic. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBlock, makeBlock, type Block } from '../../../src/chain/block.js';
import { toHex } from '../../../src/common/bytes.js';
import { sha256 } from '../../../src/chain/sha256.js';
import type { Header } from '../../../src/chain/header.js';
import type { ConnectBatch, DisconnectBatch, EpcHistoryEntry, HeaderEntry, LinkEntry, LotKey, StoredItem, UndoRecord } from '../../../src/chain/store.js';
import type { SignedTx } from '../../../src/chain/types.js';
import type { LevelChainStore } from '../../../src/storage/level-store.js';
import { BUCKET_NAMES, type BucketName } from '../../../src/storage/repositories.js';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'tracechain-storage-'));
  return { dir: join(base, 'chain'), cleanup: () => rm(base, { recursive: true, force: true }) };
}

const enc = new TextEncoder();
export const hexOf = (s: string): string => toHex(sha256(enc.encode(s)));
export const eventIdOf = (s: string): string => `ni:///sha-256;${hexOf(s)}?ver=CBV2.0`;

/** A fake event: the item keys it touches and, optionally, a lot it recalls. */
export interface FakeEvent {
  items: string[];
  recall?: LotKey;
}

export function fakeTx(tag: string, events: FakeEvent[]): SignedTx {
  return {
    v: 1,
    chain: hexOf('chain'),
    kind: 'epcis',
    submitter: hexOf('member').slice(0, 40),
    time: 1_700_000_000_000,
    events: events.map((e, i) => ({ type: 'ObjectEvent', tag: `${tag}/${i}`, epcList: e.items, ...(e.recall ? { recall: e.recall } : {}) })),
    eventIds: events.map((_, i) => eventIdOf(`${tag}/${i}`)),
    sig: (hexOf(tag) + hexOf(tag + 'sig')).slice(0, 128),
  };
}

export function fakeBlock(height: number, prev: Block | undefined, txs: SignedTx[], salt = ''): Block {
  const header: Header = {
    version: 1,
    height,
    prevHash: prev ? prev.hash : new Uint8Array(32),
    merkleRoot: sha256(enc.encode(`merkle ${height} ${salt}`)),
    sealer: new Uint8Array(20).fill(7),
    time: 1_700_000_000_000 + height * 2000,
    bits: 0x207fffff,
    nonce: BigInt(height),
  };
  return makeBlock(header, new Uint8Array(64).fill(9), txs);
}

export function entryOf(block: Block, chainwork = BigInt(block.header.height + 1)): HeaderEntry {
  return {
    hash: block.hashHex,
    height: block.header.height,
    prevHash: toHex(block.header.prevHash),
    time: block.header.time,
    bits: block.header.bits,
    chainwork,
    status: 'stored',
  };
}

function eventsOf(tx: SignedTx): FakeEvent[] {
  return tx.events.map((e) => {
    const ev: FakeEvent = { items: e.epcList as string[] };
    if (e.recall !== undefined) ev.recall = e.recall as LotKey;
    return ev;
  });
}

/**
 * What the chain would hand storage to connect `block` on top of the store's current state:
 * every touch of an item gets its own undo entry (so repeated keys exercise undo ordering).
 */
export async function connectBatchFor(store: LevelChainStore, block: Block): Promise<ConnectBatch> {
  const height = block.header.height;
  const items = new Map<string, StoredItem>();
  const lots = new Map<string, LotKey>();
  const undo: UndoRecord = { items: [], lots: [] };
  const history: EpcHistoryEntry[] = [];
  const links: LinkEntry[] = [];
  const events: ConnectBatch['events'] = [];
  for (const [t, tx] of block.txs.entries()) {
    for (const [e, ev] of eventsOf(tx).entries()) {
      const eventId = tx.eventIds[e] as string;
      events.push({ eventId, loc: { txId: toHex(block.txIds[t] as Uint8Array), index: e } });
      for (const key of ev.items) {
        history.push({ key, height, txIndex: t, eventIndex: e, eventId });
        // Link records of each kind: the first item goes into a box, the others leave; the box is emptied.
        if (key === ev.items[0]) links.push({ key, kind: 'in', other: `box/${height}`, height, txIndex: t, eventIndex: e });
        else links.push({ key, kind: 'left', height, txIndex: t, eventIndex: e });
        const prev = items.get(key) ?? (await store.getItem(key)) ?? null;
        undo.items.push({ key, prev });
        const n = typeof prev?.touches === 'number' ? prev.touches : 0;
        items.set(key, { key, status: 'active', touches: n + 1, last: eventId });
      }
      if (ev.recall) {
        const k = `${ev.recall.gtin}\u0000${ev.recall.lot}`;
        const prev = lots.has(k) || (await store.isLotRecalled(ev.recall));
        undo.lots.push({ lot: ev.recall, prev });
        lots.set(k, ev.recall);
      }
    }
  }
  return {
    block,
    txLocations: block.txIds.map((id, index) => ({ txId: toHex(id), loc: { blockHash: block.hashHex, height, index } })),
    events,
    history,
    terms: [],
    links,
    items: [...items.values()],
    recalledLots: [...lots.values()],
    undo,
  };
}

export function disconnectBatchFor(c: ConnectBatch, parent: Block): DisconnectBatch {
  return {
    block: c.block,
    txIds: c.txLocations.map((t) => t.txId),
    eventIds: c.events.map((e) => e.eventId),
    history: c.history,
    terms: c.terms,
    links: c.links,
    undo: c.undo,
    newTip: { hash: parent.hashHex, height: parent.header.height },
  };
}

/** Every key and value of the given buckets (default: all but blocks and header index), as hex. */
export async function dump(store: LevelChainStore, buckets: readonly BucketName[] = BUCKET_NAMES.filter((b) => !['blocks', 'headers', 'blockTxs', 'blockTxIds'].includes(b))): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of buckets) {
    for await (const [k, v] of store.repositories.byName(name).rawEntries()) out.set(`${name}:${toHex(k)}`, toHex(v));
  }
  return out;
}

export const GENESIS_JSON = '{"v":1,"name":"test consortium"}';

export async function withGenesis(store: LevelChainStore): Promise<Block> {
  const genesis = fakeBlock(0, undefined, []);
  await store.putGenesis(GENESIS_JSON, genesis, entryOf(genesis));
  return genesis;
}

/** putBlock + connect, as the chain does on import. */
export async function extend(store: LevelChainStore, block: Block): Promise<ConnectBatch> {
  await store.putBlock(block, encodeBlock(block), entryOf(block));
  const batch = await connectBatchFor(store, block);
  await store.connect(batch);
  return batch;
}
