/**
 * Typed validation errors. chain/, consensus/ and trace/ throw these with a code; exactly one
 * place in p2p/ (verdict.ts) maps codes to gossip ACCEPT/IGNORE/REJECT and one place in api/
 * (problem.ts) to HTTP.
 *
 * Each code has ONE detail shape (the tables below, after lodestar's `BlockErrorType`): the
 * constructor refuses, at compile time, a code with details of the wrong shape or missing
 * details, and `err.type` is the code with its details as a discriminated union, so a reader
 * narrows on `err.type.code` and reads typed fields (`err.type.height`), never `typeof` tests.
 */

/** The details of a code that carries none. */
type None = undefined;

/** A block on the main chain, by hash and height. */
export interface BlockRef {
  hash: string;
  height: number;
}

/** An event already recorded or pending, and where (block null: in the mempool). */
export interface DuplicateEvent {
  eventId: string;
  txId: string;
  block: BlockRef | null;
}

/** One problem of a tx's events (a trace/ `TraceProblem`): path into the tx, message, code. */
export interface EventProblem {
  path: string;
  message: string;
  code?: string;
}

/** The details of a tx refused by the trace rules: every problem, and the role rule if one refused it. */
export interface EventProblems {
  problems: readonly EventProblem[];
  rule?: string;
}

/** Block error code → the details it carries. Adding a code here makes p2p/verdict.ts, chain/block-checks.ts (PERMANENT_FAILURE) and the tests name it. */
export interface BlockErrorDetails {
  MALFORMED: None;
  BAD_VERSION: None;
  BAD_POW: None;
  /** An invalid compact target (`bits`), or bits that differ from the retarget rule's. */
  BAD_BITS: { bits: number } | { expected: number; got: number; height: number };
  BAD_MERKLE_ROOT: None;
  BAD_SEALER_SIGNATURE: None;
  NOT_A_SEALER: None;
  TIME_TOO_OLD: { time: number; mtp: number };
  /** How far ahead of the local clock; `retryAt` is the earliest local time at which the block is acceptable. */
  TIME_TOO_NEW: { time: number; now: number; futureWindowMs: number; aheadMs: number; excessMs: number; retryAt: number };
  BAD_HEIGHT: None;
  /** `parent` is the missing parent's hash, `height` the refused block's. */
  UNKNOWN_PARENT: { parent: string; height: number };
  OVERSIZE: None;
  DUPLICATE_TX: { txId: string };
  /** The failing tx's position and its TxError code (none when a block failed earlier and is refused again). */
  BAD_TX: { index: number; txCode: TxErrorCode } | None;
  ALREADY_KNOWN: None;
  INVALID_ANCESTOR: None;
  TOO_MANY_TXS: None;
}

/** Tx error code → the details it carries (problem documents show them: see api/problem.ts). */
export interface TxErrorDetails {
  MALFORMED: None;
  BAD_SIGNATURE: None;
  WRONG_CHAIN: None;
  UNKNOWN_SUBMITTER: None;
  OVERSIZE: None;
  /** From the tx decoder (none) or from the trace rules (every problem). */
  TOO_MANY_EVENTS: EventProblems | None;
  NO_EVENTS: EventProblems | None;
  BAD_EVENT_ID: EventProblems;
  INVALID_EVENT: EventProblems;
  /** One event twice inside the tx, or events already recorded or pending (each with where it is). */
  DUPLICATE_EVENT: { eventId: string } | { duplicates: DuplicateEvent[] };
  ROLE_VIOLATION: EventProblems;
  /** `block`: where the tx is (null or absent: pending). */
  ALREADY_KNOWN: { txId: string; block?: BlockRef | null };
  MEMPOOL_FULL: None;
  TIME_TOO_NEW: None;
  /** Governance (chain/governance.ts, docs/governance.md): the submitter's standing at the tx's height. */
  SUBMITTER_SUSPENDED: None;
  SUBMITTER_REVOKED: None;
  /** The key was rotated out: txs it signed before stay valid, new ones are refused. */
  KEY_RETIRED: None;
  /** Governance txs refused by the rules of the registry at their height. */
  GOV_UNKNOWN_PROPOSAL: None;
  GOV_ALREADY_APPROVED: None;
  GOV_PROPOSAL_EXPIRED: None;
  GOV_PROPOSAL_CLOSED: None;
  GOV_NO_SEALER: None;
  GOV_QUORUM_UNREACHABLE: None;
  GOV_IDENTITY_IN_USE: None;
  GOV_BAD_PROOF: None;
  GOV_UNKNOWN_MEMBER: None;
  GOV_INVALID_CHANGE: None;
  /** An error declaration of an event that is neither on the main chain nor pending (corrections). */
  DECLARED_EVENT_UNKNOWN: { eventId: string };
  /** An error declaration by a member other than the declared event's submitter or a regulator. */
  NOT_DECLARANT: { eventId: string; submitter: string };
  /** Alert lifecycle changes (chain/alert-state.ts, docs/alerts.md) refused against the alert's state. */
  ALERT_UNKNOWN: None;
  ALERT_NOT_OWNER: None;
  ALERT_CLOSED: None;
  ALERT_BAD_TRANSITION: None;
}

export type BlockErrorCode = keyof BlockErrorDetails;
export type TxErrorCode = keyof TxErrorDetails;

/** `{code}` plus the code's details, per details variant. */
type Shape<C, D> = D extends undefined ? { readonly code: C } : { readonly code: C } & Readonly<D>;

/** The discriminated union of every code with its details. */
export type ErrorType<M> = { [C in keyof M]: Shape<C, M[C]> }[keyof M];

/** Constructor arguments: `(code, message)` or `(code, message, details)` as the code demands. */
export type ErrorArgs<M> = {
  [C in keyof M]: undefined extends M[C] ? [code: C, message: string, details?: Exclude<M[C], undefined>] : [code: C, message: string, details: M[C]];
}[keyof M];

export type BlockErrorType = ErrorType<BlockErrorDetails>;
export type TxErrorType = ErrorType<TxErrorDetails>;

/** Splits a type back into constructor arguments (for errors rebuilt from a worker's message or a test table). */
function argsOf<M>(type: ErrorType<M>, message: string): ErrorArgs<M> {
  const { code, ...details } = type as { code: keyof M };
  return [code, message, Object.keys(details).length > 0 ? details : undefined] as ErrorArgs<M>;
}

export class BlockError extends Error {
  override readonly name = 'BlockError';
  readonly code: BlockErrorCode;
  /** The code and its details as one discriminated union: narrow on `type.code`. */
  readonly type: BlockErrorType;
  /** The details alone (what logs show). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(...[code, message, details]: ErrorArgs<BlockErrorDetails>) {
    super(`${code}: ${message}`);
    this.code = code;
    this.details = (details ?? {}) as Readonly<Record<string, unknown>>;
    this.type = { ...details, code } as BlockErrorType;
  }

  /** The error of a type built elsewhere; `message` without the `CODE: ` prefix. */
  static of(type: BlockErrorType, message: string): BlockError {
    return new BlockError(...argsOf<BlockErrorDetails>(type, message));
  }
}

export class TxError extends Error {
  override readonly name = 'TxError';
  readonly code: TxErrorCode;
  /** The code and its details as one discriminated union: narrow on `type.code`. */
  readonly type: TxErrorType;
  /** The details alone (what logs and problem documents show). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(...[code, message, details]: ErrorArgs<TxErrorDetails>) {
    super(`${code}: ${message}`);
    this.code = code;
    this.details = (details ?? {}) as Readonly<Record<string, unknown>>;
    this.type = { ...details, code } as TxErrorType;
  }

  /** The error of a type built elsewhere (a verifier worker's answer); `message` without the `CODE: ` prefix. */
  static of(type: TxErrorType, message: string): TxError {
    return new TxError(...argsOf<TxErrorDetails>(type, message));
  }
}

/**
 * Stored block bytes that do not match the hash they are stored under (or whose txs do not hash
 * to the header's merkle root): the store is damaged. Never a reason to mark a block invalid;
 * the cure is `tracechain reindex` or re-sync from peers. Its one detail is the block's `hash`.
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
/**
 * An error with a code from a closed set and its message as given (the node's own failures:
 * verifier pool, kernels, storage). CodedError below also puts the code in front of the message.
 */
export class ErrorWithCode<C extends string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

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

export type VerifierErrorCode =
  /** The verifier pool was closed (the node is stopping): the work was not done. */
  | 'CLOSED'
  /** A verifier worker failed, exited, or threw on the work (a bug, or input that crashes a check). */
  | 'WORKER_FAILED';

/**
 * The tx verifier's worker pool could not do the work. Not a validation error: callers treat it
 * as their own trouble (gossip: IGNORE, HTTP: 500), never as a verdict on the tx or block.
 */
export class VerifierError extends ErrorWithCode<VerifierErrorCode> {
  override readonly name = 'VerifierError';
}

/**
 * A broken programming invariant: a bug in this node, never bad input (input errors are coded:
 * BlockError, TxError, …). Mapped to nothing of its own: gossip ignores it, HTTP answers 500.
 */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Asserts a programming invariant (see InvariantError); never use it to check input. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
