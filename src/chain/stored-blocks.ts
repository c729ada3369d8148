/**
 * Reading stored blocks back, checked: the bytes must decode, the header must hash to the key
 * they are stored under and the txs to the header's merkle root (flipped bytes on disk are
 * never served or connected). The last few blocks imported are kept decoded, so connecting a
 * block right after storing it, or serving the tip, does not decode it again.
 */
import { StoreDamagedError } from '../common/errors.js';
import { decodeBlock, type Block, type BlockLimits } from './block.js';
import { merkleRoot } from './merkle.js';
import { equalBytes } from '../common/bytes.js';
import type { ChainStore } from './store.js';

/** Blocks kept decoded (the tip and its parents are what connects and readers ask for most). */
const RECENT = 16;

export class StoredBlocks {
  private readonly recent = new Map<string, Block>();

  constructor(
    private readonly store: Pick<ChainStore, 'getBlockBytes'>,
    private readonly limits: BlockLimits,
    /** The genesis hash: the genesis block commits to the consortium document, not to txs. */
    private readonly chainId: string,
  ) {}

  /** Keep a block just imported (checked on import) decoded. */
  remember(block: Block): void {
    this.recent.set(block.hashHex, block);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
  }

  /** A stored block, or undefined if none is stored under the hash. Throws StoreDamagedError. */
  async get(hash: string): Promise<Block | undefined> {
    const cached = this.recent.get(hash);
    if (cached) return cached;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.store.getBlockBytes(hash);
    } catch (err) {
      // Stored bytes the store cannot read back (code CORRUPTION: e.g. a compact block's tx record
      // that fails its checksum) are this block's damage, named as such; I/O failures pass.
      if (err instanceof Error && (err as { code?: unknown }).code === 'CORRUPTION') throw new StoreDamagedError(hash, `does not read: ${err.message}`);
      throw err;
    }
    return bytes ? this.decodeStored(hash, bytes) : undefined;
  }

  /** A block the header index says is stored: StoreDamagedError if it is not (or not that block). */
  async read(hash: string): Promise<Block> {
    const block = await this.get(hash);
    if (!block) throw new StoreDamagedError(hash, 'is in the header index but not stored');
    return block;
  }

  private decodeStored(hash: string, bytes: Uint8Array): Block {
    let block: Block;
    try {
      block = decodeBlock(bytes, this.limits);
    } catch (err) {
      throw new StoreDamagedError(hash, `does not decode: ${(err as Error).message}`);
    }
    if (block.hashHex !== hash) throw new StoreDamagedError(hash, `is stored with a header that hashes to ${block.hashHex}`);
    if (hash !== this.chainId && !equalBytes(merkleRoot(block.txIds), block.header.merkleRoot)) {
      throw new StoreDamagedError(hash, 'has txs that do not hash to its merkle root');
    }
    return block;
  }
}
