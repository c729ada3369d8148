/** Hash kernels: pick one by name; `auto` is the wasm SIMD kernel, or the TS one without SIMD. */
import type { HashKernel } from './types.js';
import { TsKernel } from './ts-kernel.js';
import { NobleKernel, NOBLE_KERNEL_NAME } from './noble-kernel.js';
import { wasmApi } from './wasm-api.js';
import { createWasmKernel, defaultWasmUrl, WASM_KERNEL_NAME, wasmSimdSupported } from './wasm-kernel.js';

export type { HashKernel, ScanResult } from './types.js';
export { targetToBytes, targetWords, digestMeetsTarget, MAX_TARGET, MAX_NONCE, HEADER_BYTES, NONCE_OFFSET } from './types.js';
export { TsKernel } from './ts-kernel.js';
export { NobleKernel, NOBLE_KERNEL_NAME } from './noble-kernel.js';
export { WasmSimdKernel, createWasmKernel, loadSha256dModule, defaultWasmUrl, WASM_KERNEL_NAME } from './wasm-kernel.js';
export { builtFileUrl } from './locate.js';

export const TS_KERNEL_NAME = 'ts-midstate';
export type KernelName = typeof WASM_KERNEL_NAME | typeof TS_KERNEL_NAME | typeof NOBLE_KERNEL_NAME;
export type KernelChoice = KernelName | 'auto';
export const KERNEL_NAMES: readonly KernelName[] = [WASM_KERNEL_NAME, TS_KERNEL_NAME, NOBLE_KERNEL_NAME];

export function isKernelChoice(x: unknown): x is KernelChoice {
  return x === 'auto' || (typeof x === 'string' && (KERNEL_NAMES as readonly string[]).includes(x));
}

/**
 * Creates a kernel. `auto` uses wasm SIMD when the runtime validates the module and the TS
 * kernel when it does not; a missing wasm file is an error (a broken build), not a fallback.
 */
export async function createKernel(choice: KernelChoice = 'auto', wasm: URL | Uint8Array = defaultWasmUrl()): Promise<HashKernel> {
  switch (choice) {
    case 'ts-midstate':
      return new TsKernel();
    case 'noble-sha256d':
      return new NobleKernel();
    case 'wasm-simd128':
      return createWasmKernel(wasm);
    case 'auto': {
      if (wasmApi === undefined) return new TsKernel();
      const bytes = wasm instanceof Uint8Array ? wasm : await readWasm(wasm);
      return wasmSimdSupported(bytes) ? createWasmKernel(bytes) : new TsKernel();
    }
  }
}

async function readWasm(url: URL): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  try {
    const b = await readFile(url);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (err) {
    throw new Error(`cannot read the SHA-256d wasm kernel at ${url.href} (was \`npm run build\` run?)`, { cause: err });
  }
}
