/**
 * The journey's reads (trace/journey.ts JourneyReader) on this node's store: the history and
 * links indexes, and main-chain events through the proof reader.
 *
 * Containers' link records are kept in a small LRU cache: a case is read by the journeys of its
 * hundred packs, a pallet by a thousand, and a journey reads its containers one nesting level
 * after the other. Each entry is tagged with the chain's state stamp when it was read, and is
 * used only while the stamp is unchanged (no block connected or disconnected since), so it is
 * never stale. The traced item's own records are not cached (most items are traced once in a
 * while: caching them would only churn the cache and the heap).
 */
import type { Chain } from '../chain/chain.js';
import type { JourneyReader, Position, RoleLinkRecord } from '../trace/index.js';
import { LruCache } from './lru.js';
import { HttpProblem } from './problem.js';
import type { Provenance } from './provenance.js';

/** Budget of the containers' link-record cache (estimated bytes). */
export const CONTAINER_LINKS_CACHE_BYTES = 8 * 1024 * 1024;

interface CachedLinks {
  stamp: number;
  /** The limit of the read: records.length < limit means these are all the key's records. */
  limit: number;
  records: RoleLinkRecord[];
}

function costOf(e: CachedLinks): number {
  return 200 + 160 * e.records.length;
}

export function storeJourneyReader(chain: Chain, provenance: Provenance, cacheBytes = CONTAINER_LINKS_CACHE_BYTES): JourneyReader {
  const { store } = chain;
  const containers = new LruCache<string, CachedLinks>(cacheBytes);
  const ready = (): void => {
    // The node rebuilds the links index of an older store before it serves anything; a store
    // without it cannot say what the containers' windows were.
    if (!store.linksReady()) throw new HttpProblem(503, 'INDEX_NOT_READY', 'Index not ready', 'the links index of this store is being built; try again when the node has started');
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
    allLinks: async (key, limit, shared) => {
      ready();
      if (!shared) return store.allLinks(key, limit);
      const stamp = chain.stateStamp();
      const hit = containers.get(key);
      if (hit !== undefined && stamp !== undefined && hit.stamp === stamp && (hit.records.length < hit.limit || limit <= hit.limit)) {
        return hit.records.slice(0, limit);
      }
      const records = await store.allLinks(key, limit);
      // Kept only if no block was connected or disconnected while it was read.
      if (stamp !== undefined && chain.stateStamp() === stamp) {
        const entry: CachedLinks = { stamp, limit, records };
        containers.set(key, entry, costOf(entry));
      }
      return records;
    },
    history: (key, range) => store.history(key, { after: range.after === undefined ? undefined : { key, ...range.after, eventId: '' }, to: range.upTo, limit: range.limit }),
    event: async (at: Position) => {
      const hash = await provenance.mainHash(at.height);
      if (hash === undefined) throw new HttpProblem(500, 'STORE_DAMAGED', 'Store damaged', `no main-chain block at height ${at.height}`);
      return provenance.eventAt({ hash, height: at.height }, at.txIndex, at.eventIndex, undefined);
    },
  };
}
