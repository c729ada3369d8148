/** Framing and sync message decoding: limits hold before allocation; garbage is a typed error. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameDecoder, FramingError, encodeFrame } from '../../../src/p2p/framing.js';
import { ProtocolError, SYNC_LIMITS, decodeReply, decodeRequest, encodeReply, encodeRequest, replyFrameLimits, type SyncReply, type SyncRequest } from '../../../src/p2p/protocol.js';

const LIMITS = { maxFrameBytes: 1024, maxTotalBytes: 4096 };
const h = (c: string): string => c.repeat(64);

function catchErr(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('FrameDecoder', () => {
  it('decodes frames whole, split byte by byte, and several per chunk', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array(500).fill(7);
    const wire = new Uint8Array([...encodeFrame(a), ...encodeFrame(b), ...encodeFrame(new Uint8Array(0))]);
    expect(new FrameDecoder(LIMITS).push(wire)).toEqual([a, b, new Uint8Array(0)]);
    const d = new FrameDecoder(LIMITS);
    const out: Uint8Array[] = [];
    for (const byte of wire) out.push(...d.push(new Uint8Array([byte])));
    expect(out).toEqual([a, b, new Uint8Array(0)]);
    d.end();
  });

  it('refuses an oversized frame from its header, before allocating it', () => {
    const d = new FrameDecoder(LIMITS);
    const err = catchErr(() => d.push(new Uint8Array([0xff, 0xff, 0xff, 0xff])));
    expect(err).toBeInstanceOf(FramingError);
    expect((err as FramingError).code).toBe('FRAME_TOO_LARGE');
    expect(() => new FrameDecoder(LIMITS).push(encodeFrame(new Uint8Array(1025)))).toThrow(/FRAME_TOO_LARGE/);
  });

  it('refuses more bytes than a stream may carry', () => {
    const d = new FrameDecoder(LIMITS);
    for (let i = 0; i < 4; i++) d.push(encodeFrame(new Uint8Array(1000)));
    expect(() => d.push(encodeFrame(new Uint8Array(100)))).toThrow(/TOO_MUCH_DATA/);
  });

  it('a stream that ends inside a frame is truncated', () => {
    const d = new FrameDecoder(LIMITS);
    d.push(encodeFrame(new Uint8Array(10)).subarray(0, 7));
    expect(() => d.end()).toThrow(/TRUNCATED/);
    const e = new FrameDecoder(LIMITS);
    e.push(new Uint8Array([0, 0]));
    expect(() => e.end()).toThrow(/TRUNCATED/);
  });

  it('never throws anything but FramingError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }), (chunks) => {
        const d = new FrameDecoder(LIMITS);
        for (const c of chunks) {
          try {
            for (const f of d.push(c)) expect(f.length).toBeLessThanOrEqual(LIMITS.maxFrameBytes);
          } catch (err) {
            expect(err).toBeInstanceOf(FramingError);
            return;
          }
        }
      }),
    );
  });
});

describe('sync messages', () => {
  const requests: SyncRequest[] = [
    { type: 'status' },
    { type: 'headers', locator: [h('a'), h('b'), h('0')], stop: null, max: 2000 },
    { type: 'headers', locator: [h('c')], stop: h('d'), max: 1 },
    { type: 'blocks', hashes: Array.from({ length: 128 }, (_, i) => (i % 16).toString(16).repeat(64)) },
  ];
  const replies: SyncReply[] = [
    { type: 'status', height: 4_000_000_000, tip: h('e'), chainwork: (1n << 200n) + 12345n },
    { type: 'headers', headers: [new Uint8Array(112).fill(1), new Uint8Array(112).fill(2)] },
    { type: 'headers', headers: [] },
    { type: 'block', bytes: new Uint8Array(300).fill(9) },
    { type: 'notFound', hash: h('f') },
    { type: 'error', message: 'no thanks' },
  ];

  it('round-trips every request and reply', () => {
    for (const r of requests) expect(decodeRequest(encodeRequest(r))).toEqual(r);
    for (const r of replies) expect(decodeReply(encodeReply(r))).toEqual(r);
  });

  it('refuses counts over the limits, on encode and decode', () => {
    expect(() => encodeRequest({ type: 'headers', locator: Array(65).fill(h('a')), stop: null, max: 10 })).toThrow(RangeError);
    expect(() => encodeRequest({ type: 'headers', locator: [h('a')], stop: null, max: 2001 })).toThrow(RangeError);
    expect(() => encodeRequest({ type: 'blocks', hashes: Array(129).fill(h('a')) })).toThrow(RangeError);
    const tooManyLocator = new Uint8Array(1 + 1 + 65 * 32 + 32 + 2);
    tooManyLocator[0] = 0x02;
    tooManyLocator[1] = 65;
    expect(() => decodeRequest(tooManyLocator)).toThrow(ProtocolError);
    const maxTooHigh = encodeRequest({ type: 'headers', locator: [h('a')], stop: null, max: 5 });
    new DataView(maxTooHigh.buffer).setUint16(maxTooHigh.length - 2, 2001, false);
    expect(() => decodeRequest(maxTooHigh)).toThrow(/max headers/);
    const blocks = new Uint8Array([0x03, 0x00, 0x81]);
    expect(() => decodeRequest(blocks)).toThrow(/limit 128/);
    const headers = new Uint8Array([0x82, 0x07, 0xd1]);
    expect(() => decodeReply(headers)).toThrow(/limit 2000/);
    expect(() => decodeRequest(new Uint8Array(SYNC_LIMITS.maxRequestBytes + 1))).toThrow(/limit/);
  });

  it('refuses garbage: unknown types, truncation, trailing bytes, bad UTF-8', () => {
    expect(() => decodeRequest(new Uint8Array([0x7f]))).toThrow(/unknown request type/);
    expect(() => decodeRequest(new Uint8Array([]))).toThrow(ProtocolError);
    expect(() => decodeRequest(new Uint8Array([0x01, 0x00]))).toThrow(/trailing/);
    expect(() => decodeReply(new Uint8Array([0x81, 0, 0]))).toThrow(/truncated/);
    expect(() => decodeReply(new Uint8Array([0x82, 0, 1, ...new Uint8Array(111)]))).toThrow(/truncated/);
    expect(() => decodeReply(new Uint8Array([0x8f, 0xff, 0xfe]))).toThrow(/UTF-8/);
    expect(() => decodeReply(new Uint8Array([0x11]))).toThrow(/unknown reply type/);
  });

  it('never throws anything but ProtocolError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom(0x01, 0x02, 0x03, 0x81, 0x82, 0x83, 0x84, 0x8f), (bytes, type) => {
        const msg = new Uint8Array([type, ...bytes]);
        for (const decode of [decodeRequest, decodeReply]) {
          try {
            decode(msg);
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        }
      }),
    );
  });

  it('reply limits fit the largest block and a full header batch', () => {
    const l = replyFrameLimits(4 * 1024 * 1024);
    expect(l.maxFrameBytes).toBe(4 * 1024 * 1024 + 1);
    expect(replyFrameLimits(1000).maxFrameBytes).toBe(1 + 2 + 2000 * 112);
    expect(l.maxTotalBytes).toBeGreaterThan(SYNC_LIMITS.replyByteBudget + l.maxFrameBytes);
  });
});
