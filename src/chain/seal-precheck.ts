/**
 * A stage of block import, run ahead of it (sync's head start): decode blocks and verify their sealer signatures
 * ahead of import, on the verifier's worker threads when it has them, while earlier blocks
 * import. A signature that verifies is remembered (bounded, oldest dropped first) so the header
 * check skips only that one Ed25519 verify, for the same hash and the same signature bytes; a
 * bad one is not remembered, so the import rejects it with BAD_SEALER_SIGNATURE as always.
 */
import type { Logger } from 'pino';
import { BlockError } from '../common/errors.js';
import { decodeBlock, type Block, type BlockLimits } from './block.js';
import { equalBytes, toHex } from '../common/bytes.js';
import type { TxVerifier } from './tx-verifier.js';

/** A block decoded (and its sealer signature checked, where the verifier can) ahead of import: Chain.prepareBlocks. */
export interface PreparedBlock {
  readonly block: Block;
  readonly bytes: Uint8Array;
}

/** Sealer signatures verified ahead of import and not yet imported: at most this many (sync's window is 1,024 blocks). */
const SEAL_CHECKED_MAX = 4_096;

export class SealPrecheck {
  /** Block hash → the sealer signature verified for it, oldest first. */
  private readonly checked = new Map<string, Uint8Array>();
  private closed = false;

  constructor(
    private readonly limits: BlockLimits,
    private readonly verifier: Pick<TxVerifier, 'verifySeals'>,
    private readonly log: Logger,
  ) {}

  /**
   * Decode each of `list` (undefined where the bytes do not decode: importing them reports why)
   * and verify the seals of those `known` does not name. A verifier failure only costs the head start.
   */
  async prepare(list: readonly Uint8Array[], known: (hash: string) => boolean): Promise<(PreparedBlock | undefined)[]> {
    const prepared = list.map((bytes): PreparedBlock | undefined => {
      try {
        return { block: decodeBlock(bytes, this.limits), bytes };
      } catch (err) {
        if (err instanceof BlockError) return undefined;
        throw err;
      }
    });
    const { verifier } = this;
    const todo = prepared.filter((p): p is PreparedBlock => p !== undefined && !known(p.block.hashHex));
    if (!verifier.verifySeals || todo.length === 0 || this.closed) return prepared;
    let valid: boolean[];
    try {
      // Copies, so posting them to a worker never clones a larger buffer they might view.
      const seals = todo.map((p) => ({ hash: p.block.hash.slice(), sealer: toHex(p.block.header.sealer), signature: p.block.signature.slice() }));
      valid = await verifier.verifySeals(seals);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, blocks: todo.length }, 'sealer signatures not checked ahead; import checks them');
      return prepared;
    }
    todo.forEach((p, i) => {
      if (valid[i] !== true) return;
      this.checked.delete(p.block.hashHex);
      this.checked.set(p.block.hashHex, p.block.signature.slice()); // a copy: not a view pinning the block's bytes
      if (this.checked.size > SEAL_CHECKED_MAX) this.checked.delete(this.checked.keys().next().value as string);
    });
    return prepared;
  }

  /** Whether this block's seal was verified ahead (same hash, same signature bytes); forgets it either way. */
  take(block: Block): boolean {
    const sig = this.checked.get(block.hashHex);
    this.checked.delete(block.hashHex);
    return sig !== undefined && equalBytes(sig, block.signature);
  }

  /** Forget every signature and verify no more (the chain is shutting down). */
  close(): void {
    this.closed = true;
    this.checked.clear();
  }
}
