/** One test per VerifierError code: the pool could not do the work (never a verdict on the tx). */
import { describe, expect, it } from 'vitest';
import { WorkerPoolTxVerifier } from '../../../src/chain/verifier-pool.js';
import { VerifierError } from '../../../src/common/errors.js';
import { generateKeyPair } from '../../../src/chain/keys.js';
import { makeGenesis, memberOf } from '../../../src/node/dev-consortium.js';
import type { SignedTx } from '../../../src/chain/types.js';

const genesis = makeGenesis('verifier-errors', [memberOf({ name: 'dev', role: 'dev', key: generateKeyPair(), peerId: 'p1' })], 1_700_000_000_000);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(VerifierError);
    return (err as VerifierError).code;
  }
  throw new Error('expected a VerifierError');
}

describe('VerifierError codes', () => {
  it('CLOSED: work asked of a closed pool, and work pending when it closes', async () => {
    const pool = new WorkerPoolTxVerifier({ workers: 1 }, { genesis });
    await pool.close();
    expect(await codeOf(pool.verify([], []))).toBe('CLOSED');
    expect(await codeOf(pool.verifySeals([]))).toBe('CLOSED');
  });

  it('WORKER_FAILED: a check throws something that is not a TxError inside the worker', async () => {
    const pool = new WorkerPoolTxVerifier({ workers: 1 }, { genesis });
    try {
      // Not a tx at all: verifyTxSync fails with a TypeError, which the worker answers as an error.
      const notATx = null as unknown as SignedTx;
      expect(await codeOf(pool.verify([notATx], [new Uint8Array(32)]))).toBe('WORKER_FAILED');
      // The pool keeps working afterwards.
      await expect(pool.verify([], [])).resolves.toEqual([]);
    } finally {
      await pool.close();
    }
  });
});
