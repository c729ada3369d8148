/**
 * Block template assembly: the header a sealer mines on top of a parent, with the pending txs
 * chosen for it. Pure: the caller passes the clock reading and the pool's selection.
 *
 * It lives in chain/ (not consensus/, as DESIGN.md's table has it) because it assembles the
 * chain's own formats, the header and the merkle root; consensus/ supplies the numbers (bits,
 * median time past) through the caller and imports nothing from chain/.
 */
import { HEADER_VERSION, type Header } from './header.js';
import { merkleRoot } from './merkle.js';
import { fromHex } from '../common/bytes.js';
import type { SignedTx } from './types.js';

export interface TemplateInput {
  parent: { hash: string; height: number };
  /** Median time past of the parent chain: the block's time must exceed it. */
  mtp: number;
  /** Bits required by the retarget rule. */
  bits: number;
  now: number;
  /** Sealer member key ID (20 bytes). */
  sealer: Uint8Array;
  txs: readonly { tx: SignedTx; id: Uint8Array }[];
}

export interface BlockTemplate {
  header: Header;
  txs: SignedTx[];
  txIds: Uint8Array[];
}

export function buildTemplate(input: TemplateInput): BlockTemplate {
  const txIds = input.txs.map((t) => t.id);
  return {
    header: {
      version: HEADER_VERSION,
      height: input.parent.height + 1,
      prevHash: fromHex(input.parent.hash, 32),
      merkleRoot: merkleRoot(txIds),
      sealer: input.sealer,
      time: Math.max(input.now, input.mtp + 1),
      bits: input.bits,
      nonce: 0n,
    },
    txs: input.txs.map((t) => t.tx),
    txIds,
  };
}
