/**
 * The module map (.dependency-cruiser.cjs) is enforced: the checker passes on src/ as it is and
 * fails, naming the rule, on a copy of src/ with a forbidden import, an I/O import in a pure
 * module, or an import cycle added.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const cli = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const config = join(root, '.dependency-cruiser.cjs');
const scratch: string[] = [];

function check(cwd: string): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [cli, '--config', config, '--output-type', 'err', 'src'], { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A scratch copy of src/ with `edits` (path → text appended) applied. */
function copyWith(edits: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tracechain-module-map-'));
  scratch.push(dir);
  cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
  for (const [path, text] of Object.entries(edits)) {
    const file = join(dir, path);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n${text}\n`);
  }
  return dir;
}

afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('module map', () => {
  it('src/ as it is has no forbidden import and no cycle', () => {
    const r = check(root);
    expect(r.output).toContain('no dependency violations found');
    expect(r.status).toBe(0);
  });

  it('fails on a forbidden import, naming the rule and the edge', () => {
    const dir = copyWith({
      'src/consensus/work.ts': "import '../chain/header.js';",
      'src/trace/roles.ts': "import 'node:fs';",
      'src/api/query.ts': "import '../storage/level-store.js';",
    });
    const r = check(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/error consensus-imports: src\/consensus\/work\.ts → src\/chain\/header\.ts/);
    expect(r.output).toMatch(/error pure-no-io: src\/trace\/roles\.ts → (node:)?fs/);
    expect(r.output).toMatch(/error api-imports: src\/api\/query\.ts → src\/storage\/level-store\.ts/);
    expect(r.output).not.toContain('no-cycle');
  }, 60_000);

  it('fails on an import cycle inside one folder', () => {
    // chain/template.ts imports chain/merkle.ts; the reverse edge closes a cycle.
    const dir = copyWith({ 'src/chain/merkle.ts': "import './template.js';" });
    const r = check(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/error no-cycle: src\/chain\/merkle\.ts →/);
    expect(r.output).not.toMatch(/-imports:/);
  }, 60_000);
});
