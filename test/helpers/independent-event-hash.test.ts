/**
 * The independent CBV 2.0 event hash (independent-event-hash.ts) against every reference vector
 * the node passes (shared/vectors/epcis-event-hash/*.jsonld, each .hashes line), and against
 * the node on every GS1 standard example: two implementations that share no code agree.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentEventIds, documentEvents, hashPrehash, prehash } from './independent-event-hash.js';

const VECTORS = fileURLToPath(new URL('../../../shared/vectors/epcis-event-hash/', import.meta.url));
const lines = (p: string): string[] => readFileSync(p, 'utf8').split('\n').filter((l) => l.length > 0);
const files = readdirSync(VECTORS).filter((f) => f.endsWith('.jsonld')).sort();

describe('independent CBV 2.0 event hash: reference vectors', () => {
  it('finds the vectors', () => {
    expect(files.length).toBeGreaterThanOrEqual(22);
  });
  for (const file of files) {
    const base = file.slice(0, -'.jsonld'.length);
    it(`${base}: every .hashes line`, () => {
      const doc = JSON.parse(readFileSync(VECTORS + file, 'utf8')) as Record<string, never>;
      const expected = lines(`${VECTORS}${base}.hashes`);
      const got = documentEventIds(doc);
      if (existsSync(`${VECTORS}${base}.prehashes`)) {
        // On a mismatch, show the pre-hash strings next to the reference's (where that line is current).
        const pre = lines(`${VECTORS}${base}.prehashes`);
        documentEvents(doc).forEach(({ event, scope }, i) => {
          const mine = prehash(event, scope);
          if (hashPrehash(mine) !== expected[i] && pre[i] !== undefined && hashPrehash(pre[i] as string) === expected[i]) expect(mine, `event ${i}`).toBe(pre[i]);
        });
      }
      expect(got).toEqual(expected);
    });
  }
});

interface RandomCase {
  document: Record<string, never>;
  prehashes: string[];
  hashes: string[];
}
const random = JSON.parse(readFileSync(new URL('../fixtures/trace/reference-random-events.json', import.meta.url), 'utf8')) as { cases: RandomCase[] };

describe('independent CBV 2.0 event hash: random documents hashed by the reference implementation', () => {
  it('has the cases', () => {
    expect(random.cases.length).toBe(100);
  });
  random.cases.forEach((c, i) => {
    it(`document ${i}: pre-hash strings and IDs equal the reference's`, () => {
      expect(documentEvents(c.document).map(({ event, scope }) => prehash(event, scope))).toEqual(c.prehashes);
      expect(documentEventIds(c.document)).toEqual(c.hashes);
    });
  });
});

const EXAMPLES = fileURLToPath(new URL('../../../shared/vectors/gs1-epcis-examples/', import.meta.url));
const REFERENCE = JSON.parse(readFileSync(new URL('../fixtures/trace/gs1-examples-reference-hashes.json', import.meta.url), 'utf8')) as Record<string, string[]>;
const PINNED = (JSON.parse(readFileSync(new URL('../fixtures/trace/gs1-examples-pinned-hashes.json', import.meta.url), 'utf8')) as { ids: Record<string, string[]> }).ids;

describe('independent CBV 2.0 event hash: the GS1 standard examples', () => {
  const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.jsonld')).sort();
  it('has them all, and the three pinned ones among them', () => {
    expect(examples.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(PINNED).every((f) => examples.includes(f))).toBe(true);
    expect(Object.keys(PINNED)).toHaveLength(3);
  });
  for (const f of examples) {
    it(`${f}: the reference's IDs${PINNED[f] !== undefined ? ' (here: the pinned IDs, where tracechain differs from the reference on purpose)' : ''}`, () => {
      const doc = JSON.parse(readFileSync(EXAMPLES + f, 'utf8')) as Record<string, never>;
      const expected = PINNED[f] ?? REFERENCE[f];
      expect(expected?.length).toBeGreaterThan(0);
      expect(documentEventIds(doc)).toEqual(expected);
    });
  }
});
