/**
 * WebAssembly SIMD SHA-256d kernel: 4 nonces per v128 instruction. The module is generated
 * at build time (assembly/sha256d.mjs, `npm run build:wasm`) into dist/consensus/kernel/
 * sha256d.wasm, next to this module once compiled; see that generator for what is
 * precomputed per header. Candidates (first digest word <= the target's) are re-checked
 * exactly on the full digest before a nonce is reported.
 */
import { readFile } from 'node:fs/promises';
import { KernelError } from './errors.js';
import { SegmentedKernel, checkHeader } from './types.js';
import { builtFileUrl } from '../../runtime/built-file.js';
import { requireWasm, wasmApi, type WasmGlobal, type WasmMemory, type WasmModule } from './wasm-api.js';

interface Sha256dExports {
  memory: WasmMemory;
  HEADER_PTR: WasmGlobal;
  OUT_PTR: WasmGlobal;
  prepare(): void;
  scan(lo: number, groups: number, tw0: number): number;
  hash4(lo: number): void;
}

export const WASM_KERNEL_NAME = 'wasm-simd128';
/** Groups of 4 nonces per call into wasm (bounds the i32 group index). */
const MAX_GROUPS = 1 << 24;

const bswap32 = (x: number): number => ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) >>> 0;

function isExports(x: Record<string, unknown>): x is Record<string, unknown> & Sha256dExports {
  const wa = requireWasm();
  return (
    x['memory'] instanceof wa.Memory &&
    x['HEADER_PTR'] instanceof wa.Global &&
    x['OUT_PTR'] instanceof wa.Global &&
    typeof x['prepare'] === 'function' &&
    typeof x['scan'] === 'function' &&
    typeof x['hash4'] === 'function'
  );
}

export class WasmSimdKernel extends SegmentedKernel {
  readonly name = WASM_KERNEL_NAME;
  private readonly ex: Sha256dExports;
  private readonly mem: Uint32Array;
  private readonly headerWord: number;
  private readonly outWord: number;
  private hi = -1;

  constructor(module: WasmModule) {
    super();
    const instance = new (requireWasm().Instance)(module, {});
    const ex = instance.exports;
    if (!isExports(ex)) throw new KernelError('WASM_INVALID', 'sha256d.wasm does not have the expected exports');
    this.ex = ex;
    this.mem = new Uint32Array(ex.memory.buffer);
    this.headerWord = (ex.HEADER_PTR.value as number) / 4;
    this.outWord = (ex.OUT_PTR.value as number) / 4;
  }

  setHeader(header112: Uint8Array): void {
    checkHeader(header112);
    const dv = new DataView(header112.buffer, header112.byteOffset, header112.byteLength);
    for (let i = 0; i < 28; i++) this.mem[this.headerWord + i] = dv.getUint32(4 * i, false);
    this.hi = -1;
    this.hasHeader = true;
  }

  private prepareHigh(hi: number): void {
    this.mem[this.headerWord + 27] = bswap32(hi);
    this.ex.prepare();
    this.hi = hi;
  }

  protected scanRun(hi: number, lo: number, n: number, tw: Uint32Array): number {
    if (hi !== this.hi) this.prepareHigh(hi);
    const tw0 = tw[0] as number;
    let off = 0;
    while (off < n) {
      const groups = Math.min(Math.ceil((n - off) / 4), MAX_GROUPS);
      const g = this.ex.scan((lo + off) | 0, groups, tw0 | 0);
      if (g < 0) {
        off += groups * 4;
        continue;
      }
      const base = off + 4 * g;
      this.ex.hash4((lo + base) | 0);
      for (let lane = 0; lane < 4 && base + lane < n; lane++) {
        if (this.laneAtMost(lane, tw)) return base + lane;
      }
      off = base + 4;
    }
    return -1;
  }

  private laneAtMost(lane: number, tw: Uint32Array): boolean {
    const m = this.mem;
    const o = this.outWord + lane;
    for (let j = 0; j < 8; j++) {
      const d = m[o + 4 * j] as number;
      const t = tw[j] as number;
      if (d !== t) return d < t;
    }
    return true;
  }

  protected digestWords(hi: number, lo: number, out: Uint32Array): void {
    if (hi !== this.hi) this.prepareHigh(hi);
    this.ex.hash4(lo | 0);
    for (let j = 0; j < 8; j++) out[j] = this.mem[this.outWord + 4 * j] as number;
  }
}

/** Where the built module is: next to this module in dist/ (or dist's copy when run from src/). */
export function defaultWasmUrl(): URL {
  return builtFileUrl('./sha256d.wasm', import.meta.url);
}

const modules = new Map<string, Promise<WasmModule>>();

/** Compiles (once per thread and source) the kernel module; rejects when this Node lacks wasm SIMD. */
export function loadSha256dModule(source: URL | Uint8Array = defaultWasmUrl()): Promise<WasmModule> {
  if (source instanceof Uint8Array) return compile(source);
  const key = source.href;
  let p = modules.get(key);
  if (p === undefined) {
    p = readFile(source).then(
      (bytes) => compile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
      (err: unknown) => {
        modules.delete(key);
        throw new KernelError('WASM_UNREADABLE', `cannot read the SHA-256d wasm kernel at ${source.href} (was \`npm run build\` run?)`, { cause: err });
      },
    );
    modules.set(key, p);
  }
  return p;
}

async function compile(bytes: Uint8Array): Promise<WasmModule> {
  if (!wasmSimdSupported(bytes)) throw new KernelError('WASM_UNSUPPORTED', 'this runtime cannot run the SHA-256d wasm kernel (WebAssembly SIMD unsupported)');
  return requireWasm().compile(bytes);
}

/** Whether this runtime accepts the module (it does not without WebAssembly SIMD). */
export function wasmSimdSupported(bytes: Uint8Array): boolean {
  return wasmApi !== undefined && wasmApi.validate(bytes);
}

export async function createWasmKernel(source?: URL | Uint8Array): Promise<WasmSimdKernel> {
  return new WasmSimdKernel(await loadSha256dModule(source));
}
