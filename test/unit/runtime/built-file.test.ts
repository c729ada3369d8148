import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { builtFileUrl } from '../../../src/runtime/built-file.js';
import { workerEntryUrl } from '../../../src/runtime/worker-entries.js';

describe('builtFileUrl', () => {
  it('maps a module under src/ to its dist/ mirror and leaves compiled modules alone', () => {
    // nothing exists under /nonexistent: the first candidate (the rootDir "." layout) is named
    expect(builtFileUrl('./miner-worker.js', 'file:///nonexistent/src/runtime/worker-entries.ts').href).toBe('file:///nonexistent/dist/src/runtime/miner-worker.js');
    expect(builtFileUrl('./miner-worker.js', 'file:///nonexistent/dist/src/runtime/worker-entries.js').href).toBe('file:///nonexistent/dist/src/runtime/miner-worker.js');
  });
});

describe('workerEntryUrl', () => {
  it('names the compiled entry of each worker kind in runtime/, and the build made it', () => {
    for (const kind of ['verifier', 'miner', 'capture'] as const) {
      const url = workerEntryUrl(kind);
      expect(url.pathname.endsWith(`/dist/src/runtime/${kind}-worker.js`)).toBe(true);
      expect(existsSync(fileURLToPath(url))).toBe(true);
    }
  });
});
