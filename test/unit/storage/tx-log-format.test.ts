import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import {
  decodeSegmentHeader,
  encodeRecordHeader,
  encodeSegmentHeader,
  RECORD_HEADER_BYTES,
  RECORD_KIND,
  scanSegment,
  SEGMENT_HEADER_BYTES,
} from '../../../src/storage/tx-log-format.js';

const MAX = 1 << 20;

function segment(payloads: Uint8Array[], seq = 7): { bytes: Uint8Array; offsets: number[] } {
  const parts: Uint8Array[] = [encodeSegmentHeader(seq)];
  const offsets: number[] = [];
  let at = SEGMENT_HEADER_BYTES;
  payloads.forEach((p, i) => {
    const key = new Uint8Array(32).fill(i + 1);
    parts.push(encodeRecordHeader(RECORD_KIND.tx, key, p), p);
    offsets.push(at);
    at += RECORD_HEADER_BYTES + p.length;
  });
  const bytes = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, offsets };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('tx log format', () => {
  it('segment header round-trips its sequence; a flipped byte or a short header is refused', () => {
    const h = encodeSegmentHeader(2 ** 40 + 5);
    expect(decodeSegmentHeader(h)).toEqual({ ok: true, sequence: 2 ** 40 + 5 });
    for (let i = 0; i < h.length; i++) {
      const bad = h.slice();
      bad[i] = (bad[i] as number) ^ 0x10;
      expect(decodeSegmentHeader(bad).ok, `byte ${i}`).toBe(false);
    }
    expect(decodeSegmentHeader(h.subarray(0, 10))).toEqual({ ok: false, reason: expect.stringMatching(/torn/) });
  });

  it('scans back any records written (property), in order, with keys and payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 20 }), (payloads) => {
        const { bytes, offsets } = segment(payloads);
        const scan = scanSegment(bytes, MAX);
        expect(scan.damaged).toEqual([]);
        expect(scan.tail).toBeUndefined();
        expect(scan.records.map((r) => [r.offset, Array.from(r.payload), r.key[0]])).toEqual(payloads.map((p, i) => [offsets[i], Array.from(p), i + 1]));
      }),
    );
  });

  it('a cut at every byte: the whole records before the cut are found, the rest is the tail', () => {
    const payloads = [text('{"a":1}'), text('{"bb":22}'), text('{"ccc":333}')];
    const { bytes, offsets } = segment(payloads);
    for (let len = SEGMENT_HEADER_BYTES; len <= bytes.length; len++) {
      const scan = scanSegment(bytes.subarray(0, len), MAX);
      const whole = offsets.filter((o, i) => o + RECORD_HEADER_BYTES + (payloads[i] as Uint8Array).length <= len).length;
      expect(scan.records.length, `cut at ${len}`).toBe(whole);
      expect(scan.damaged).toEqual([]);
      const end = whole === 0 ? SEGMENT_HEADER_BYTES : (offsets[whole - 1] as number) + RECORD_HEADER_BYTES + (payloads[whole - 1] as Uint8Array).length;
      expect(scan.tail === undefined ? len : scan.tail.offset, `cut at ${len}`).toBe(end);
    }
  });

  it('a flipped byte in a middle record is damage (with a reason) and the records after it are found; in the last, it is the tail', () => {
    const payloads = [text('{"a":1}'), text('{"b":2}'), text('{"c":3}')];
    const { bytes, offsets } = segment(payloads);
    for (let i = SEGMENT_HEADER_BYTES; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      const scan = scanSegment(bad, MAX);
      const hit = offsets.findLastIndex((o) => o <= i);
      expect(scan.records.map((r) => r.offset)).toEqual(offsets.filter((_, k) => k !== hit));
      if (hit === payloads.length - 1) {
        expect(scan.tail?.offset).toBe(offsets[hit]);
        expect(scan.damaged).toEqual([]);
      } else {
        expect(scan.damaged).toEqual([{ offset: offsets[hit], length: (offsets[hit + 1] as number) - (offsets[hit] as number), reason: expect.any(String) }]);
      }
    }
  });

  it('zeros after the last record (an extended but unwritten file) are a tail, never a record', () => {
    const { bytes } = segment([text('{"a":1}')]);
    const padded = new Uint8Array(bytes.length + 4096);
    padded.set(bytes);
    const scan = scanSegment(padded, MAX);
    expect(scan.records).toHaveLength(1);
    expect(scan.tail).toEqual({ offset: bytes.length, length: 4096, reason: 'no record magic' });
  });

  it('an unknown record kind with a good checksum is damage, not a record', () => {
    const p = text('{"job":1}');
    const header = encodeRecordHeader(RECORD_KIND.tx, new Uint8Array(32), p);
    header[8] = 9;
    const { bytes } = segment([text('{"a":1}')]);
    const out = new Uint8Array(bytes.length + header.length + p.length + bytes.length - SEGMENT_HEADER_BYTES);
    out.set(bytes);
    // Re-seal the kind-9 record's checksum so only the kind is wrong.
    const body = new Uint8Array(40 + p.length);
    body.set(header.subarray(4, 44));
    body.set(p, 40);
    new DataView(header.buffer).setUint32(44, crc32(body), true);
    out.set(header, bytes.length);
    out.set(p, bytes.length + header.length);
    out.set(bytes.subarray(SEGMENT_HEADER_BYTES), bytes.length + header.length + p.length);
    const scan = scanSegment(out, MAX);
    expect(scan.records).toHaveLength(2);
    expect(scan.damaged).toEqual([{ offset: bytes.length, length: header.length + p.length, reason: expect.stringMatching(/unknown record kind 9/) }]);
  });
});
