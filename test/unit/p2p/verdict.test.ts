/** The one code → gossip verdict mapping: one case per error code, and non-validation errors. */
import { describe, expect, it } from 'vitest';
import { BlockError, TxError, type BlockErrorCode, type TxErrorCode } from '../../../src/common/errors.js';
import { blockErrorOf, txErrorOf } from '../../helpers/error-samples.js';
import { BLOCK_VERDICT, TX_VERDICT, blockVerdict, txVerdict, type Verdict } from '../../../src/p2p/verdict.js';

const BLOCK_EXPECTED: Record<BlockErrorCode, Verdict> = {
  MALFORMED: 'reject',
  BAD_VERSION: 'reject',
  BAD_POW: 'reject',
  BAD_BITS: 'reject',
  BAD_MERKLE_ROOT: 'reject',
  BAD_SEALER_SIGNATURE: 'reject',
  NOT_A_SEALER: 'reject',
  TIME_TOO_OLD: 'reject',
  TIME_TOO_NEW: 'ignore',
  BAD_HEIGHT: 'reject',
  UNKNOWN_PARENT: 'ignore',
  OVERSIZE: 'reject',
  DUPLICATE_TX: 'reject',
  BAD_TX: 'reject',
  ALREADY_KNOWN: 'ignore',
  INVALID_ANCESTOR: 'reject',
  TOO_MANY_TXS: 'reject',
};

const TX_EXPECTED: Record<TxErrorCode, Verdict> = {
  MALFORMED: 'reject',
  BAD_SIGNATURE: 'reject',
  WRONG_CHAIN: 'reject',
  UNKNOWN_SUBMITTER: 'reject',
  OVERSIZE: 'reject',
  TOO_MANY_EVENTS: 'reject',
  NO_EVENTS: 'reject',
  BAD_EVENT_ID: 'reject',
  INVALID_EVENT: 'reject',
  DUPLICATE_EVENT: 'ignore',
  ROLE_VIOLATION: 'reject',
  ALREADY_KNOWN: 'ignore',
  MEMPOOL_FULL: 'ignore',
  TIME_TOO_NEW: 'ignore',
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
  GOV_BAD_PROOF: 'reject',
  GOV_UNKNOWN_MEMBER: 'ignore',
  GOV_INVALID_CHANGE: 'ignore',
  DECLARED_EVENT_UNKNOWN: 'ignore',
  NOT_DECLARANT: 'ignore',
  ALERT_UNKNOWN: 'ignore',
  ALERT_NOT_OWNER: 'ignore',
  ALERT_CLOSED: 'ignore',
  ALERT_BAD_TRANSITION: 'ignore',
};

describe('block error code → verdict', () => {
  for (const [code, expected] of Object.entries(BLOCK_EXPECTED) as [BlockErrorCode, Verdict][]) {
    it(`${code} → ${expected}`, () => {
      expect(blockVerdict(blockErrorOf(code))).toEqual({ verdict: expected, code });
    });
  }
  it('covers every block code', () => {
    expect(Object.keys(BLOCK_VERDICT).sort()).toEqual(Object.keys(BLOCK_EXPECTED).sort());
  });
  it('a tx error met while importing a block makes the block invalid', () => {
    expect(blockVerdict(new TxError('DUPLICATE_EVENT', 'x', { eventId: 'e' }))).toEqual({ verdict: 'reject', code: 'TX_DUPLICATE_EVENT' });
  });
  it('anything else is our own trouble: ignore, no penalty', () => {
    expect(blockVerdict(new Error('the chain is shutting down'))).toEqual({ verdict: 'ignore', code: 'INTERNAL' });
  });
});

describe('tx error code → verdict', () => {
  for (const [code, expected] of Object.entries(TX_EXPECTED) as [TxErrorCode, Verdict][]) {
    it(`${code} → ${expected}`, () => {
      expect(txVerdict(txErrorOf(code))).toEqual({ verdict: expected, code });
    });
  }
  it('covers every tx code', () => {
    expect(Object.keys(TX_VERDICT).sort()).toEqual(Object.keys(TX_EXPECTED).sort());
  });
  it('a block error or a plain error on the tx path is ignored', () => {
    expect(txVerdict(new BlockError('BAD_POW', 'x')).verdict).toBe('ignore');
    expect(txVerdict(new RangeError('boom'))).toEqual({ verdict: 'ignore', code: 'INTERNAL' });
  });
});
