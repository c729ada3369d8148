/**
 * The journey's reads (trace/journey.ts JourneyReader) on this node's store: the history and
 * links indexes, and main-chain events through the proof reader.
 *
 * What journeys share is kept in a small LRU cache: containers' link records and the history
 * ranges of container windows and class keys. A case is read by the journeys of its hundred packs,
 * a pallet by a thousand, a lot by all its packs, and a journey reads its containers one nesting
 * level after the other. Each entry is tagged with the chain's state stamp when it was read and
 * used only while the stamp is unchanged (no block connected or disconnected since), so it is
 * never stale. The traced item's own records are not cached (most items are traced once in a
 * while: caching them would only churn the cache and the heap).
 */
import type { Chain } from '../chain/chain.js';
import type { HistoryRef, JourneyReader, Position, RoleLinkRecord } from '../trace/index.js';
import { LruCache } from '../common/lru.js';
import { HttpProblem, storeDamaged } from './problem.js';
import type { Provenance } from './provenance.js';

/** Budget of the shared-reads cache (estimated bytes). */
export const SHARED_READS_CACHE_BYTES = 8 * 1024 * 1024;

interface CachedLinks {
  stamp: number;
  /** The limit of the read: records.length < limit means these are all the key's records. */
  limit: number;
  records: RoleLinkRecord[];
}

interface CachedHistory {
  stamp: number;
  refs: HistoryRef[];
}

type Cached = { links: CachedLinks } | { history: CachedHistory };

const ENTRY_COST = 200;
const RECORD_COST = 160;

const pos = (p: Position | undefined): string => (p === undefined ? '-' : `${p.height}.${p.txIndex}.${p.eventIndex}`);

export function storeJourneyReader(chain: Chain, provenance: Provenance, cacheBytes = SHARED_READS_CACHE_BYTES): JourneyReader {
  const { store } = chain;
  const shared = new LruCache<string, Cached>(cacheBytes);
  /** Read through the cache: kept only if no block was connected or disconnected while it was read. */
  const cached = async <T>(key: string, valid: (c: Cached, stamp: number) => T | undefined, read: () => Promise<T>, entry: (stamp: number, v: T) => [Cached, number]): Promise<T> => {
    const stamp = chain.stateStamp();
    const hit = shared.get(key);
    if (hit !== undefined && stamp !== undefined) {
      const v = valid(hit, stamp);
      if (v !== undefined) return v;
    }
    const value = await read();
    if (stamp !== undefined && chain.stateStamp() === stamp) {
      const [e, cost] = entry(stamp, value);
      shared.set(key, e, cost);
    }
    return value;
  };
  const ready = (): void => {
    // The node rebuilds the links index of an older store before it serves anything; a store
    // without it cannot say what the containers' windows were.
    if (!store.linksReady()) throw new HttpProblem('INDEX_NOT_READY', 'the links index of this store is being built; try again when the node has started');
  };
  return {
    links: async (key, role, range) => {
      ready();
      return store.links(key, role, range);
    },
    linksBefore: async (key, role, at, limit) => {
      ready();
      return store.linksBefore(key, role, at, limit);
    },
    allLinks: async (key, limit, isShared) => {
      ready();
      if (!isShared) return store.allLinks(key, limit);
      return cached(
        `links ${key}`,
        (c, stamp) => ('links' in c && c.links.stamp === stamp && (c.links.records.length < c.links.limit || limit <= c.links.limit) ? c.links.records.slice(0, limit) : undefined),
        () => store.allLinks(key, limit),
        (stamp, records) => [{ links: { stamp, limit, records } }, ENTRY_COST + RECORD_COST * records.length],
      );
    },
    history: async (key, range, isShared) => {
      const read = (): Promise<HistoryRef[]> =>
        store.history(key, { after: range.after === undefined ? undefined : { key, ...range.after, eventId: '' }, to: range.upTo, limit: range.limit });
      if (!isShared) return read();
      return cached(
        `history ${key} ${pos(range.after)} ${pos(range.upTo)} ${range.limit}`,
        (c, stamp) => ('history' in c && c.history.stamp === stamp ? c.history.refs.slice() : undefined),
        read,
        (stamp, refs) => [{ history: { stamp, refs } }, ENTRY_COST + RECORD_COST * refs.length],
      );
    },
    event: async (at: Position) => {
      const hash = await provenance.mainHash(at.height);
      if (hash === undefined) throw storeDamaged(`no main-chain block at height ${at.height}`);
      return provenance.eventAt({ hash, height: at.height }, at.txIndex, at.eventIndex, undefined);
    },
  };
}
