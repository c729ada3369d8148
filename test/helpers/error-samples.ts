/**
 * One well-formed error per code, with the details its code demands. The tables are mapped
 * over the code unions, so a new code does not compile until it has a sample here (and so a
 * case in every test that iterates them).
 */
import { BlockError, TxError, type BlockErrorCode, type BlockErrorType, type TxErrorCode, type TxErrorType } from '../../src/common/errors.js';

const problems = [{ path: '/events/0', message: 'bad', code: 'SCHEMA' }];

export const BLOCK_ERROR_SAMPLES: { [C in BlockErrorCode]: Extract<BlockErrorType, { code: C }> } = {
  MALFORMED: { code: 'MALFORMED' },
  BAD_VERSION: { code: 'BAD_VERSION' },
  BAD_POW: { code: 'BAD_POW' },
  BAD_BITS: { code: 'BAD_BITS', expected: 0x1f00ffff, got: 0x1f00fffe, height: 7 },
  BAD_MERKLE_ROOT: { code: 'BAD_MERKLE_ROOT' },
  BAD_SEALER_SIGNATURE: { code: 'BAD_SEALER_SIGNATURE' },
  NOT_A_SEALER: { code: 'NOT_A_SEALER' },
  TIME_TOO_OLD: { code: 'TIME_TOO_OLD', time: 10, mtp: 10 },
  TIME_TOO_NEW: { code: 'TIME_TOO_NEW', time: 100_000, now: 0, futureWindowMs: 60_000, aheadMs: 100_000, excessMs: 40_000, retryAt: 40_000 },
  BAD_HEIGHT: { code: 'BAD_HEIGHT' },
  UNKNOWN_PARENT: { code: 'UNKNOWN_PARENT', parent: 'ab'.repeat(32), height: 12 },
  OVERSIZE: { code: 'OVERSIZE' },
  DUPLICATE_TX: { code: 'DUPLICATE_TX', txId: 'cd'.repeat(32) },
  BAD_TX: { code: 'BAD_TX', index: 1, txCode: 'BAD_SIGNATURE' },
  ALREADY_KNOWN: { code: 'ALREADY_KNOWN' },
  INVALID_ANCESTOR: { code: 'INVALID_ANCESTOR' },
  TOO_MANY_TXS: { code: 'TOO_MANY_TXS' },
};

export const TX_ERROR_SAMPLES: { [C in TxErrorCode]: Extract<TxErrorType, { code: C }> } = {
  MALFORMED: { code: 'MALFORMED' },
  BAD_SIGNATURE: { code: 'BAD_SIGNATURE' },
  WRONG_CHAIN: { code: 'WRONG_CHAIN' },
  UNKNOWN_SUBMITTER: { code: 'UNKNOWN_SUBMITTER' },
  OVERSIZE: { code: 'OVERSIZE' },
  TOO_MANY_EVENTS: { code: 'TOO_MANY_EVENTS' },
  NO_EVENTS: { code: 'NO_EVENTS' },
  BAD_EVENT_ID: { code: 'BAD_EVENT_ID', problems },
  INVALID_EVENT: { code: 'INVALID_EVENT', problems },
  DUPLICATE_EVENT: { code: 'DUPLICATE_EVENT', duplicates: [{ eventId: 'e', txId: 't', block: null }] },
  ROLE_VIOLATION: { code: 'ROLE_VIOLATION', problems, rule: 'pharmacy-commission' },
  ALREADY_KNOWN: { code: 'ALREADY_KNOWN', txId: 'ef'.repeat(32), block: null },
  MEMPOOL_FULL: { code: 'MEMPOOL_FULL' },
  TIME_TOO_NEW: { code: 'TIME_TOO_NEW' },
  SUBMITTER_SUSPENDED: { code: 'SUBMITTER_SUSPENDED' },
  SUBMITTER_REVOKED: { code: 'SUBMITTER_REVOKED' },
  KEY_RETIRED: { code: 'KEY_RETIRED' },
  GOV_UNKNOWN_PROPOSAL: { code: 'GOV_UNKNOWN_PROPOSAL' },
  GOV_ALREADY_APPROVED: { code: 'GOV_ALREADY_APPROVED' },
  GOV_PROPOSAL_EXPIRED: { code: 'GOV_PROPOSAL_EXPIRED' },
  GOV_PROPOSAL_CLOSED: { code: 'GOV_PROPOSAL_CLOSED' },
  GOV_NO_SEALER: { code: 'GOV_NO_SEALER' },
  GOV_QUORUM_UNREACHABLE: { code: 'GOV_QUORUM_UNREACHABLE' },
  GOV_IDENTITY_IN_USE: { code: 'GOV_IDENTITY_IN_USE' },
  GOV_BAD_PROOF: { code: 'GOV_BAD_PROOF' },
  GOV_UNKNOWN_MEMBER: { code: 'GOV_UNKNOWN_MEMBER' },
  GOV_INVALID_CHANGE: { code: 'GOV_INVALID_CHANGE' },
  DECLARED_EVENT_UNKNOWN: { code: 'DECLARED_EVENT_UNKNOWN', eventId: 'e' },
  NOT_DECLARANT: { code: 'NOT_DECLARANT', eventId: 'e', submitter: 'ab'.repeat(20) },
  ALERT_UNKNOWN: { code: 'ALERT_UNKNOWN' },
  ALERT_NOT_OWNER: { code: 'ALERT_NOT_OWNER' },
  ALERT_CLOSED: { code: 'ALERT_CLOSED' },
  ALERT_BAD_TRANSITION: { code: 'ALERT_BAD_TRANSITION' },
};

export const blockErrorOf = (code: BlockErrorCode, message = 'test'): BlockError => BlockError.of(BLOCK_ERROR_SAMPLES[code], message);
export const txErrorOf = (code: TxErrorCode, message = 'test'): TxError => TxError.of(TX_ERROR_SAMPLES[code], message);
