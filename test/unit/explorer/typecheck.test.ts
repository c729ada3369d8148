/**
 * The explorer's plain JavaScript is type-checked (JSDoc types, strict, against the DOM) by
 * assets/explorer/tsconfig.json: no build step, but no untyped code either.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('explorer JavaScript', () => {
  it('type-checks (tsc -p assets/explorer/tsconfig.json)', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('node_modules/typescript/bin/tsc', `file://${ROOT}`)), '-p', 'assets/explorer/tsconfig.json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);
});
