/**
 * What the network needs of the chain, as one narrow interface: reads for serving sync, the
 * import and admission calls the gossip validators and sync make, and tip notifications.
 * chainPort() adapts the real Chain; tests may pass fakes.
 */
import type { Chain, ImportOutcome, PreparedBlock } from '../chain/chain.js';
import type { Block, BlockLimits } from '../chain/block.js';
import { HEADER_SIZE } from '../chain/header.js';
import type { CanonicalTx } from '../chain/tx.js';
import type { Member, SignedTx } from '../chain/types.js';
import type { PeerStanding } from './gater.js';
import { LruCache } from '../common/lru.js';

export interface TipInfo {
  hash: string;
  height: number;
  chainwork: bigint;
}

export interface ChainPort {
  readonly chainId: string;
  readonly limits: BlockLimits;
  readonly finalityDepth: number;
  readonly powLimitBits: number;
  tip(): TipInfo;
  /** Height of a block we hold, on any branch (undefined if unknown or known invalid). */
  heightOf(hash: string): number | undefined;
  /** Whether the block is known to be invalid. */
  isInvalid(hash: string): boolean;
  mainHashAt(height: number): Promise<string | undefined>;
  blockBytes(hash: string): Promise<Uint8Array | undefined>;
  headerBytes(hash: string): Promise<Uint8Array | undefined>;
  /** `durable: false` skips the fsync of this connect (initial sync; see Chain.importBlock). */
  importBlockBytes(bytes: Uint8Array, opts?: { durable?: boolean }): Promise<ImportOutcome>;
  /**
   * Decode blocks and check their sealer signatures ahead of import (Chain.prepareBlocks), so
   * sync overlaps those checks with importing earlier blocks; undefined = does not decode.
   */
  prepareBlocks(bytes: readonly Uint8Array[]): Promise<(PreparedBlock | undefined)[]>;
  /** Import a prepared block: every rule runs, as for importBlockBytes. */
  importPrepared(block: PreparedBlock, opts?: { durable?: boolean }): Promise<ImportOutcome>;
  /** Admit a gossiped tx, decoded with its ID and canonical bytes (decodeCanonicalTx); throws TxError. */
  submitTx(decoded: { tx: SignedTx } & CanonicalTx): Promise<void>;
  memberOfPeer(peerId: string): Member | undefined;
  /** The registry's word on a peer ID at our tip's successor (MemberRegistry.peerStanding). */
  peerStanding(peerId: string): PeerStanding;
  /** Members other than the one whose peer ID is given. */
  otherMembers(selfPeerId: string): Member[];
  onTip(listener: (tip: TipInfo) => void): () => void;
  /** Detach from the chain. */
  dispose(): void;
}

/** Header bytes kept for serving header sync without re-reading whole blocks. */
const HEADER_CACHE = 50_000;

export function chainPort(chain: Chain): ChainPort {
  const headers = new LruCache<string, Uint8Array>(HEADER_CACHE);
  const onBlock = (block: Block): void => headers.set(block.hashHex, block.headerBytes);
  chain.on('block', onBlock);
  const tipOf = (): TipInfo => ({ hash: chain.tip.hash, height: chain.tip.height, chainwork: chain.tip.chainwork });
  return {
    chainId: chain.chainId,
    limits: chain.limits,
    finalityDepth: chain.params.finalityDepth,
    powLimitBits: chain.params.powLimitBits,
    tip: tipOf,
    heightOf(hash) {
      const e = chain.header(hash);
      return e && e.status !== 'invalid' ? e.height : undefined;
    },
    isInvalid(hash) {
      return chain.header(hash)?.status === 'invalid';
    },
    mainHashAt: (height) => chain.store.getMainHash(height),
    blockBytes: (hash) => chain.store.getBlockBytes(hash),
    async headerBytes(hash) {
      const cached = headers.get(hash);
      if (cached) return cached;
      const bytes = await chain.store.getBlockBytes(hash);
      if (!bytes || bytes.length < HEADER_SIZE) return undefined;
      const h = bytes.slice(0, HEADER_SIZE);
      headers.set(hash, h);
      return h;
    },
    importBlockBytes: (bytes, opts) => chain.importBlockBytes(bytes, opts),
    prepareBlocks: (list) => chain.prepareBlocks(list),
    importPrepared: (p, opts) => chain.importBlock(p.block, p.bytes, opts),
    async submitTx({ tx, id, bytes }) {
      await chain.submitTx(tx, { id, raw: bytes, origin: 'gossip' });
    },
    memberOfPeer: (peerId) => chain.registry.byPeerId(peerId),
    peerStanding: (peerId) => chain.registry.peerStanding(peerId),
    otherMembers: (selfPeerId) => chain.registry.members.filter((m) => m.peerId !== selfPeerId),
    onTip(listener) {
      const l = (): void => listener(tipOf());
      chain.on('tip', l);
      return () => chain.off('tip', l);
    },
    dispose() {
      chain.off('block', onBlock);
      headers.clear();
    },
  };
}
