import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hashCommand } from '../../../src/node/commands/hash.js';

const VECTORS = fileURLToPath(new URL('../../../../shared/vectors/epcis-event-hash/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tracechain-hash-'));

async function run(file: string): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  let err = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += chunk.toString();
    return true;
  });
  try {
    const code = await hashCommand(file, out);
    return { code, out: text, err };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('tracechain hash', () => {
  it('prints one ID per event in document order (EPCISDocument and EPCISQueryDocument)', async () => {
    for (const base of ['epcisDocWithVariousEventTypes', 'epcisQueryDocument', 'ralfsChaosExample']) {
      const r = await run(`${VECTORS}${base}.jsonld`);
      expect(r.code).toBe(0);
      expect(r.out).toBe(readFileSync(`${VECTORS}${base}.hashes`, 'utf8').split('\n').filter(Boolean).join('\n') + '\n');
    }
  });

  it('fails with a clear message for a missing file, invalid JSON, a non-EPCIS document, or no events', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"type": "EPCISDocument", ');
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, JSON.stringify({ type: 'EPCISDocument', epcisBody: { eventList: [] } }));
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ hello: 'world' }));
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.json'), /cannot read/],
      [bad, /not valid JSON/],
      [empty, /no events/],
      [other, /not an EPCIS 2.0 document/],
    ];
    for (const [file, msg] of cases) {
      const r = await run(file);
      expect(r.code, file).not.toBe(0);
      expect(r.err).toMatch(msg);
      expect(r.out).toBe('');
    }
  });
});
