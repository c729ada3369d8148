import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventsOfDocument, eventPrehash, hashContextOf, hashPrehash, documentEventHashes } from '../../src/trace/event-hash.js';

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/epcis-event-hash/', import.meta.url));

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
}

/** Pre-hash lines known to be stale (older than the .hashes line they sit beside). */
const STALE_PREHASH_LINES: Record<string, number[]> = {
  epcisDocWithAllGS1Keys: [0],
  epcisDocWithCustomSchemaInContext: [1],
  epcisDocWithDefaultSchemaInContext: [1],
};

const files = readdirSync(VECTORS).filter((f) => f.endsWith('.jsonld')).sort();

describe('CBV 2.0 event hash: reference vectors (shared/vectors/epcis-event-hash)', () => {
  it('finds the vectors', () => {
    expect(files.length).toBeGreaterThanOrEqual(22);
  });

  for (const file of files) {
    const base = file.slice(0, -'.jsonld'.length);
    it(`${base}: every .hashes line`, () => {
      const doc = JSON.parse(readFileSync(VECTORS + file, 'utf8')) as Record<string, unknown>;
      const expected = lines(`${VECTORS}${base}.hashes`);
      expect(documentEventHashes(doc)).toEqual(expected);
    });

    const pre = `${VECTORS}${base}.prehashes`;
    if (existsSync(pre)) {
      it(`${base}: pre-hash strings that belong to the .hashes lines`, () => {
        const doc = JSON.parse(readFileSync(VECTORS + file, 'utf8')) as Record<string, unknown>;
        const ctx = hashContextOf(doc);
        const events = (eventsOfDocument(doc) ?? []) as Record<string, unknown>[];
        const expectedHashes = lines(`${VECTORS}${base}.hashes`);
        const prehashes = lines(pre);
        const stale: number[] = [];
        prehashes.forEach((line, i) => {
          // Some .prehashes lines are stale (older than their .hashes): assert those lines that
          // hash to the expected ID, i.e. that are the true pre-hash of that event.
          if (i < events.length && hashPrehash(line) === expectedHashes[i]) {
            expect(eventPrehash(events[i] as Record<string, unknown>, ctx)).toBe(line);
          } else stale.push(i);
        });
        expect(stale).toEqual(STALE_PREHASH_LINES[base] ?? []);
      });
    }
  }
});
