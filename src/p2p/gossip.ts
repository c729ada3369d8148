/**
 * Gossip: one topic for txs and one for blocks per chain, content-hash message IDs, and the
 * validators. A validator decodes the message, hands it to the chain (which runs every check
 * and stores or admits it), and turns the outcome into a verdict through verdict.ts. Nothing
 * is kept aside: a block with an unknown parent is ignored and sync is asked to fetch its
 * ancestors from the peer that sent it.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { decodeCanonicalTx } from '../chain/tx.js';
import { BlockError } from '../common/errors.js';
import { decodeHeader, HEADER_SIZE } from '../chain/header.js';
import type { ChainPort } from './chain-port.js';
import type { Offence } from './scores.js';
import { blockVerdict, txVerdict, type Verdict } from './verdict.js';

export interface Topics {
  tx: string;
  block: string;
}

export function topicsFor(chainId: string): Topics {
  return { tx: `/tracechain/${chainId}/tx/1`, block: `/tracechain/${chainId}/block/1` };
}

export function syncProtocolFor(chainId: string): string {
  return `/tracechain/${chainId}/sync/1`;
}

/** Message ID = SHA-256 of the payload: the same block or tx from two members is one message. */
export function contentMessageId(data: Uint8Array): Uint8Array {
  const d = createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Extra room a gossip RPC needs around the largest payload (protobuf framing, signature, topic). */
export const GOSSIP_RPC_OVERHEAD = 64 * 1024;

export interface GossipHooks {
  /** The peer sent something provably invalid. */
  offence(peerId: string, offence: Offence, code: string): void;
  /** A block whose parent we lack came from this peer: fetch its chain. */
  unknownParent(peerId: string, height: number): void;
  /** This peer published a block too far in the future for our clock (held until due). */
  aheadOfClock(peerId: string, height: number): void;
}

export interface GossipCounters {
  accept: number;
  ignore: number;
  reject: number;
}

export class GossipValidators {
  readonly counters: Record<'tx' | 'block', GossipCounters> = {
    tx: { accept: 0, ignore: 0, reject: 0 },
    block: { accept: 0, ignore: 0, reject: 0 },
  };

  constructor(
    private readonly chain: ChainPort,
    private readonly hooks: GossipHooks,
    private readonly log: Logger,
  ) {}

  private count(kind: 'tx' | 'block', v: Verdict): Verdict {
    this.counters[kind][v]++;
    return v;
  }

  /**
   * @param source the peer that forwarded the message (penalised on reject)
   * @param origin the peer that published it, if signed
   */
  async validateBlock(source: string, origin: string | undefined, data: Uint8Array): Promise<Verdict> {
    if (origin === undefined || !this.chain.memberOfPeer(origin)) {
      this.hooks.offence(source, 'invalid-block', 'NOT_FROM_A_MEMBER');
      return this.count('block', 'reject');
    }
    const t0 = performance.now();
    try {
      const r = await this.chain.importBlockBytes(data);
      this.log.debug({ peer: source, hash: r.hash, height: r.height, status: r.status, ms: Math.round((performance.now() - t0) * 10) / 10 }, 'gossip block imported');
      return this.count('block', 'accept');
    } catch (err) {
      const { verdict, code } = blockVerdict(err);
      if (code === 'UNKNOWN_PARENT' && err instanceof BlockError) {
        const height = typeof err.details.height === 'number' ? err.details.height : 0;
        this.hooks.unknownParent(source, height);
      } else if (code === 'TIME_TOO_NEW') {
        // The publisher's chain runs ahead of our clock; whoever forwarded it holds it too.
        this.hooks.aheadOfClock(origin, decodeHeader(data.subarray(0, HEADER_SIZE)).height);
      } else if (verdict === 'reject') {
        this.log.warn({ peer: source, code, err: (err as Error).message }, 'invalid block on gossip');
        this.hooks.offence(source, 'invalid-block', code);
      } else if (code === 'INTERNAL') {
        this.log.error({ err, peer: source }, 'block from gossip could not be imported');
      }
      return this.count('block', verdict);
    }
  }

  async validateTx(source: string, origin: string | undefined, data: Uint8Array): Promise<Verdict> {
    if (origin === undefined || !this.chain.memberOfPeer(origin)) {
      this.hooks.offence(source, 'invalid-tx', 'NOT_FROM_A_MEMBER');
      return this.count('tx', 'reject');
    }
    try {
      // One pass: shape checks, ID and canonical bytes, which must be the message (one tx, one
      // encoding: otherwise the same tx could travel under many message IDs).
      await this.chain.submitTx(decodeCanonicalTx(data, this.chain.limits));
      return this.count('tx', 'accept');
    } catch (err) {
      const { verdict, code } = txVerdict(err);
      if (verdict === 'reject') {
        this.log.warn({ peer: source, code, err: (err as Error).message }, 'invalid tx on gossip');
        this.hooks.offence(source, 'invalid-tx', code);
      } else if (code === 'INTERNAL') {
        this.log.error({ err, peer: source }, 'tx from gossip could not be admitted');
      }
      return this.count('tx', verdict);
    }
  }
}
