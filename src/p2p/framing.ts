/**
 * Length-prefixed framing for the request/response protocols: each frame is a u32 big-endian
 * length followed by that many bytes. Hard limits on every frame and on the total a reply may
 * carry are checked before anything is allocated; a peer that exceeds them gets its stream
 * aborted, never an unbounded buffer.
 *
 * FrameDecoder is pure (unit-tested on bytes); FrameReader feeds it from a libp2p stream's
 * message events synchronously, so bytes are counted the moment they arrive.
 */
import type { AbortOptions, Stream } from '@libp2p/interface';
import { CodedError } from '../common/errors.js';

export const FRAME_HEADER_BYTES = 4;
export const MAX_FRAME_BYTES = 0xffffffff;

export type FramingErrorCode = 'FRAME_TOO_LARGE' | 'TOO_MUCH_DATA' | 'TRUNCATED' | 'TIMEOUT' | 'STREAM_FAILED';

export class FramingError extends CodedError<FramingErrorCode> {
  override readonly name = 'FramingError';
}

export interface FrameLimits {
  /** Largest payload one frame may carry. */
  maxFrameBytes: number;
  /** Most bytes (headers included) one direction of one stream may carry. */
  maxTotalBytes: number;
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_BYTES) throw new RangeError('frame payload too large');
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Incremental decoder: push chunks as they arrive, get whole frames back. */
export class FrameDecoder {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private total = 0;

  constructor(private readonly limits: FrameLimits) {}

  /** Bytes received so far. */
  get received(): number {
    return this.total;
  }

  /** Whether a frame is partly received. */
  get partial(): boolean {
    return this.headerFill > 0 || this.body !== undefined;
  }

  /** Consume a chunk; returns the frames it completed. Throws FramingError on a limit. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.total += chunk.length;
    if (this.total > this.limits.maxTotalBytes) {
      throw new FramingError('TOO_MUCH_DATA', `peer sent more than ${this.limits.maxTotalBytes} bytes`);
    }
    const out: Uint8Array[] = [];
    let o = 0;
    while (o < chunk.length) {
      if (this.body === undefined) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - o);
        this.header.set(chunk.subarray(o, o + take), this.headerFill);
        this.headerFill += take;
        o += take;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        const len = new DataView(this.header.buffer).getUint32(0, false);
        if (len > this.limits.maxFrameBytes) {
          throw new FramingError('FRAME_TOO_LARGE', `frame of ${len} bytes, limit ${this.limits.maxFrameBytes}`);
        }
        this.headerFill = 0;
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
      }
      const need = this.body.length - this.bodyFill;
      const take = Math.min(need, chunk.length - o);
      this.body.set(chunk.subarray(o, o + take), this.bodyFill);
      this.bodyFill += take;
      o += take;
      if (this.bodyFill === this.body.length) {
        out.push(this.body);
        this.body = undefined;
      }
    }
    // A zero-length frame completes as soon as its header does.
    if (this.body !== undefined && this.body.length === 0) {
      out.push(this.body);
      this.body = undefined;
    }
    return out;
  }

  /** The stream ended: throws if it ended inside a frame. */
  end(): void {
    if (this.partial) throw new FramingError('TRUNCATED', 'stream ended inside a frame');
  }
}

interface ByteChunk {
  subarray(): Uint8Array;
}

function bytesOf(data: Uint8Array | ByteChunk): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

/**
 * Reads frames from a stream. Bytes are decoded synchronously as they arrive, so the limits
 * hold for whatever the peer sends, however slowly frames are consumed.
 */
export class FrameReader {
  private readonly decoder: FrameDecoder;
  private readonly frames: Uint8Array[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Stream,
    limits: FrameLimits,
  ) {
    this.decoder = new FrameDecoder(limits);
    stream.addEventListener('message', this.onMessage);
    stream.addEventListener('end', this.onWake);
    stream.addEventListener('close', this.onClose);
  }

  private readonly onMessage = (evt: { data: Uint8Array | ByteChunk }): void => {
    if (this.failure) return;
    try {
      for (const f of this.decoder.push(bytesOf(evt.data))) this.frames.push(f);
    } catch (err) {
      this.failure = err as Error;
      this.stream.abort(this.failure);
    }
    this.onWake();
  };

  private readonly onWake = (): void => {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  };

  private readonly onClose = (evt: { error?: Error }): void => {
    if (evt.error && !this.failure) this.failure = new FramingError('STREAM_FAILED', evt.error.message);
    this.onWake();
  };

  /** Next frame, or null at a clean end of stream. Throws FramingError. */
  async next(options: AbortOptions = {}): Promise<Uint8Array | null> {
    for (;;) {
      const f = this.frames.shift();
      if (f) return f;
      if (this.failure) throw this.failure;
      if (options.signal?.aborted) throw new FramingError('TIMEOUT', 'no reply in time');
      if (this.stream.readableEnded || this.stream.status === 'closed') {
        this.decoder.end();
        return null;
      }
      if (this.stream.status === 'aborted' || this.stream.status === 'reset') {
        throw new FramingError('STREAM_FAILED', `stream ${this.stream.status}`);
      }
      await new Promise<void>((resolve, reject) => {
        const signal = options.signal;
        const onAbort = (): void => reject(new FramingError('TIMEOUT', 'no reply in time'));
        signal?.addEventListener('abort', onAbort, { once: true });
        this.wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
  }

  dispose(): void {
    this.stream.removeEventListener('message', this.onMessage);
    this.stream.removeEventListener('end', this.onWake);
    this.stream.removeEventListener('close', this.onClose);
    this.wake = undefined;
  }
}

/** Write frames with backpressure: wait for drain whenever the stream asks. */
export async function writeFrames(stream: Stream, payloads: Iterable<Uint8Array>, options: AbortOptions = {}): Promise<void> {
  for (const p of payloads) {
    if (!stream.send(encodeFrame(p))) await stream.onDrain(options);
  }
}
