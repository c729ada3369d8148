/**
 * Private event bodies between entitled members (docs/confidentiality.md), over a direct libp2p
 * protocol (`/tracechain/<chainId>/private/1`), never gossip. Pull only: every node asks each
 * connected member peer, now and then and after each new block, for the bodies the asker is
 * entitled to that the peer stored after a cursor. So a node that was down catches up from any
 * entitled holder, and a body goes only where the holder's own entitlement check sends it.
 *
 * Request: u64 after ‖ u16 limit (≤ MAX_LIMIT).
 * Reply:   first frame u64 scannedTo (the holder's arrival seq up to which it looked), then one
 *          frame per body: commitment (32) ‖ salt (32) ‖ event JCS (UTF-8).
 *
 * The asker checks every body against the commitment and the projection on its own main chain
 * (the rules are injected: trace/ decides), stores it only when it is itself entitled, and
 * scores a peer that sent a body not matching its commitment down (`bad-reply`).
 */
import type { Logger } from 'pino';
import type { Stream } from '@libp2p/interface';
import type { Member } from '../chain/types.js';
import type { NewBody, PrivateBodyStore } from '../chain/private-store.js';
import { FrameReader, writeFrames } from './framing.js';

export const MAX_LIMIT = 128;
const HEX64 = /^[0-9a-f]{64}$/;

export function privateProtocolFor(chainId: string): string {
  return `/tracechain/${chainId}/private/1`;
}

/** A private event on this node's main chain: its projection and its submitter's member ID. */
export interface PrivateEntry {
  projection: Record<string, unknown>;
  submitter: string;
}

export interface PrivateBodyRules {
  /** The private event with this commitment on our main chain; 'pending' while its tx is in our mempool; undefined otherwise. */
  lookup(commitment: string): Promise<PrivateEntry | 'pending' | undefined>;
  /** Is `member` entitled to this body (event JCS text) of an event submitted by `submitter`? */
  entitled(member: Member, eventText: string, submitter: string): boolean;
  /** The CBV 2.0 event ID of a checked body (kept with it, so a capture of the same event is found). */
  eventIdOf(eventText: string): string | undefined;
  /** Does the body open the commitment, with this projection? A reason when it does not. */
  check(body: { eventText: string; salt: string }, commitment: string, projection: Record<string, unknown>): string | undefined;
}

/** What the exchange needs of the network. */
export interface PrivateBodyTransport {
  handle(protocol: string, handler: (stream: Stream, peerId: string) => void): Promise<void>;
  dial(peerId: string, protocol: string, signal: AbortSignal): Promise<Stream>;
  connectedPeers(): string[];
  memberOfPeer(peerId: string): Member | undefined;
  penalize(peerId: string, detail: string): void;
}

export interface PrivateBodyOptions {
  chainId: string;
  /** This node's member (what it may receive is checked against it). */
  self: () => Member | undefined;
  /** How often every peer is asked, ms. */
  intervalMs: number;
  /** Bodies asked for per request. */
  batch: number;
  /** One request's time budget, ms. */
  timeoutMs: number;
  /** Largest event text carried, bytes (the chain's maxTxBytes). */
  maxEventBytes: number;
}

export interface PullReport {
  stored: number;
  refused: number;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), false);
  return b;
}

function readU64(b: Uint8Array, at: number): number {
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, false));
}

export function encodeBodyFrame(commitment: string, salt: string, eventText: string): Uint8Array {
  const text = Buffer.from(eventText, 'utf8');
  const out = new Uint8Array(64 + text.length);
  out.set(Buffer.from(commitment, 'hex'), 0);
  out.set(Buffer.from(salt, 'hex'), 32);
  out.set(text, 64);
  return out;
}

export function decodeBodyFrame(f: Uint8Array): { commitment: string; salt: string; eventText: string } {
  if (f.length < 65) throw new Error(`a body frame of ${f.length} bytes is too short`);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(f.subarray(64));
  return { commitment: Buffer.from(f.subarray(0, 32)).toString('hex'), salt: Buffer.from(f.subarray(32, 64)).toString('hex'), eventText: text };
}

export class PrivateBodyExchange {
  readonly protocol: string;
  /** Per peer: the holder's arrival seq we have read up to (memory only: after a restart we ask from 0 and skip what we hold). */
  private readonly cursors = new Map<string, number>();
  private readonly pulling = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly opts: PrivateBodyOptions,
    private readonly modules: { store: PrivateBodyStore; rules: PrivateBodyRules; transport: PrivateBodyTransport; clock: () => number; logger: Logger },
  ) {
    this.protocol = privateProtocolFor(opts.chainId);
    this.log = modules.logger.child({ module: 'private-bodies' });
  }

  async start(): Promise<void> {
    await this.modules.transport.handle(this.protocol, (stream, peerId) => void this.serve(stream, peerId));
    this.timer = setInterval(() => this.pullAll(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ask every connected peer now (a new block may have put commitments of ours on chain). */
  pullAll(): void {
    for (const peer of this.modules.transport.connectedPeers()) {
      if (this.modules.transport.memberOfPeer(peer) === undefined || this.pulling.has(peer)) continue;
      this.pull(peer).catch((err: unknown) => this.log.debug({ peer, err: (err as Error).message }, 'private body request failed'));
    }
  }

  /** Ask one peer for every body we are entitled to that it holds, page by page. */
  async pull(peer: string): Promise<PullReport> {
    const report: PullReport = { stored: 0, refused: 0 };
    if (this.pulling.has(peer)) return report;
    this.pulling.add(peer);
    try {
      for (let page = 0; page < 64; page++) {
        const after = this.cursors.get(peer) ?? 0;
        const { scannedTo, bodies } = await this.request(peer, after);
        let cursor = scannedTo;
        const fresh: NewBody[] = [];
        for (const b of bodies) {
          if (await this.modules.store.has(b.commitment)) continue;
          const entry = await this.modules.rules.lookup(b.commitment);
          if (entry === undefined || entry === 'pending') {
            // Not on our main chain (yet: the holder sends only what is on its own): ask again from here next time.
            cursor = after;
            break;
          }
          const why = this.modules.rules.check(b, b.commitment, entry.projection);
          if (why !== undefined) {
            report.refused++;
            this.modules.transport.penalize(peer, `private body ${b.commitment} refused: ${why}`);
            cursor = after;
            break;
          }
          const self = this.opts.self();
          // A body we are not entitled to is never kept (the holder should not have sent it).
          if (self === undefined || !this.modules.rules.entitled(self, b.eventText, entry.submitter)) continue;
          const eventId = this.modules.rules.eventIdOf(b.eventText);
          fresh.push(eventId === undefined ? b : { ...b, eventId });
        }
        if (fresh.length > 0) report.stored += await this.modules.store.put(fresh, this.modules.clock());
        this.cursors.set(peer, cursor);
        if (cursor <= after) break;
      }
      if (report.stored > 0) this.log.info({ peer, stored: report.stored }, 'private bodies received');
      return report;
    } finally {
      this.pulling.delete(peer);
    }
  }

  private async request(peer: string, after: number): Promise<{ scannedTo: number; bodies: { commitment: string; salt: string; eventText: string }[] }> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    const stream = await this.modules.transport.dial(peer, this.protocol, signal);
    const maxFrame = this.opts.maxEventBytes + 64;
    const reader = new FrameReader(stream, { maxFrameBytes: maxFrame, maxTotalBytes: 8 + (MAX_LIMIT + 1) * (maxFrame + 4) });
    try {
      const req = new Uint8Array(10);
      req.set(u64(after), 0);
      new DataView(req.buffer).setUint16(8, Math.min(this.opts.batch, MAX_LIMIT), false);
      await writeFrames(stream, [req], { signal });
      await stream.close({ signal });
      const head = await reader.next({ signal });
      if (!head || head.length !== 8) throw new Error('the reply does not start with a cursor');
      const scannedTo = readU64(head, 0);
      const bodies: { commitment: string; salt: string; eventText: string }[] = [];
      for (;;) {
        const f = await reader.next({ signal });
        if (!f) break;
        if (bodies.length >= MAX_LIMIT) throw new Error('more bodies than asked for');
        bodies.push(decodeBodyFrame(f));
      }
      return { scannedTo, bodies };
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      reader.dispose();
    }
  }

  /** Answer a peer: the bodies after its cursor that its member is entitled to and that are on our main chain. */
  private async serve(stream: Stream, peer: string): Promise<void> {
    const member = this.modules.transport.memberOfPeer(peer);
    const reader = new FrameReader(stream, { maxFrameBytes: 10, maxTotalBytes: 14 });
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      if (member === undefined) throw new Error('not a member');
      const req = await reader.next({ signal });
      if (!req || req.length !== 10) throw new Error('a request is u64 after ‖ u16 limit');
      const after = readU64(req, 0);
      const limit = Math.max(1, Math.min(new DataView(req.buffer, req.byteOffset, 10).getUint16(8, false), MAX_LIMIT));
      const held = await this.modules.store.after(after, limit);
      let scannedTo = after;
      const frames: Uint8Array[] = [];
      for (const b of held) {
        if (!b.purged && HEX64.test(b.salt)) {
          const entry = await this.modules.rules.lookup(b.commitment);
          // Pending in our mempool: stop here, the asker comes back for it. Neither on chain nor
          // pending (its capture was refused after the body was kept): never sent, passed over.
          if (entry === 'pending') break;
          if (entry !== undefined && this.modules.rules.entitled(member, b.eventText, entry.submitter)) frames.push(encodeBodyFrame(b.commitment, b.salt, b.eventText));
        }
        scannedTo = b.seq;
      }
      await writeFrames(stream, [u64(scannedTo), ...frames], { signal });
      await stream.close({ signal });
      if (frames.length > 0) this.log.debug({ peer, member: member.name, sent: frames.length }, 'private bodies sent');
    } catch (err) {
      this.log.debug({ peer, err: (err as Error).message }, 'private body request not answered');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      reader.dispose();
    }
  }
}

