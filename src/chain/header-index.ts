/**
 * A stage of block import: the header index and the retarget context.
 *
 * Every stored block's header entry (height, cumulative work, status) in memory, the candidate
 * tips fork choice looks at (valid entries with no valid child), the path between two tips
 * (what a reorg disconnects and connects), and what the consensus rules need to know of a
 * parent: its median time past and the bits the retarget rule requires of its child. Pure: the
 * Chain loads it from the store at open and writes back every entry it changes.
 */
import { StoreDamagedError } from '../common/errors.js';
import { genesisBlock } from './genesis.js';
import { toHex } from '../common/bytes.js';
import type { HeaderEntry } from './store.js';
import type { ConsortiumParams, Genesis } from './types.js';
import { targetFromBits } from '../consensus/target.js';
import { workFromTarget } from '../consensus/work.js';
import { anchorAfter, genesisAnchor, nextBits, type AsertAnchor } from '../consensus/retarget.js';
import { medianTimePast } from '../consensus/block-time.js';

const MTP_SPAN = 11;

/** What a reorg from one tip to another does: disconnect down to the fork, then connect up. */
export interface ReorgPath {
  fork: HeaderEntry;
  /** From the old tip down, each the tip when it is disconnected. */
  disconnect: HeaderEntry[];
  /** From just above the fork up to the new tip. */
  connect: HeaderEntry[];
}

/** The genesis block's header entry (its work counts towards every chain). */
export function genesisEntryOf(genesis: Genesis): HeaderEntry {
  const block = genesisBlock(genesis);
  return {
    hash: block.hashHex,
    height: 0,
    prevHash: toHex(block.header.prevHash),
    time: block.header.time,
    bits: block.header.bits,
    chainwork: workFromTarget(targetFromBits(block.header.bits)),
    status: 'stored',
  };
}

/** A child's header entry: its parent's chainwork plus its own. */
export function childEntry(parent: HeaderEntry, child: { hash: string; height: number; prevHash: string; time: number; bits: number }): HeaderEntry {
  return { ...child, chainwork: parent.chainwork + workFromTarget(targetFromBits(child.bits)), status: 'stored' };
}

export class HeaderIndex {
  private readonly headers = new Map<string, HeaderEntry>();
  /** Hashes of valid blocks with no valid child: where fork choice looks for the best chain. */
  private readonly candidates = new Set<string>();
  /** Memo of each header's retarget anchor (one small object per header, like the index). */
  private readonly anchors = new Map<string, AsertAnchor>();
  private readonly params: ConsortiumParams;

  /** The stored entries (any order; genesis is added if missing), candidate tips computed from them. */
  constructor(
    private readonly genesis: Genesis,
    readonly genesisEntry: HeaderEntry,
    stored: Iterable<HeaderEntry>,
  ) {
    this.params = genesis.params;
    for (const e of stored) this.headers.set(e.hash, e);
    this.headers.set(genesisEntry.hash, genesisEntry);
    const hasValidChild = new Set<string>();
    for (const e of this.headers.values()) if (e.status === 'stored') hasValidChild.add(e.prevHash);
    for (const e of this.headers.values()) if (e.status === 'stored' && !hasValidChild.has(e.hash)) this.candidates.add(e.hash);
  }

  get(hash: string): HeaderEntry | undefined {
    return this.headers.get(hash);
  }

  get size(): number {
    return this.headers.size;
  }

  /** Add a stored, valid entry; it replaces its parent as a candidate tip. */
  add(entry: HeaderEntry): void {
    this.headers.set(entry.hash, entry);
    this.candidates.delete(entry.prevHash);
    this.candidates.add(entry.hash);
  }

  /**
   * Mark an entry invalid, and every indexed descendant with it (so a candidate tip is valid
   * exactly when its status says so); its parent becomes a candidate tip again. Returns the
   * entries changed, the block's first, for the caller to store.
   */
  markInvalid(entry: HeaderEntry, code: string): HeaderEntry[] {
    const bad: HeaderEntry[] = [{ ...entry, status: 'invalid', invalidCode: code }];
    for (const leaf of [...this.candidates]) {
      const path: HeaderEntry[] = [];
      let e = this.headers.get(leaf);
      while (e && e.height > entry.height) {
        path.push(e);
        e = this.headers.get(e.prevHash);
      }
      if (e?.hash === entry.hash) for (const d of path) bad.push({ ...d, status: 'invalid', invalidCode: 'INVALID_ANCESTOR' });
    }
    for (const b of bad) {
      this.headers.set(b.hash, b);
      this.candidates.delete(b.hash);
    }
    if (this.headers.get(entry.prevHash)?.status === 'stored') this.candidates.add(entry.prevHash);
    return bad;
  }

  /** Best valid candidate tip: most chainwork; on a tie `tip` (the first seen) stays. */
  best(tip: HeaderEntry): HeaderEntry {
    let best = tip;
    for (const hash of this.candidates) {
      const e = this.headers.get(hash);
      if (e && e.status === 'stored' && e.chainwork > best.chainwork) best = e;
    }
    return best;
  }

  /** The parent entry of an indexed entry; a missing one means the stored index is damaged. */
  parentOf(entry: HeaderEntry): HeaderEntry {
    const p = this.headers.get(entry.prevHash);
    if (!p) throw new StoreDamagedError(entry.hash, 'has no parent in the header index (run tracechain reindex)');
    return p;
  }

  /** The way from tip `from` to tip `to`, through their last common ancestor. */
  pathBetween(from: HeaderEntry, to: HeaderEntry): ReorgPath {
    const connect: HeaderEntry[] = [];
    const disconnect: HeaderEntry[] = [];
    let a = from;
    let b = to;
    while (b.height > a.height) {
      connect.push(b);
      b = this.parentOf(b);
    }
    while (a.height > b.height) {
      disconnect.push(a);
      a = this.parentOf(a);
    }
    while (a.hash !== b.hash) {
      disconnect.push(a);
      connect.push(b);
      a = this.parentOf(a);
      b = this.parentOf(b);
    }
    connect.reverse();
    return { fork: a, disconnect, connect };
  }

  /** Ancestor of an entry at a given height (walks the index). */
  ancestor(entry: HeaderEntry, height: number): HeaderEntry | undefined {
    let e: HeaderEntry | undefined = entry;
    while (e && e.height > height) e = this.headers.get(e.prevHash);
    return e && e.height === height ? e : undefined;
  }

  /** Median of the times of `entry` and up to 10 of its ancestors. */
  medianTimePast(entry: HeaderEntry): number {
    const times: number[] = [];
    let e: HeaderEntry | undefined = entry;
    for (let i = 0; i < MTP_SPAN && e; i++) {
      times.push(e.time);
      e = e.height === 0 ? undefined : this.headers.get(e.prevHash);
    }
    return medianTimePast(times);
  }

  /** The retarget anchor the children of `entry` use (genesis, or the last block after an outage). */
  anchorFor(entry: HeaderEntry): AsertAnchor {
    const path: HeaderEntry[] = [];
    let e: HeaderEntry | undefined = entry;
    let anchor: AsertAnchor | undefined;
    while (e) {
      anchor = e.height === 0 ? genesisAnchor(this.genesis) : this.anchors.get(e.hash);
      if (anchor) break;
      path.push(e);
      e = this.headers.get(e.prevHash);
    }
    if (!anchor) throw new StoreDamagedError(entry.hash, 'has no chain of parents to genesis in the header index (run tracechain reindex)');
    for (let i = path.length - 1; i >= 0; i--) {
      const cur = path[i] as HeaderEntry;
      const parent = this.headers.get(cur.prevHash) as HeaderEntry;
      anchor = anchorAfter(this.params, anchor, cur, parent.time);
      this.anchors.set(cur.hash, anchor);
    }
    return anchor;
  }

  /** Bits the retarget rule requires for a child of `parent`. */
  nextBitsAfter(parent: HeaderEntry): number {
    return nextBits(this.params, this.anchorFor(parent), { height: parent.height, time: parent.time });
  }
}
