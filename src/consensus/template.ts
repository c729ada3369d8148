/**
 * Block template assembly: the header a sealer mines on top of a parent, with the pending txs
 * chosen for it. Pure: the caller passes the clock reading and the pool's selection.
 */
import { HEADER_VERSION, type Header } from '../chain/header.js';
import { merkleRoot } from '../chain/merkle.js';
import { fromHex } from '../chain/bytes.js';
import type { SignedTx } from '../chain/types.js';

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
