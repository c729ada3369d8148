/**
 * Both ends of the sync protocol over libp2p streams. The responder decodes one request and
 * answers from the chain's read side; the requester sends one request and reads the reply
 * with frame limits and a timeout. Errors are typed so the synchroniser can tell a slow peer
 * (TIMEOUT: a stall) from a lying one (BAD_REPLY: an offence) from a vanished one (FAILED).
 */
import type { Logger } from 'pino';
import type { PeerId, Stream } from '@libp2p/interface';
import { HEADER_SIZE, hashHeaderBytes } from '../chain/header.js';
import { toHex } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';
import type { ChainPort } from './chain-port.js';
import { FrameReader, FramingError, writeFrames } from './framing.js';
import { serveHeaders, type HeaderServeSource } from './locator.js';
import {
  ProtocolError,
  REQUEST_FRAME_LIMITS,
  SYNC_LIMITS,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  replyFrameLimits,
  type SyncReply,
  type SyncRequest,
} from './protocol.js';

export function headerSourceOf(chain: ChainPort): HeaderServeSource {
  return {
    tipHeight: () => chain.tip().height,
    mainHashAt: (h) => chain.mainHashAt(h),
    heightOf: (hash) => chain.heightOf(hash),
    headerBytes: (hash) => chain.headerBytes(hash),
  };
}

/** Answer one request. Used as the body of the protocol handler; never throws. */
export async function serveSyncStream(stream: Stream, chain: ChainPort, log: Logger, timeoutMs: number): Promise<void> {
  const reader = new FrameReader(stream, REQUEST_FRAME_LIMITS);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const frame = await reader.next({ signal });
    if (!frame) {
      await stream.close({ signal });
      return;
    }
    let req: SyncRequest;
    try {
      req = decodeRequest(frame);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      await writeFrames(stream, [encodeReply({ type: 'error', message: err.message })], { signal });
      await stream.close({ signal });
      return;
    }
    await writeFrames(stream, await answer(req, chain), { signal });
    await stream.close({ signal });
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'sync request not answered');
    stream.abort(err instanceof Error ? err : new Error(String(err)));
  } finally {
    reader.dispose();
  }
}

async function answer(req: SyncRequest, chain: ChainPort): Promise<Uint8Array[]> {
  switch (req.type) {
    case 'status': {
      const tip = chain.tip();
      return [encodeReply({ type: 'status', height: tip.height, tip: tip.hash, chainwork: tip.chainwork })];
    }
    case 'headers':
      return [encodeReply({ type: 'headers', headers: await serveHeaders(req, headerSourceOf(chain)) })];
    case 'blocks': {
      const out: Uint8Array[] = [];
      let bytes = 0;
      for (const hash of req.hashes) {
        // Past the budget the reply simply ends; the requester asks someone else for the rest.
        if (bytes >= SYNC_LIMITS.replyByteBudget) break;
        const block = await chain.blockBytes(hash);
        const frame = block ? encodeReply({ type: 'block', bytes: block }) : encodeReply({ type: 'notFound', hash });
        bytes += frame.length;
        out.push(frame);
      }
      return out;
    }
  }
}

export type SyncRequestErrorCode = 'TIMEOUT' | 'BAD_REPLY' | 'FAILED';

export class SyncRequestError extends CodedError<SyncRequestErrorCode> {
  override readonly name = 'SyncRequestError';
}

export interface PeerStatus {
  height: number;
  tip: string;
  chainwork: bigint;
}

export type BlockReplyItem = { hash: string; bytes: Uint8Array } | { hash: string; bytes: null };

/** The requests the synchroniser makes, by peer ID string (tests substitute a fake). */
export interface SyncTransport {
  status(peer: string): Promise<PeerStatus & { rttMs: number }>;
  headers(peer: string, locator: string[], max: number): Promise<Uint8Array[]>;
  blocks(peer: string, hashes: string[]): Promise<BlockReplyItem[]>;
}

export interface Dialer {
  dialProtocol(peer: PeerId, protocol: string, options: { signal: AbortSignal }): Promise<Stream>;
}

export interface RequestTimeouts {
  statusMs: number;
  headersMs: number;
  blocksMs: number;
}

export const DEFAULT_TIMEOUTS: RequestTimeouts = { statusMs: 5_000, headersMs: 10_000, blocksMs: 20_000 };

export class SyncClient implements SyncTransport {
  private readonly limits: { maxFrameBytes: number; maxTotalBytes: number };

  constructor(
    private readonly dialer: Dialer,
    private readonly protocol: string,
    private readonly resolvePeer: (peer: string) => PeerId | undefined,
    maxBlockBytes: number,
    private readonly timeouts: RequestTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.limits = replyFrameLimits(maxBlockBytes);
  }

  private async request(peer: string, req: SyncRequest, timeoutMs: number): Promise<SyncReply[]> {
    const id = this.resolvePeer(peer);
    if (!id) throw new SyncRequestError('FAILED', `peer ${peer} is not connected`);
    const signal = AbortSignal.timeout(timeoutMs);
    let stream: Stream;
    try {
      stream = await this.dialer.dialProtocol(id, this.protocol, { signal });
    } catch (err) {
      if (signal.aborted) throw new SyncRequestError('TIMEOUT', `opening a stream to ${peer} took over ${timeoutMs} ms`);
      throw new SyncRequestError('FAILED', `cannot open a sync stream to ${peer}: ${(err as Error).message}`);
    }
    const reader = new FrameReader(stream, this.limits);
    try {
      await writeFrames(stream, [encodeRequest(req)], { signal });
      await stream.close({ signal });
      const out: SyncReply[] = [];
      for (;;) {
        const frame = await reader.next({ signal });
        if (!frame) break;
        if (out.length >= SYNC_LIMITS.maxBlocksPerRequest) throw new ProtocolError('more reply frames than asked for');
        out.push(decodeReply(frame));
      }
      return out;
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      if (signal.aborted || (err instanceof FramingError && err.code === 'TIMEOUT')) {
        throw new SyncRequestError('TIMEOUT', `${req.type} request to ${peer} took over ${timeoutMs} ms`);
      }
      if (err instanceof ProtocolError || (err instanceof FramingError && err.code !== 'STREAM_FAILED')) {
        throw new SyncRequestError('BAD_REPLY', `${req.type} reply from ${peer}: ${err.message}`);
      }
      throw new SyncRequestError('FAILED', `${req.type} request to ${peer}: ${(err as Error).message}`);
    } finally {
      reader.dispose();
    }
  }

  private static single(replies: SyncReply[], peer: string): SyncReply {
    const [only, extra] = replies;
    if (!only || extra) throw new SyncRequestError('BAD_REPLY', `${peer} sent ${replies.length} replies, expected one`);
    if (only.type === 'error') throw new SyncRequestError('BAD_REPLY', `${peer} refused: ${only.message}`);
    return only;
  }

  async status(peer: string): Promise<PeerStatus & { rttMs: number }> {
    const t0 = performance.now();
    const r = SyncClient.single(await this.request(peer, { type: 'status' }, this.timeouts.statusMs), peer);
    if (r.type !== 'status') throw new SyncRequestError('BAD_REPLY', `${peer} answered status with ${r.type}`);
    return { height: r.height, tip: r.tip, chainwork: r.chainwork, rttMs: performance.now() - t0 };
  }

  async headers(peer: string, locator: string[], max: number): Promise<Uint8Array[]> {
    const r = SyncClient.single(await this.request(peer, { type: 'headers', locator, stop: null, max }, this.timeouts.headersMs), peer);
    if (r.type !== 'headers') throw new SyncRequestError('BAD_REPLY', `${peer} answered headers with ${r.type}`);
    if (r.headers.length > max) throw new SyncRequestError('BAD_REPLY', `${peer} sent ${r.headers.length} headers, asked for ${max}`);
    return r.headers;
  }

  /** Blocks in request order; a reply may stop early (byte budget), and never carries others. */
  async blocks(peer: string, hashes: string[]): Promise<BlockReplyItem[]> {
    const replies = await this.request(peer, { type: 'blocks', hashes }, this.timeouts.blocksMs);
    if (replies.length > hashes.length) throw new SyncRequestError('BAD_REPLY', `${peer} sent more blocks than asked for`);
    return replies.map((r, i) => {
      const want = hashes[i] as string;
      if (r.type === 'notFound') {
        if (r.hash !== want) throw new SyncRequestError('BAD_REPLY', `${peer} answered out of order`);
        return { hash: want, bytes: null };
      }
      if (r.type !== 'block') throw new SyncRequestError('BAD_REPLY', `${peer} answered a block request with ${r.type}`);
      if (r.bytes.length < HEADER_SIZE || toHex(hashHeaderBytes(r.bytes.subarray(0, HEADER_SIZE))) !== want) {
        throw new SyncRequestError('BAD_REPLY', `${peer} sent a block that is not ${want}`);
      }
      return { hash: want, bytes: r.bytes };
    });
  }
}
