// @ts-check
/**
 * `npm run build:wasm`: writes the generated SHA-256d SIMD kernel where tsc puts the compiled
 * src/consensus/kernel/ (per tsconfig.build.json's rootDir and outDir; dist/src/consensus/kernel
 * today), so the kernel module finds it beside itself via import.meta.url.
 * Usage: node assembly/build.mjs [outDir]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSha256dWasm } from './sha256d.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** rootDir and outDir of the build tsconfig, following `extends` (JSON tsconfigs, as this repo's). */
function buildDirs() {
  /** @type {{ rootDir?: string, outDir?: string }} */
  const found = {};
  let file = join(root, 'tsconfig.build.json');
  for (let depth = 0; depth < 5; depth++) {
    /** @type {{ extends?: string, compilerOptions?: { rootDir?: string, outDir?: string } }} */
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    const co = cfg.compilerOptions ?? {};
    if (found.rootDir === undefined && co.rootDir !== undefined) found.rootDir = resolve(dirname(file), co.rootDir);
    if (found.outDir === undefined && co.outDir !== undefined) found.outDir = resolve(dirname(file), co.outDir);
    if (cfg.extends === undefined) break;
    file = resolve(dirname(file), cfg.extends);
  }
  return { rootDir: found.rootDir ?? join(root, 'src'), outDir: found.outDir ?? join(root, 'dist') };
}

function defaultOutDir() {
  const { rootDir, outDir } = buildDirs();
  return join(outDir, relative(rootDir, join(root, 'src', 'consensus', 'kernel')));
}

const outDir = resolve(process.argv[2] ?? defaultOutDir());
const { bytes, stats } = generateSha256dWasm();
if (!WebAssembly.validate(bytes)) throw new Error('generated sha256d.wasm does not validate (does this Node support wasm SIMD?)');
mkdirSync(outDir, { recursive: true });
const out = join(outDir, 'sha256d.wasm');
writeFileSync(out, bytes);
console.log(`build:wasm ${relative(root, out)} (${bytes.length} bytes; ${stats.word0Ops} v128 ops per 4 nonces, ${stats.constSlots} constant slots)`);
