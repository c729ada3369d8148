import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../../../src/chain/sha256.js';
import { decodeMempoolFile, encodeMempoolFile, loadMempoolFile, MempoolFileError } from '../../../src/storage/mempool-file.js';

const MAX = 1 << 20;

/** Re-seal a file body with a correct checksum (to reach the checks behind it). */
function sealed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 32);
  out.set(body);
  out.set(sha256(body), body.length);
  return out;
}

describe('mempool file', () => {
  it('round-trips any list of txs (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }), (txs) => {
        expect(decodeMempoolFile(encodeMempoolFile(txs), MAX)).toEqual(txs);
      }),
    );
  });

  it('refuses a flipped byte anywhere (checksum), bad magic, a short file', () => {
    const file = encodeMempoolFile([Uint8Array.from([1, 2, 3]), Uint8Array.from([4])]);
    for (let i = 0; i < file.length; i++) {
      const bad = file.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(() => decodeMempoolFile(bad, MAX)).toThrow(MempoolFileError);
    }
    expect(() => decodeMempoolFile(file.subarray(0, 20), MAX)).toThrow(/too short/);
    const magic = sealed(encodeMempoolFile([]).subarray(0, 12).map((b, i) => (i === 0 ? 0x58 : b)));
    expect(() => decodeMempoolFile(magic, MAX)).toThrow(/bad magic/);
  });

  it('refuses impossible counts, lengths and trailing bytes even with a valid checksum', () => {
    const body = encodeMempoolFile([Uint8Array.from([1, 2, 3])]).subarray(0, -32);
    const count = body.slice();
    new DataView(count.buffer).setUint32(8, 1_000_000, true);
    expect(() => decodeMempoolFile(sealed(count), MAX)).toThrow(/count/);
    const length = body.slice();
    new DataView(length.buffer).setUint32(12, 99, true);
    expect(() => decodeMempoolFile(sealed(length), MAX)).toThrow(/impossible length/);
    expect(() => decodeMempoolFile(sealed(body), 2)).toThrow(/impossible length/);
    const trailing = new Uint8Array(body.length + 1);
    trailing.set(body);
    expect(() => decodeMempoolFile(sealed(trailing), MAX)).toThrow(/trailing/);
    const version = body.slice();
    new DataView(version.buffer).setUint32(4, 2, true);
    expect(() => decodeMempoolFile(sealed(version), MAX)).toThrow(/version 2/);
  });

  it('loads a file written by an earlier release; no file reads as undefined; a truncated one is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracechain-mempool-file-'));
    try {
      const path = join(dir, 'mempool.dat');
      expect(await loadMempoolFile(path, MAX)).toBeUndefined();
      const txs = [new TextEncoder().encode('{"a":1}'), new TextEncoder().encode('{"b":2}')];
      await writeFile(path, encodeMempoolFile(txs));
      expect(await loadMempoolFile(path, MAX)).toEqual(txs);
      const bytes = await readFile(path);
      await writeFile(path, bytes.subarray(0, bytes.length - 5));
      await expect(loadMempoolFile(path, MAX)).rejects.toBeInstanceOf(MempoolFileError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
