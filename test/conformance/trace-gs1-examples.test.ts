import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { declarationIdOf, documentEventHashes, eventIdOf, isErrorDeclaration, prepareDocument, recordIdOf, validateDocument, TraceError, type JsonObject } from '../../src/trace/index.js';
import type { Member } from '../../src/chain/types.js';

const EXAMPLES = fileURLToPath(new URL('../../../shared/vectors/gs1-epcis-examples/', import.meta.url));
const REFERENCE = JSON.parse(readFileSync(new URL('../fixtures/trace/gs1-examples-reference-hashes.json', import.meta.url), 'utf8')) as Record<string, string[]>;
/** The IDs of the examples below where tracechain differs from the reference, pinned (and checked independently by test/helpers/independent-event-hash.test.ts). */
const PINNED = (JSON.parse(readFileSync(new URL('../fixtures/trace/gs1-examples-pinned-hashes.json', import.meta.url), 'utf8')) as { ids: Record<string, string[]> }).ids;

const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.jsonld')).sort();
const load = (f: string): Record<string, unknown> => JSON.parse(readFileSync(EXAMPLES + f, 'utf8')) as Record<string, unknown>;

const dev: Member = { id: 'dev', name: 'dev', role: 'dev', signingKey: '00'.repeat(32), peerId: 'p', gs1CompanyPrefixes: [], canSeal: true };

/**
 * Examples whose IDs differ from the reference implementation's on purpose (see src/trace/event-hash.ts):
 * - the reference fails on the whole document (pyld rejects a redefined protected term / a
 *   context entry that is an object), so it prints no ID; tracechain computes one;
 * - `component: "cbv:Comp-latitude"` is a CURIE of the EPCIS context's `cbv` prefix, which the
 *   reference hashes unexpanded when the document does not redeclare `cbv`; tracechain expands it.
 */
const DIFFERENT_FROM_REFERENCE: Record<string, string> = {
  'Example-TransactionEvents-2020_07_03y.jsonld': 'reference fails: context entry with an object value',
  'WithFullCombinationOfFields__transformation_event_all_possible_fields.jsonld': 'reference fails: redefined protected term',
  'WithFullCombinationOfFields__aggregation_event_all_possible_fields.jsonld': 'cbv: CURIE expanded',
};

describe('GS1 EPCIS 2.0 examples (shared/vectors/gs1-epcis-examples)', () => {
  it('has them all', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });
  it('pins an ID list for exactly the examples that differ from the reference', () => {
    expect(Object.keys(PINNED).sort()).toEqual(Object.keys(DIFFERENT_FROM_REFERENCE).sort());
  });
  for (const f of files) {
    it(`${f}: accepted by the validator`, () => {
      const doc = load(f);
      const kind = doc['type'];
      try {
        const v = validateDocument(doc, { allowQueryDocument: true });
        expect(v.events.length).toBeGreaterThan(0);
      } catch (e) {
        if (e instanceof TraceError) throw new Error(`${kind}: ${JSON.stringify(e.problems, null, 1)}`);
        throw e;
      }
    });
    it(`${f}: event IDs as the reference implementation computes them`, () => {
      const ids = documentEventHashes(load(f));
      const ref = REFERENCE[f];
      expect(ref).toBeDefined();
      if (DIFFERENT_FROM_REFERENCE[f] !== undefined) {
        expect(ids).toEqual(PINNED[f]);
        expect(ids).not.toEqual(ref);
      } else expect(ids).toEqual(ref);
    });
    it(`${f}: self-contained events keep their IDs`, () => {
      const doc = load(f);
      if (doc['type'] === 'EPCISQueryDocument') {
        // Capture takes an EPCISDocument only: a query document is refused, naming its type...
        const err = (() => {
          try {
            prepareDocument(doc, { member: dev });
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        expect(err).toBeInstanceOf(TraceError);
        expect((err as TraceError).message).toContain('EPCISQueryDocument');
      } else expect(doc['type']).toBe('EPCISDocument');
      // ...and where it is read (hashing), its events keep their IDs as self-contained events too.
      // (An error declaration has the hash of the event it declares, and is recorded under the record ID derived from it.)
      const p = prepareDocument(doc, { member: dev, allowQueryDocument: true });
      expect(p.eventIds).toEqual(documentEventHashes(doc).map((id, i) => (isErrorDeclaration(p.events[i] as JsonObject) ? declarationIdOf(id) : id)));
      expect(p.eventIds.length).toBeGreaterThan(0);
      for (let i = 0; i < p.events.length; i++) expect(recordIdOf(JSON.parse(JSON.stringify(p.events[i])) as JsonObject)).toBe(p.eventIds[i]);
    });
  }
});
