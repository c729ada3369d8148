/** Which block failures may mark a hash invalid: one case per BlockError code (an independent list). */
import { describe, expect, it } from 'vitest';
import type { BlockErrorCode } from '../../../src/common/errors.js';
import { PERMANENT_FAILURE, isPermanentFailure } from '../../../src/chain/block-checks.js';

const EXPECTED: Record<BlockErrorCode, boolean> = {
  MALFORMED: false,
  BAD_VERSION: true,
  BAD_POW: true,
  BAD_BITS: true,
  BAD_MERKLE_ROOT: false,
  BAD_SEALER_SIGNATURE: true,
  NOT_A_SEALER: true,
  TIME_TOO_OLD: true,
  TIME_TOO_NEW: false,
  BAD_HEIGHT: true,
  UNKNOWN_PARENT: false,
  OVERSIZE: false,
  DUPLICATE_TX: true,
  BAD_TX: true,
  ALREADY_KNOWN: false,
  INVALID_ANCESTOR: true,
  TOO_MANY_TXS: true,
};

describe('isPermanentFailure', () => {
  for (const [code, permanent] of Object.entries(EXPECTED) as [BlockErrorCode, boolean][]) {
    it(`${code}: ${permanent ? 'a property of the hash' : 'not a property of the hash'}`, () => {
      expect(isPermanentFailure(code)).toBe(permanent);
    });
  }
  it('classifies every code', () => {
    expect(Object.keys(PERMANENT_FAILURE).sort()).toEqual(Object.keys(EXPECTED).sort());
  });
});
