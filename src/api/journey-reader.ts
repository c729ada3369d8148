/**
 * The journey's reads (trace/journey.ts JourneyReader) on this node's store: the history and
 * links indexes, and main-chain events through the proof reader.
 */
import type { Chain } from '../chain/chain.js';
import type { JourneyReader, Position } from '../trace/index.js';
import { HttpProblem } from './problem.js';
import type { Provenance } from './provenance.js';

export function storeJourneyReader(chain: Chain, provenance: Provenance): JourneyReader {
  const { store } = chain;
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
    allLinks: async (key, limit) => {
      ready();
      return store.allLinks(key, limit);
    },
    history: (key, range) => store.history(key, { after: range.after === undefined ? undefined : { key, ...range.after, eventId: '' }, to: range.upTo, limit: range.limit }),
    event: async (at: Position) => {
      const hash = await provenance.mainHash(at.height);
      if (hash === undefined) throw new HttpProblem(500, 'STORE_DAMAGED', 'Store damaged', `no main-chain block at height ${at.height}`);
      return provenance.eventAt({ hash, height: at.height }, at.txIndex, at.eventIndex, undefined);
    },
  };
}
