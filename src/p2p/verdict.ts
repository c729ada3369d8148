/**
 * The one place that maps chain validation errors to gossip verdicts (DESIGN.md, Modules):
 *
 * - accept: valid, deliver and forward;
 * - ignore: not forwarded, no penalty (already known, not yet decidable, or our own trouble);
 * - reject: provably invalid, not forwarded, and the peer that sent it is penalised.
 *
 * The tables are exhaustive over the error code unions, so a new code fails to compile until
 * someone decides its verdict here.
 */
import { BlockError, TxError, type BlockErrorCode, type TxErrorCode } from '../common/errors.js';

export type Verdict = 'accept' | 'ignore' | 'reject';

export const BLOCK_VERDICT: Readonly<Record<BlockErrorCode, Verdict>> = {
  MALFORMED: 'reject',
  BAD_VERSION: 'reject',
  BAD_POW: 'reject',
  BAD_BITS: 'reject',
  BAD_MERKLE_ROOT: 'reject',
  BAD_SEALER_SIGNATURE: 'reject',
  NOT_A_SEALER: 'reject',
  TIME_TOO_OLD: 'reject',
  // From a clock ahead of ours: the chain holds it back and retries; not the peer's fault.
  TIME_TOO_NEW: 'ignore',
  BAD_HEIGHT: 'reject',
  // We lack its ancestors: ask sync for them, never keep the block (no orphan pool).
  UNKNOWN_PARENT: 'ignore',
  OVERSIZE: 'reject',
  DUPLICATE_TX: 'reject',
  BAD_TX: 'reject',
  ALREADY_KNOWN: 'ignore',
  INVALID_ANCESTOR: 'reject',
  TOO_MANY_TXS: 'reject',
};

export const TX_VERDICT: Readonly<Record<TxErrorCode, Verdict>> = {
  MALFORMED: 'reject',
  BAD_SIGNATURE: 'reject',
  WRONG_CHAIN: 'reject',
  UNKNOWN_SUBMITTER: 'reject',
  OVERSIZE: 'reject',
  TOO_MANY_EVENTS: 'reject',
  NO_EVENTS: 'reject',
  BAD_EVENT_ID: 'reject',
  INVALID_EVENT: 'reject',
  // Two honest members may capture the same event before either sees the other's tx.
  DUPLICATE_EVENT: 'ignore',
  ROLE_VIOLATION: 'reject',
  ALREADY_KNOWN: 'ignore',
  // Our pool is full: our limit, not the peer's fault.
  MEMPOOL_FULL: 'ignore',
  TIME_TOO_NEW: 'ignore',
  // Standing and governance rules read the registry at our tip: a peer behind or ahead of us
  // may judge a tx at a different height in good faith (an approval racing an expiry, a member
  // suspended in the block we just connected), so these are not the peer's fault.
  SUBMITTER_SUSPENDED: 'ignore',
  SUBMITTER_REVOKED: 'ignore',
  KEY_RETIRED: 'ignore',
  GOV_UNKNOWN_PROPOSAL: 'ignore',
  GOV_ALREADY_APPROVED: 'ignore',
  GOV_PROPOSAL_EXPIRED: 'ignore',
  GOV_PROPOSAL_CLOSED: 'ignore',
  GOV_NO_SEALER: 'ignore',
  GOV_QUORUM_UNREACHABLE: 'ignore',
  GOV_IDENTITY_IN_USE: 'ignore',
  // Provable from the tx alone: the new key's signature does not verify.
  GOV_BAD_PROOF: 'reject',
  GOV_UNKNOWN_MEMBER: 'ignore',
  GOV_INVALID_CHANGE: 'ignore',
  // Corrections read the chain (is the declared event there, who submitted it): a peer on
  // another branch may judge them differently in good faith.
  DECLARED_EVENT_UNKNOWN: 'ignore',
  NOT_DECLARANT: 'ignore',
  // Alert lifecycle changes are judged against the alert's state at the tip: another node may not
  // have it yet, or may already have a conflicting change (a race, not misbehaviour).
  ALERT_UNKNOWN: 'ignore',
  ALERT_NOT_OWNER: 'ignore',
  ALERT_CLOSED: 'ignore',
  ALERT_BAD_TRANSITION: 'ignore',
};

export interface VerdictOf {
  verdict: Verdict;
  /** The error code, or 'INTERNAL' for an error that is not a validation error. */
  code: string;
}

/**
 * Verdict for a block import failure. Anything that is not a BlockError (the store failed,
 * the chain is shutting down) is our own trouble: ignore, and let the caller log it.
 */
export function blockVerdict(err: unknown): VerdictOf {
  if (err instanceof BlockError) return { verdict: BLOCK_VERDICT[err.code], code: err.code };
  // A tx inside a block that fails its checks makes the block invalid, whatever the check.
  if (err instanceof TxError) return { verdict: 'reject', code: `TX_${err.code}` };
  return { verdict: 'ignore', code: 'INTERNAL' };
}

/** Verdict for a gossiped tx admission failure (see blockVerdict for non-validation errors). */
export function txVerdict(err: unknown): VerdictOf {
  if (err instanceof TxError) return { verdict: TX_VERDICT[err.code], code: err.code };
  return { verdict: 'ignore', code: 'INTERNAL' };
}
