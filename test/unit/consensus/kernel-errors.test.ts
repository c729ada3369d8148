/** One test per KernelError code: this node cannot run the kernel as configured, or a kernel answered wrongly. */
import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createWasmKernel, loadSha256dModule } from '../../../src/consensus/kernel/index.js';
import { KernelError } from '../../../src/consensus/kernel/errors.js';
import { verifyNonce } from '../../../src/consensus/miner/nonce-space.js';

// The smallest module using SIMD, with no exports: (func (result v128) (v128.const i32x4 0 0 0 0)).
const SIMD_NO_EXPORTS = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
]);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KernelError);
    return (err as KernelError).code;
  }
  throw new Error('expected a KernelError');
}

describe('KernelError codes', () => {
  it('WASM_UNREADABLE: the wasm file is missing', async () => {
    const missing = pathToFileURL(join(tmpdir(), `tracechain-missing-${process.pid}.wasm`));
    expect(await codeOf(loadSha256dModule(missing))).toBe('WASM_UNREADABLE');
  });

  it('WASM_UNSUPPORTED: the runtime does not accept the module (here: bytes that are no wasm at all)', async () => {
    expect(await codeOf(loadSha256dModule(Uint8Array.from([1, 2, 3, 4])))).toBe('WASM_UNSUPPORTED');
  });

  it('WASM_INVALID: a valid SIMD module that is not the SHA-256d kernel', async () => {
    expect(await codeOf(createWasmKernel(SIMD_NO_EXPORTS))).toBe('WASM_INVALID');
  });

  it('BAD_NONCE: a reported nonce whose hash misses the target', () => {
    const header = new Uint8Array(112);
    const zeroTarget = new Uint8Array(32);
    let caught: unknown;
    try {
      verifyNonce(header, 5n, zeroTarget, 'test-kernel');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KernelError);
    expect((caught as KernelError).code).toBe('BAD_NONCE');
    expect((caught as KernelError).message).toMatch(/kernel test-kernel reported nonce 5 whose hash [0-9a-f]{64} does not meet the target/);
  });
});
