import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BufferPool } from '../../../src/api/buffer-pool.js';
import { JsonBytes } from '../../../src/api/json-bytes.js';

describe('BufferPool', () => {
  const opts = { maxBuffers: 2, maxBufferBytes: 4096, defaultBytes: 1024 };

  it('hands a released buffer out again, once, and only when it is large enough', () => {
    const pool = new BufferPool(opts);
    const a = pool.acquire(100);
    expect(a.length).toBe(1024); // at least defaultBytes
    pool.release(a);
    pool.release(a); // a second release is ignored: the buffer is not handed out twice
    expect(pool.acquire(2000)).not.toBe(a); // too small for this request
    expect(pool.acquire(10)).toBe(a);
    expect(pool.acquire(10)).not.toBe(a);
    expect(pool.stats()).toMatchObject({ reuses: 1, allocations: 3 });
  });

  it('keeps at most maxBuffers, the largest ones, none over maxBufferBytes, and nothing it did not lend', () => {
    const pool = new BufferPool(opts);
    const [a, b, c, huge] = [pool.acquire(1024), pool.acquire(2048), pool.acquire(3000), pool.acquire(8192)];
    for (const x of [a, b, c, huge]) pool.release(x as Buffer);
    pool.release(Buffer.alloc(2048)); // not from this pool
    expect(pool.stats()).toMatchObject({ kept: 2, keptBytes: 2048 + 3000 });
  });
});

describe('JsonBytes with a pool', () => {
  it('writes the same bytes, swaps its buffer for a larger pooled one as it grows, and gives it back on release', () => {
    const pool = new BufferPool({ maxBuffers: 4, maxBufferBytes: 1 << 20, defaultBytes: 256 });
    const value = { s: 'x'.repeat(5000), n: [1, 2, 3] };
    const w = new JsonBytes(16, pool);
    w.ascii('[').value(value).ascii(',').text('"ü"').ascii(']');
    expect(w.bytes().toString('utf8')).toBe(JSON.stringify([value, 'ü']));
    const grown = pool.stats();
    expect(grown.allocations).toBeGreaterThan(1); // it grew
    expect(grown.kept).toBe(grown.allocations - 1); // each outgrown buffer came back at once
    w.release();
    expect(pool.stats().kept).toBe(grown.allocations);
    const again = new JsonBytes(5000, pool);
    expect(pool.stats()).toMatchObject({ reuses: 1, allocations: grown.allocations }); // a large one is reused
    again.release();
  });
});

describe('JsonBytes.string', () => {
  it('writes exactly the bytes of JSON.stringify for any string (quotes, backslashes, controls, non-ASCII, lone surrogates)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string(), fc.constantFrom('', '"', '\\', '\n', '\u2028', '\ud800', 'a\udc00b', '"\\"\u0001')), (s) => {
        const w = new JsonBytes(16);
        w.ascii('[').string(s).ascii(',').string(s + s).ascii(']');
        expect(w.bytes().toString('utf8')).toBe(`[${JSON.stringify(s)},${JSON.stringify(s + s)}]`);
      }),
      { numRuns: 2000 },
    );
  });

  it('escapes a canonical tx as JSON.stringify does', () => {
    const tx = JSON.stringify({ a: 'x"y\\z', events: [{ epc: 'urn:epc:id:sgtin:0614141.107346.1', note: 'línea\nnueva 💊' }] });
    const w = new JsonBytes(16);
    w.string(tx);
    expect(w.bytes().toString('utf8')).toBe(JSON.stringify(tx));
    expect(JSON.parse(w.bytes().toString('utf8'))).toBe(tx);
  });
});
