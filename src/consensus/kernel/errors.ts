/**
 * Coded errors of the proof-of-work kernels. None is a verdict on a block: they say this node
 * cannot mine as configured (the CLI prints the message and exits non-zero) or that a kernel
 * computed a wrong answer (the miner drops the job rather than seal it).
 */

import { ErrorWithCode } from '../../common/errors.js';

export type KernelErrorCode =
  /** The wasm kernel file cannot be read (the build did not run, or the file is gone). */
  | 'WASM_UNREADABLE'
  /** This runtime cannot run the wasm kernel: no WebAssembly, or the module does not validate here (no 128-bit SIMD, or not wasm). */
  | 'WASM_UNSUPPORTED'
  /** The wasm file compiles but is not the SHA-256d kernel (its exports are not the expected ones). */
  | 'WASM_INVALID'
  /** A kernel reported a wrong nonce: outside its worker's range, or whose hash (recomputed with the reference hash) misses the target. */
  | 'BAD_NONCE';

export class KernelError extends ErrorWithCode<KernelErrorCode> {
  override readonly name = 'KernelError';
}
