import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { generateSha256dWasm } from '../../../assembly/sha256d.mjs';
import {
  TsKernel,
  NobleKernel,
  WasmSimdKernel,
  loadSha256dModule,
  targetToBytes,
  digestMeetsTarget,
  wasmSimdAvailable,
  type HashKernel,
} from '../../../src/consensus/kernel/index.js';
import type { WasmModule } from '../../../src/consensus/kernel/wasm-api.js';

const U64 = (1n << 64n) - 1n;

function withNonce(header: Uint8Array, nonce: bigint): Uint8Array {
  const h = header.slice();
  new DataView(h.buffer).setBigUint64(104, nonce, true);
  return h;
}

function reference(header: Uint8Array, nonce: bigint): Uint8Array {
  return sha256(sha256(withNonce(header, nonce)));
}

/** Straightforward scan with noble: the expected result of every kernel. */
function referenceScan(header: Uint8Array, start: bigint, count: number, target: Uint8Array): { found: boolean; nonce?: bigint; hashes: number } {
  for (let i = 0; i < count; i++) {
    const n = start + BigInt(i);
    if (digestMeetsTarget(reference(header, n), target)) return { found: true, nonce: n, hashes: i + 1 };
  }
  return { found: false, hashes: count };
}

const headerArb = fc.uint8Array({ minLength: 112, maxLength: 112 });
// nonces biased to the edges of the 32-bit halves, where the kernels switch precomputations
const nonceArb = fc.oneof(
  fc.bigInt({ min: 0n, max: U64 }),
  fc.tuple(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 1, max: 9 })).map(([hi, k]) => (hi << 32n) + (1n << 32n) - BigInt(k)),
  fc.integer({ min: 0, max: 9 }).map((k) => U64 - BigInt(k)),
  fc.integer({ min: 0, max: 9 }).map((k) => BigInt(k)),
);

let wasmModule: WasmModule;

beforeAll(async () => {
  wasmModule = await loadSha256dModule(generateSha256dWasm().bytes);
});

describe.each([
  ['ts-midstate', () => new TsKernel() as HashKernel],
  ['wasm-simd128', () => new WasmSimdKernel(wasmModule) as HashKernel],
  ['noble-sha256d', () => new NobleKernel() as HashKernel],
])('%s kernel', (name, make) => {
  it('has its name', () => {
    expect(wasmSimdAvailable()).toBe(true);
    expect(make().name).toBe(name);
  });

  it('digest equals noble sha256(sha256(header)) on random headers and nonces', () => {
    const k = make();
    fc.assert(
      fc.property(headerArb, nonceArb, (header, nonce) => {
        k.setHeader(header);
        expect(Buffer.from(k.digest(nonce)).toString('hex')).toBe(Buffer.from(reference(header, nonce)).toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('ignores the nonce bytes of the header it is given and copies the header', () => {
    const k = make();
    const header = new Uint8Array(112).fill(7);
    k.setHeader(header);
    const d1 = k.digest(5n).slice();
    header.fill(9, 104); // nonce bytes, then the rest: neither may leak in after setHeader
    header[0] = 1;
    expect(k.digest(5n)).toEqual(d1);
    expect(d1).toEqual(reference(new Uint8Array(112).fill(7), 5n));
  });

  it('scan returns the first nonce meeting the target, as a plain loop over noble does', () => {
    const k = make();
    fc.assert(
      fc.property(
        headerArb,
        nonceArb,
        fc.integer({ min: 0, max: 37 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom('random', 'exact', 'just-below', 'first-word'),
        (header, start0, count, randomTarget, pick, mode) => {
          const start = start0 + BigInt(count) > U64 + 1n ? U64 + 1n - BigInt(count) : start0;
          k.setHeader(header);
          let target: Uint8Array = randomTarget;
          if (mode !== 'random' && count > 0) {
            // a target equal to (or just below) one digest in the range exercises the exact
            // comparison after the first word matches
            const d = reference(header, start + BigInt(pick % count));
            target = d.slice();
            if (mode === 'just-below') {
              const v = BigInt('0x' + Buffer.from(d).toString('hex'));
              target = targetToBytes(v === 0n ? 0n : v - 1n);
            }
            if (mode === 'first-word') target.fill(0, 4); // same first word, anything after is larger
          }
          const got = k.scan(start, count, target);
          const want = referenceScan(header, start, count, target);
          expect(got.found).toBe(want.found);
          expect(got.hashes).toBe(want.hashes);
          if (got.found) expect(got.nonce).toBe(want.nonce);
        },
      ),
      { numRuns: name === 'noble-sha256d' ? 60 : 200 },
    );
  });

  it('finds a nonce for an easy target, and it verifies', () => {
    const k = make();
    const header = new Uint8Array(112);
    for (let i = 0; i < 112; i++) header[i] = (i * 131 + 17) & 0xff;
    k.setHeader(header);
    const target = targetToBytes((1n << 248n) - 1n); // one hash in 256 on average
    const r = k.scan(1000n, 100_000, target);
    expect(r.found).toBe(true);
    if (!r.found) return;
    const hash = reference(header, r.nonce);
    expect(digestMeetsTarget(hash, target)).toBe(true);
    expect(hash[0]).toBe(0);
    expect(r.hashes).toBe(Number(r.nonce - 1000n) + 1);
    expect(k.digest(r.nonce)).toEqual(hash);
  });

  it('reports no nonce for target 0 and counts every nonce', () => {
    const k = make();
    k.setHeader(new Uint8Array(112));
    expect(k.scan((1n << 32n) - 7n, 50, new Uint8Array(32))).toEqual({ found: false, hashes: 50 });
  });

  it('rejects bad input', () => {
    const k = make();
    expect(() => k.scan(0n, 1, new Uint8Array(32))).toThrow(/setHeader/);
    expect(() => k.setHeader(new Uint8Array(111))).toThrow(RangeError);
    k.setHeader(new Uint8Array(112));
    expect(() => k.scan(-1n, 1, new Uint8Array(32))).toThrow(RangeError);
    expect(() => k.scan(U64, 2, new Uint8Array(32))).toThrow(RangeError);
    expect(() => k.scan(0n, 1.5, new Uint8Array(32))).toThrow(RangeError);
    expect(() => k.scan(0n, 1, new Uint8Array(31))).toThrow(RangeError);
    expect(() => k.digest(U64 + 1n)).toThrow(RangeError);
  });
});

describe('kernel helpers', () => {
  it('targetToBytes is 32-byte big-endian and range-checked', () => {
    expect(Buffer.from(targetToBytes(0x0102n)).toString('hex')).toBe('00'.repeat(30) + '0102');
    expect(() => targetToBytes(-1n)).toThrow(RangeError);
    expect(() => targetToBytes(1n << 256n)).toThrow(RangeError);
  });

  it('the generated module validates and is deterministic', () => {
    const a = generateSha256dWasm();
    const b = generateSha256dWasm();
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.stats.word0Ops).toBeGreaterThan(1000);
  });
});
