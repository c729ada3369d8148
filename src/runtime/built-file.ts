/**
 * Shared by every module that starts a worker or loads a build output (runtime/: worker entry
 * points and process plumbing, no business logic).
 *
 * Finding build outputs (the wasm kernel, worker entry files) relative to a module, via
 * import.meta.url. Compiled code finds them beside itself under dist/. Code run from the
 * TypeScript sources (tests, benchmarks run from a checkout) has no compiled siblings, so a
 * module under src/ resolves into its mirror under dist/ (dist/src/… with the build's
 * rootDir ".", dist/… with rootDir "src"), which `npm run build` fills.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function builtFileUrl(relative: string, moduleUrl: string): URL {
  const url = new URL(relative, moduleUrl);
  if (!moduleUrl.endsWith('.ts')) return url;
  const i = url.pathname.lastIndexOf('/src/');
  if (i < 0) return url;
  const root = url.pathname.slice(0, i);
  const rest = url.pathname.slice(i + 5).replace(/\.ts$/, '.js');
  const candidates = [`${root}/dist/src/${rest}`, `${root}/dist/${rest}`].map((p) => {
    const c = new URL(url.href);
    c.pathname = p;
    return c;
  });
  return candidates.find((c) => c.protocol === 'file:' && existsSync(fileURLToPath(c))) ?? (candidates[0] as URL);
}
