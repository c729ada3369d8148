/**
 * What follows a failed import of a block or tx a peer sent, for gossip and sync alike: the
 * verdict (verdict.ts), the peer's score, the "ahead of our clock" mark, the parent fetch, and
 * one log line. Gossip and sync call these and act only on the returned verdict (gossipsub's
 * answer; sync stops its round unless the block was already known).
 */
import type { Logger } from 'pino';
import { BlockError } from '../common/errors.js';
import type { Offence } from './scores.js';
import { blockVerdict, txVerdict, type VerdictOf } from './verdict.js';

export interface FailureHooks {
  /** The peer sent something provably invalid. */
  offence(peerId: string, offence: Offence, code: string): void;
  /** This peer's chain runs ahead of our clock from `height` on (its block is held until due). */
  aheadOfClock(peerId: string, height: number): void;
  /** A block whose parent we lack came from this peer: fetch its chain (gossip only). */
  unknownParent?(peerId: string, height: number): void;
}

/** Where a refused block came from. */
export interface BlockSource {
  via: 'gossip' | 'sync';
  /** The peer that sent the bytes: penalised on reject, asked for the parent. */
  peer: string;
  /** The peer whose chain the block is on (gossip: its publisher; sync: the peer serving it). */
  owner: string;
  hash?: string;
  /** The block's height (only TIME_TOO_NEW needs it; decoded then). */
  height(): number;
}

/** Verdict for a block that failed to import, and its effects (see the file comment). */
export function afterBlockFailure(err: unknown, src: BlockSource, hooks: FailureHooks, log: Logger): VerdictOf {
  const v = blockVerdict(err);
  const at = { peer: src.peer, via: src.via, ...(src.hash !== undefined ? { hash: src.hash } : {}), code: v.code };
  if (v.verdict === 'reject') {
    log.warn({ ...at, err: (err as Error).message }, 'invalid block');
    hooks.offence(src.peer, 'invalid-block', v.code);
    return v;
  }
  if (!(err instanceof BlockError)) {
    log.error({ ...at, err }, 'block could not be imported');
    return v;
  }
  const type = err.type;
  switch (type.code) {
    case 'ALREADY_KNOWN':
      return v;
    case 'UNKNOWN_PARENT':
      hooks.unknownParent?.(src.peer, type.height);
      break;
    case 'TIME_TOO_NEW':
      // Whoever forwarded it holds it too: the owner's chain is the one ahead.
      hooks.aheadOfClock(src.owner, src.height());
      break;
  }
  // Gossip sees these for every block while behind or ahead: debug there; sync ends its round on one.
  log[src.via === 'sync' ? 'info' : 'debug'](at, 'block not imported yet');
  return v;
}

/** Verdict for a gossiped tx that was not admitted, and its effects: score on reject, log. */
export function afterTxFailure(err: unknown, peer: string, hooks: Pick<FailureHooks, 'offence'>, log: Logger): VerdictOf {
  const v = txVerdict(err);
  if (v.verdict === 'reject') {
    log.warn({ peer, code: v.code, err: (err as Error).message }, 'invalid tx on gossip');
    hooks.offence(peer, 'invalid-tx', v.code);
  } else if (v.code === 'INTERNAL') {
    log.error({ err, peer }, 'tx from gossip could not be admitted');
  }
  return v;
}
