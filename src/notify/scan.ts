/**
 * The next events a subscription may deliver: the stored query run by the GET /events engine
 * (api/query.ts runQuery, resumed after the cursor through its page token), cut at the highest
 * block with enough confirmations. Only main-chain blocks at or below that height are read, so
 * an event on a branch that is reorganised away before it has its confirmations is never seen.
 */
import type { Chain } from '../chain/chain.js';
import type { SignedTx } from '../chain/types.js';
import { decodePageToken, parseQuery, runQuery, type EventReader, type Position, type QueryHit, type QueryLimits, type RawQuery } from '../api/query.js';

/** Past every event of block `height`. */
export function endOf(height: number): Position {
  return { height, txIndex: 0xffffffff, eventIndex: 0xffffffff };
}

export function comparePositions(a: Position, b: Position): number {
  return a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex;
}

/** The highest height whose blocks have `confirmations` (tip = 1 confirmation); -1 when none. */
export function deliverableHeight(tipHeight: number, confirmations: number): number {
  return tipHeight - Math.max(1, confirmations) + 1;
}

export interface Batch {
  hits: QueryHit[];
  /** Every event up to here has been examined (the cursor may move here when `hits` is empty). */
  scannedTo: Position;
}

/**
 * Reads events of main-chain blocks from the store. Events come in chain order, so the last tx
 * read is kept: a batch over one tx's events reads and parses it once.
 */
export function storeEventReader(chain: Chain): EventReader {
  let last: { hash: string; txIndex: number; tx: SignedTx } | undefined;
  return async (pos, eventId) => {
    const hash = await chain.store.getMainHash(pos.height);
    let tx = last !== undefined && last.hash === hash && last.txIndex === pos.txIndex ? last.tx : undefined;
    if (tx === undefined) {
      const bytes = hash === undefined ? undefined : await chain.store.getBlockTx(hash, pos.txIndex);
      if (hash === undefined || bytes === undefined) throw new Error(`event ${eventId ?? '?'}: no main-chain tx at ${pos.height}/${pos.txIndex}`);
      tx = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as SignedTx;
      last = { hash, txIndex: pos.txIndex, tx };
    }
    const event = tx.events[pos.eventIndex] as Record<string, unknown> | undefined;
    const id = tx.eventIds[pos.eventIndex];
    if (event === undefined || id === undefined || (eventId !== undefined && id !== eventId)) throw new Error(`event ${eventId ?? '?'}: not at ${pos.height}/${pos.txIndex}/${pos.eventIndex}`);
    return { eventId: id, event };
  };
}

/**
 * At most `max` matching events after `after` and at or below `maxHeight`, in chain order. An
 * empty result with scannedTo past `after` means: nothing matched up to scannedTo.
 */
export async function nextBatch(chain: Chain, query: RawQuery, after: Position, maxHeight: number, max: number, limits: QueryLimits): Promise<Batch> {
  if (maxHeight < 0 || comparePositions(after, endOf(maxHeight)) >= 0) return { hits: [], scannedTo: after };
  const { fingerprint } = parseQuery(query);
  const page = await runQuery(chain, { ...query, perPage: max }, limits, storeEventReader(chain), after);
  const cut = endOf(Math.min(maxHeight, chain.tip.height));
  const hits = page.events.filter((h) => h.position.height <= maxHeight);
  if (hits.length < page.events.length) return { hits, scannedTo: cut };
  if (hits.length >= max) return { hits, scannedTo: (hits[hits.length - 1] as QueryHit).position };
  if (page.nextPageToken !== undefined) {
    const examined = decodePageToken(page.nextPageToken, fingerprint);
    return { hits, scannedTo: comparePositions(examined, cut) < 0 ? examined : cut };
  }
  return { hits, scannedTo: comparePositions(after, cut) < 0 ? cut : after };
}
