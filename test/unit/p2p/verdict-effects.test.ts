/**
 * What follows a refused block or tx, the same for gossip and sync: the verdict, the peer's
 * score, the "ahead of our clock" mark, the parent fetch, and one log line.
 */
import { describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import { BlockError, TxError } from '../../../src/common/errors.js';
import { afterBlockFailure, afterTxFailure, type BlockSource, type FailureHooks } from '../../../src/p2p/verdict-effects.js';
import { blockErrorOf } from '../../helpers/error-samples.js';

interface Recorded {
  offences: [string, string, string][];
  ahead: [string, number][];
  parents: [string, number][];
  logs: { level: number; msg: string; code?: string; via?: string }[];
}

function harness(withParentHook = true): { hooks: FailureHooks; rec: Recorded; log: Logger } {
  const rec: Recorded = { offences: [], ahead: [], parents: [], logs: [] };
  const hooks: FailureHooks = {
    offence: (peer, offence, code) => rec.offences.push([peer, offence, code]),
    aheadOfClock: (peer, height) => rec.ahead.push([peer, height]),
    ...(withParentHook ? { unknownParent: (peer: string, height: number) => rec.parents.push([peer, height]) } : {}),
  };
  const log: Logger = pino({ level: 'debug' }, { write: (line: string) => void rec.logs.push(JSON.parse(line) as Recorded['logs'][number]) });
  return { hooks, rec, log };
}

const gossip = (height = 9): BlockSource => ({ via: 'gossip', peer: 'forwarder', owner: 'publisher', height: () => height });
const sync: BlockSource = { via: 'sync', peer: 'server', owner: 'server', hash: 'ab'.repeat(32), height: () => 17 };

describe('afterBlockFailure', () => {
  it('reject: penalises the peer that sent it and logs a warning, for gossip and sync alike', () => {
    for (const src of [gossip(), sync]) {
      const { hooks, rec, log } = harness();
      expect(afterBlockFailure(blockErrorOf('BAD_SEALER_SIGNATURE'), src, hooks, log)).toEqual({ verdict: 'reject', code: 'BAD_SEALER_SIGNATURE' });
      expect(rec.offences).toEqual([[src.peer, 'invalid-block', 'BAD_SEALER_SIGNATURE']]);
      expect(rec.logs).toMatchObject([{ level: 40, msg: 'invalid block', code: 'BAD_SEALER_SIGNATURE', via: src.via }]);
      expect(rec.ahead).toEqual([]);
    }
  });

  it('a tx that fails inside a block rejects the block with the tx code', () => {
    const { hooks, rec, log } = harness();
    expect(afterBlockFailure(new TxError('BAD_SIGNATURE', 'x'), sync, hooks, log)).toEqual({ verdict: 'reject', code: 'TX_BAD_SIGNATURE' });
    expect(rec.offences).toEqual([['server', 'invalid-block', 'TX_BAD_SIGNATURE']]);
  });

  it('UNKNOWN_PARENT: asks for the sender chain at the typed height; no penalty', () => {
    const { hooks, rec, log } = harness();
    const err = new BlockError('UNKNOWN_PARENT', 'parent unknown', { parent: 'cd'.repeat(32), height: 42 });
    expect(afterBlockFailure(err, gossip(), hooks, log)).toEqual({ verdict: 'ignore', code: 'UNKNOWN_PARENT' });
    expect(rec.parents).toEqual([['forwarder', 42]]);
    expect(rec.offences).toEqual([]);
    // Without the hook (sync), nothing is asked; the round just ends.
    const s = harness(false);
    expect(afterBlockFailure(err, sync, s.hooks, s.log).verdict).toBe('ignore');
    expect(s.rec.logs).toMatchObject([{ level: 30, msg: 'block not imported yet', code: 'UNKNOWN_PARENT' }]);
  });

  it("TIME_TOO_NEW: marks the owner's chain ahead of our clock at the block's height; no penalty", () => {
    const g = harness();
    expect(afterBlockFailure(blockErrorOf('TIME_TOO_NEW'), gossip(9), g.hooks, g.log)).toEqual({ verdict: 'ignore', code: 'TIME_TOO_NEW' });
    expect(g.rec.ahead).toEqual([['publisher', 9]]);
    expect(g.rec.offences).toEqual([]);
    expect(g.rec.logs).toMatchObject([{ level: 20 }]);
    const s = harness();
    afterBlockFailure(blockErrorOf('TIME_TOO_NEW'), sync, s.hooks, s.log);
    expect(s.rec.ahead).toEqual([['server', 17]]);
    expect(s.rec.logs).toMatchObject([{ level: 30, code: 'TIME_TOO_NEW', via: 'sync' }]);
  });

  it('ALREADY_KNOWN: nothing at all (sync goes on with the next block)', () => {
    const { hooks, rec, log } = harness();
    expect(afterBlockFailure(blockErrorOf('ALREADY_KNOWN'), sync, hooks, log)).toEqual({ verdict: 'ignore', code: 'ALREADY_KNOWN' });
    expect(rec).toEqual({ offences: [], ahead: [], parents: [], logs: [] });
  });

  it('not a validation error: our own trouble, logged as an error, no penalty', () => {
    const { hooks, rec, log } = harness();
    expect(afterBlockFailure(new Error('store closed'), gossip(), hooks, log)).toEqual({ verdict: 'ignore', code: 'INTERNAL' });
    expect(rec.offences).toEqual([]);
    expect(rec.logs).toMatchObject([{ level: 50, msg: 'block could not be imported' }]);
  });
});

describe('afterTxFailure', () => {
  it('reject penalises the sender; a duplicate is ignored quietly; an internal error is logged', () => {
    const r = harness();
    expect(afterTxFailure(new TxError('BAD_SIGNATURE', 'x'), 'p', r.hooks, r.log)).toEqual({ verdict: 'reject', code: 'BAD_SIGNATURE' });
    expect(r.rec.offences).toEqual([['p', 'invalid-tx', 'BAD_SIGNATURE']]);
    const d = harness();
    expect(afterTxFailure(new TxError('DUPLICATE_EVENT', 'x', { eventId: 'e' }), 'p', d.hooks, d.log).verdict).toBe('ignore');
    expect(d.rec).toEqual({ offences: [], ahead: [], parents: [], logs: [] });
    const i = harness();
    expect(afterTxFailure(new RangeError('boom'), 'p', i.hooks, i.log)).toEqual({ verdict: 'ignore', code: 'INTERNAL' });
    expect(i.rec.logs).toMatchObject([{ level: 50 }]);
  });
});
