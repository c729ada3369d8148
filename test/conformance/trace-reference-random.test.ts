import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventHash, eventPrehash, eventsOfDocument, hashContextOf, prepareDocument, type JsonObject } from '../../src/trace/index.js';

interface Case {
  document: JsonObject;
  prehashes: string[];
  hashes: string[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/trace/reference-random-events.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('CBV 2.0 event hash: random documents hashed by the reference implementation', () => {
  it('has the cases', () => {
    expect(fixture.cases.length).toBe(100);
  });
  fixture.cases.forEach((c, i) => {
    it(`document ${i}: pre-hash strings and IDs equal the reference's; self-contained events keep them`, () => {
      const ctx = hashContextOf(c.document);
      const events = eventsOfDocument(c.document) as JsonObject[];
      expect(events.map((e) => eventPrehash(e, ctx))).toEqual(c.prehashes);
      expect(events.map((e) => eventHash(e, ctx))).toEqual(c.hashes);
      if (new Set(c.hashes).size === c.hashes.length) {
        expect(prepareDocument(c.document, { skipSchema: true }).eventIds).toEqual(c.hashes);
      }
    });
  });
});
