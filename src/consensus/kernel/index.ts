/** Hash kernels: pick one by name; `auto` is the wasm SIMD kernel, or the TS one without SIMD. */
import type { HashKernel } from './types.js';
import { TsKernel, TS_KERNEL_NAME } from './ts-kernel.js';
import { NobleKernel, NOBLE_KERNEL_NAME } from './noble-kernel.js';
import { createWasmKernel, defaultWasmUrl, WASM_KERNEL_NAME, wasmSimdSupported } from './wasm-kernel.js';

export type { HashKernel, ScanResult } from './types.js';
export { targetToBytes, targetWords, digestMeetsTarget, MAX_TARGET, MAX_NONCE, HEADER_BYTES, NONCE_OFFSET } from './types.js';
export { TsKernel, TS_KERNEL_NAME } from './ts-kernel.js';
export { NobleKernel, NOBLE_KERNEL_NAME } from './noble-kernel.js';
export { WasmSimdKernel, createWasmKernel, loadSha256dModule, defaultWasmUrl, WASM_KERNEL_NAME } from './wasm-kernel.js';

export type KernelName = typeof WASM_KERNEL_NAME | typeof TS_KERNEL_NAME | typeof NOBLE_KERNEL_NAME;
export type KernelChoice = KernelName | 'auto';
export const KERNEL_NAMES: readonly KernelName[] = [WASM_KERNEL_NAME, TS_KERNEL_NAME, NOBLE_KERNEL_NAME];

/**
 * Creates a kernel. `auto` is the wasm SIMD kernel when the runtime supports WebAssembly SIMD
 * and the TS kernel when it does not; a missing wasm file is an error (a broken build), not a
 * reason to fall back.
 */
export async function createKernel(choice: KernelChoice = 'auto', wasm: URL | Uint8Array = defaultWasmUrl()): Promise<HashKernel> {
  switch (choice) {
    case 'ts-midstate':
      return new TsKernel();
    case 'noble-sha256d':
      return new NobleKernel();
    case 'wasm-simd128':
      return createWasmKernel(wasm);
    case 'auto':
      return wasmSimdAvailable() ? createWasmKernel(wasm) : new TsKernel();
  }
}

// the smallest module using SIMD: (func (result v128) (v128.const i32x4 0 0 0 0))
const SIMD_PROBE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
]);

/** Whether this runtime runs WebAssembly with 128-bit SIMD. */
export function wasmSimdAvailable(): boolean {
  return wasmSimdSupported(SIMD_PROBE);
}
