/**
 * Typed validation errors. chain/, consensus/ and trace/ throw these with a code; exactly one
 * place in p2p/ maps codes to gossip ACCEPT/IGNORE/REJECT and one place in api/ to HTTP.
 */

export type BlockErrorCode =
  | 'MALFORMED'
  | 'BAD_VERSION'
  | 'BAD_POW'
  | 'BAD_BITS'
  | 'BAD_MERKLE_ROOT'
  | 'BAD_SEALER_SIGNATURE'
  | 'NOT_A_SEALER'
  | 'TIME_TOO_OLD'
  | 'TIME_TOO_NEW'
  | 'BAD_HEIGHT'
  | 'UNKNOWN_PARENT'
  | 'OVERSIZE'
  | 'DUPLICATE_TX'
  | 'BAD_TX'
  | 'ALREADY_KNOWN'
  | 'INVALID_ANCESTOR'
  | 'TOO_MANY_TXS';

export type TxErrorCode =
  | 'MALFORMED'
  | 'BAD_SIGNATURE'
  | 'WRONG_CHAIN'
  | 'UNKNOWN_SUBMITTER'
  | 'OVERSIZE'
  | 'TOO_MANY_EVENTS'
  | 'NO_EVENTS'
  | 'BAD_EVENT_ID'
  | 'INVALID_EVENT'
  | 'DUPLICATE_EVENT'
  | 'ROLE_VIOLATION'
  | 'ALREADY_KNOWN'
  | 'MEMPOOL_FULL'
  | 'TIME_TOO_NEW';

export class BlockError extends Error {
  override readonly name = 'BlockError';
  constructor(
    readonly code: BlockErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
  }
}

export class TxError extends Error {
  override readonly name = 'TxError';
  constructor(
    readonly code: TxErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * Stored block bytes that do not match the hash they are stored under (or whose txs do not hash
 * to the header's merkle root): the store is damaged. Never a reason to mark a block invalid;
 * the cure is `tracechain reindex` or re-sync from peers.
 */
export class StoreDamagedError extends Error {
  override readonly name = 'StoreDamagedError';
  readonly code = 'STORE_DAMAGED';
  constructor(
    readonly hash: string,
    message: string,
  ) {
    super(`store damaged: block ${hash} ${message}`);
  }
}

/**
 * The chain cannot do what was asked in its present state: it is shutting down, the store holds
 * another consortium's chain, or a connect/disconnect was asked of a block that does not extend
 * (or is not) the tip. Never a verdict on a block or tx (a caller must not mark anything invalid
 * for it): our own state, not a peer's fault.
 */
export type ChainStateCode = 'SHUTTING_DOWN' | 'WRONG_CHAIN' | 'NOT_THE_TIP';

/** An error whose code is one of a closed set `C`; the message starts with the code. */
export class CodedError<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export class ChainStateError extends CodedError<ChainStateCode> {
  override readonly name = 'ChainStateError';
}
