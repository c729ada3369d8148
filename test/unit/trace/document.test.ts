import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { declarationIdOf, documentEventHashes, eventIdOf, isErrorDeclaration, eventsOfDocument, hashContextOf, prepareDocument, selfContainedEvent, verifyEventIds, type JsonObject } from '../../../src/trace/index.js';
import { doc, errorOf, member, objectEvent } from './helpers.js';

const VECTORS = fileURLToPath(new URL('../../../../shared/vectors/epcis-event-hash/', import.meta.url));
const dev = member('dev', 'dev');

/** What another node sees: the event after RFC 8785 canonical JSON (keys sorted) and back. */
const overTheWire = (e: JsonObject): JsonObject => JSON.parse(canonicalize(e) as string) as JsonObject;

describe('prepareDocument / eventIdOf / verifyEventIds', () => {
  for (const f of readdirSync(VECTORS).filter((x) => x.endsWith('.jsonld')).sort()) {
    it(`${f}: each prepared event recomputes the document's ID from itself alone`, () => {
      const d = JSON.parse(readFileSync(VECTORS + f, 'utf8')) as JsonObject;
      const query = d['type'] === 'EPCISQueryDocument';
      if (query) {
        // Capture refuses a query document, naming its type; read for hashing, it is prepared
        // like a capture document below.
        const refused = errorOf(() => prepareDocument(d, { skipSchema: true }));
        expect(refused.message).toContain('EPCISQueryDocument');
      } else expect(d['type']).toBe('EPCISDocument');
      const allowQueryDocument = query;
      const expected = readFileSync(VECTORS + f.replace(/\.jsonld$/, '.hashes'), 'utf8').split('\n').filter(Boolean);
      const ids = documentEventHashes(d);
      expect(ids).toEqual(expected);
      if (new Set(expected).size < expected.length) {
        // Two events that differ only in ignored fields are one event: capture refuses that,
        // and each self-contained event still carries its ID.
        expect(errorOf(() => prepareDocument(d, { skipSchema: true, allowQueryDocument })).code).toBe('DUPLICATE_EVENT');
        const ctx = hashContextOf(d);
        (eventsOfDocument(d) as JsonObject[]).forEach((e, i) => expect(eventIdOf(overTheWire(selfContainedEvent(e, ctx)))).toBe(expected[i]));
        return;
      }
      // Hashing only: capture validation is not the point here (some vectors use odd values).
      const p = prepareDocument(d, { member: dev, skipSchema: true, maxEvents: 100, allowQueryDocument });
      // An error declaration is recorded under the record ID derived from its hash (trace/correction.ts).
      expect(p.eventIds).toEqual(expected.map((id, i) => (isErrorDeclaration(p.events[i] as JsonObject) ? declarationIdOf(id) : id)));
      p.events.forEach((e, i) => expect(eventIdOf(overTheWire(e))).toBe(expected[i]));
      verifyEventIds(p.events.map(overTheWire), p.eventIds);
    });
  }

  it('copies the document prefixes an event uses into its own @context', () => {
    const d = doc([objectEvent({ 'example:note': 'hello', 'other:x': 'y' })], { example: 'https://ns.example.com/epcis/', unused: 'https://unused.example/' });
    const p = prepareDocument(d);
    expect(p.events[0]?.['@context']).toEqual(['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }]);
    expect(p.eventIds).toEqual(documentEventHashes(d));
    // Without the copied prefix the ID would differ: the prefix is part of the event's identity.
    const bare = { ...p.events[0] };
    delete bare['@context'];
    expect(eventIdOf(bare)).not.toBe(p.eventIds[0]);
  });

  it('verifyEventIds names the index of a mismatching event', () => {
    const p = prepareDocument(doc([objectEvent(), objectEvent({ bizStep: 'storing' }), objectEvent({ bizStep: 'holding' })]));
    expect(() => verifyEventIds(p.events, p.eventIds)).not.toThrow();
    const tampered = p.events.map((e) => ({ ...e }));
    (tampered[1] as JsonObject)['bizStep'] = 'picking';
    const err = errorOf(() => verifyEventIds(tampered, p.eventIds));
    expect(err.code).toBe('BAD_EVENT_ID');
    expect(err.problems.map((x) => x.path)).toEqual(['/events/1']);
    expect(err.message).toContain('event 1');
    expect(errorOf(() => verifyEventIds(p.events, p.eventIds.slice(0, 2))).code).toBe('BAD_EVENT_ID');
  });

  it('refuses the same event twice in one document', () => {
    const a = objectEvent();
    const err = errorOf(() => prepareDocument(doc([a, objectEvent({ bizStep: 'storing' }), { ...a, eventID: 'urn:uuid:other' }])));
    expect(err.code).toBe('DUPLICATE_EVENT');
    expect(err.problems[0]?.path).toBe('/epcisBody/eventList/2');
    expect(err.message).toContain('event 0');
  });

  it('refuses a document without events', () => {
    expect(errorOf(() => prepareDocument(doc([]))).code).toBe('NO_EVENTS');
  });
});
