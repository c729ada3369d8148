/**
 * Where a build output (a worker entry) is, relative to a module. Compiled code finds it beside
 * itself; code run from the TypeScript sources (tests) resolves into the dist/ mirror that
 * `npm run build` fills. (The same rule as consensus/kernel/locate.ts, kept here so api/ does
 * not import consensus/.)
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
