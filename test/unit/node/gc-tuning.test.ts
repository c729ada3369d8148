/** The serving node options (src/node/gc-tuning.ts): every way a node is started passes them, and they take effect. */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missingServingOptions, SERVING_NODE_OPTIONS } from '../../../src/node/gc-tuning.js';

const root = new URL('../../../', import.meta.url);

describe('serving node options', () => {
  it('the tracechain shebang and npm start pass them', () => {
    const shebang = readFileSync(new URL('bin/tracechain.js', root), 'utf8').split('\n')[0] as string;
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
    for (const o of SERVING_NODE_OPTIONS) {
      expect(shebang.split(' ')).toContain(o);
      expect(pkg.scripts.start?.split(' ')).toContain(o);
    }
  });

  it('they give the node a 64 MiB young semi-space (V8 reads them at heap set-up only)', () => {
    const probe = "console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)";
    const withThem = spawnSync(process.execPath, [...SERVING_NODE_OPTIONS, '-e', probe], { encoding: 'utf8' });
    const without = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(Number(withThem.stdout)).toBe(64 * 1024 * 1024);
    expect(Number(without.stdout)).toBeLessThan(64 * 1024 * 1024);
  });

  it('names the options a process was started without, from its arguments or NODE_OPTIONS', () => {
    expect(missingServingOptions([...SERVING_NODE_OPTIONS])).toEqual([]);
    const saved = process.env.NODE_OPTIONS;
    try {
      process.env.NODE_OPTIONS = '';
      expect(missingServingOptions([])).toEqual([...SERVING_NODE_OPTIONS]);
      process.env.NODE_OPTIONS = SERVING_NODE_OPTIONS.join(' ');
      expect(missingServingOptions([])).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
  });
});
