/**
 * From a captured EPCISDocument to self-contained events for a transaction: each returned event
 * carries what its hash needs (the document's @context prefixes it uses), so any node recomputes
 * its ID from the event alone (`eventIdOf`) when it re-verifies a transaction.
 */
import type { Member } from '../chain/types.js';
import { TraceError, type TraceProblem } from './errors.js';
import { isObject, type JsonObject } from '../common/json.js';
import { EMPTY_HASH_CONTEXT, eventHash, type HashContext } from './event-hash.js';
import { roleProblems } from './roles.js';
import { validateDocument, type ValidateOptions } from './epcis-validate.js';
import { recordIdOf } from './correction.js';

export const EPCIS_CONTEXT_URL = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

export interface PrepareOptions extends ValidateOptions {
  /** When given, every event must pass the role rules for this member (all problems listed). */
  member?: Member;
}

export interface PreparedDocument {
  events: JsonObject[];
  eventIds: string[];
}


/** Prefixes used by an event: in keys (`ex:field`) and in string values (`ex:value`). */
function usedPrefixes(value: unknown, declared: ReadonlyMap<string, string>, into: Set<string>): void {
  if (typeof value === 'string') {
    const i = value.indexOf(':');
    if (i > 0 && declared.has(value.slice(0, i))) into.add(value.slice(0, i));
  } else if (Array.isArray(value)) {
    for (const v of value) usedPrefixes(v, declared, into);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '@context') continue;
      const i = k.indexOf(':');
      if (i > 0 && declared.has(k.slice(0, i))) into.add(k.slice(0, i));
      usedPrefixes(v, declared, into);
    }
  }
}

/**
 * The event as a standalone JSON-LD object: the EPCIS context and the document prefixes it uses
 * in its own @context (before any @context it had, which keeps precedence), and without the
 * fields the document asked the hash to ignore (`…:ignoreFields`), which are not part of its
 * identity.
 */
export function selfContainedEvent(event: JsonObject, context: HashContext): JsonObject {
  const used = new Set<string>();
  usedPrefixes(event, context.prefixes, used);
  const local: Record<string, string> = {};
  for (const p of [...used].sort()) local[p] = context.prefixes.get(p) as string;
  const own = event['@context'];
  const ctx: unknown[] = [EPCIS_CONTEXT_URL];
  if (used.size > 0) ctx.push(local);
  if (own !== undefined) for (const c of Array.isArray(own) ? own : [own]) if (c !== EPCIS_CONTEXT_URL) ctx.push(c);
  const out: JsonObject = { '@context': ctx };
  for (const [k, v] of Object.entries(event)) {
    if (k === '@context' || context.ignoreFields.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/** The CBV 2.0 event ID of a self-contained event (its own @context supplies the prefixes). */
export function eventIdOf(event: JsonObject): string {
  return eventHash(event, EMPTY_HASH_CONTEXT);
}

/**
 * Validates a captured EPCISDocument (schema, rules, at most `maxEvents` events, and the role
 * rules when `member` is given) and returns self-contained events with their IDs, in order.
 * Throws TraceError listing every problem.
 */
export function prepareDocument(doc: unknown, opts: PrepareOptions = {}): PreparedDocument {
  const v = validateDocument(doc, opts);
  const listPath = v.kind === 'EPCISDocument' ? '/epcisBody/eventList' : '/epcisBody/queryResults/resultsBody/eventList';
  if (opts.member !== undefined) {
    const problems: TraceProblem[] = [];
    let rule: string | undefined;
    v.events.forEach((e, i) => {
      for (const p of roleProblems(opts.member as Member, e, { prefixes: v.context.prefixes, path: `${listPath}/${i}` })) {
        rule ??= p.rule;
        problems.push({ path: p.path, message: `${p.message} [rule ${p.rule}]`, code: p.code ?? 'ROLE_VIOLATION' });
      }
    });
    const first = problems[0];
    if (first !== undefined) throw new TraceError(first.code ?? 'ROLE_VIOLATION', first.message, problems, rule);
  }
  if (v.events.length === 0) throw new TraceError('NO_EVENTS', 'the document carries no events', [{ path: listPath, message: 'empty event list', code: 'NO_EVENTS' }]);
  const events = v.events.map((e) => selfContainedEvent(e, v.context));
  // An error declaration is recorded under its own record ID (trace/correction.ts).
  const eventIds = events.map(recordIdOf);
  // The same event twice in one capture would put one event ID twice in one tx.
  const first = new Map<string, number>();
  const dups: TraceProblem[] = [];
  eventIds.forEach((id, i) => {
    const j = first.get(id);
    if (j === undefined) first.set(id, i);
    else dups.push({ path: `${listPath}/${i}`, message: `event ${i} is the same event as event ${j} (${id})`, code: 'DUPLICATE_EVENT' });
  });
  if (dups.length > 0) throw TraceError.fromProblems(dups, 'DUPLICATE_EVENT');
  return { events, eventIds };
}

/** Throws TraceError BAD_EVENT_ID naming every index whose ID does not match its event (its record ID: trace/correction.ts). */
export function verifyEventIds(events: readonly JsonObject[], eventIds: readonly string[]): void {
  const problems: TraceProblem[] = [];
  if (events.length !== eventIds.length) {
    problems.push({ path: '/eventIds', message: `${eventIds.length} event IDs for ${events.length} events`, code: 'BAD_EVENT_ID' });
  }
  const n = Math.min(events.length, eventIds.length);
  for (let i = 0; i < n; i++) {
    const e = events[i];
    const actual = isObject(e) ? recordIdOf(e) : undefined;
    if (actual !== eventIds[i]) {
      problems.push({ path: `/events/${i}`, message: `event ${i}: ID ${String(eventIds[i])} does not match its content (${actual ?? 'not an object'})`, code: 'BAD_EVENT_ID' });
    }
  }
  if (problems.length > 0) throw TraceError.fromProblems(problems, 'BAD_EVENT_ID');
}
