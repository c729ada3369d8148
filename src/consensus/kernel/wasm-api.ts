/**
 * The few WebAssembly JS-API members the kernel uses, typed locally: this project's `lib`
 * (ES2023, no DOM) and @types/node 20 do not declare the `WebAssembly` namespace, and a
 * global declaration here could clash with one added later.
 */
import { KernelError } from './errors.js';

export interface WasmModule {
  readonly __wasmModule?: never;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
export interface WasmGlobal {
  readonly value: unknown;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, never>) => WasmInstance;
  Memory: abstract new (...args: never[]) => WasmMemory;
  Global: abstract new (...args: never[]) => WasmGlobal;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

/** The runtime's WebAssembly object, or undefined where there is none. */
export const wasmApi: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

export function requireWasm(): WasmApi {
  if (wasmApi === undefined) throw new KernelError('WASM_UNSUPPORTED', 'this runtime has no WebAssembly');
  return wasmApi;
}
