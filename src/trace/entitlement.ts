/**
 * Who is entitled to a private event's body (docs/confidentiality.md): its submitter, the members
 * whose party identifiers (PGLN, GLNs: the registry's `parties`) the event names as a source or a
 * destination, and every regulator. A party that is no member is entitled to nothing.
 */
import type { Member } from '../chain/types.js';
import { isObject, type JsonObject } from '../common/json.js';
import { normaliseGs1Uri } from './identifiers.js';
import { canonicalEventText, checkReveal } from './private-event.js';
import { eventIdOf } from './document.js';
import { TraceError } from './errors.js';

/**
 * The comparable form of a party identifier: `gln:<13 digits>` for a PGLN or GLN (URN or
 * Digital Link, any extension), else the identifier as written.
 */
export function partyKey(id: string): string {
  const dl = normaliseGs1Uri(id) ?? id;
  const m = /\/(?:414|417)\/(\d{13})(?:\/|$)/.exec(dl);
  return m ? `gln:${m[1]}` : dl;
}

function listValues(list: unknown, field: string): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const e of list) if (isObject(e) && typeof e[field] === 'string') out.push(e[field]);
  return out;
}

/** The parties an event names as sources or destinations, in comparable form. */
export function partiesOfEvent(event: JsonObject): Set<string> {
  return new Set([...listValues(event['sourceList'], 'source'), ...listValues(event['destinationList'], 'destination')].map(partyKey));
}

/** Is this member entitled to the body of this event, submitted by `submitter` (a member ID)? */
export function isEntitled(member: Member, event: JsonObject, submitter: string): boolean {
  if (member.id === submitter || member.role === 'regulator') return true;
  const parties = member.parties ?? [];
  if (parties.length === 0) return false;
  const named = partiesOfEvent(event);
  return parties.some((p) => named.has(partyKey(p)));
}

function parseEvent(text: string): JsonObject | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return isObject(v) ? v : undefined;
  } catch (err) {
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** `isEntitled` on a body as it travels (the event's JCS text); a text that is no JSON object entitles nobody. */
export function isEntitledToText(member: Member, eventText: string, submitter: string): boolean {
  const event = parseEvent(eventText);
  return event !== undefined && isEntitled(member, event, submitter);
}

/**
 * Does a body as it travels (event JCS text and salt) open this commitment, with this projection?
 * A reason when it does not: not JSON, not canonical (so two texts of one event never both
 * circulate), a wrong salt, commitment or projection.
 */
export function bodyTextProblem(body: { eventText: string; salt: string }, commitment: string, projection: unknown): string | undefined {
  const event = parseEvent(body.eventText);
  if (event === undefined) return 'the body is not a JSON object';
  if (canonicalEventText(event) !== body.eventText) return 'the body is not in canonical (RFC 8785) form';
  const r = checkReveal({ event, salt: body.salt }, commitment, projection);
  return r.ok ? undefined : `${r.reason}: ${r.message}`;
}

/** The CBV 2.0 event ID of a body as it travels; undefined when the text is no event the hash takes. */
export function eventIdOfText(eventText: string): string | undefined {
  const event = parseEvent(eventText);
  if (event === undefined) return undefined;
  try {
    return eventIdOf(event);
  } catch (err) {
    if (err instanceof TraceError) return undefined;
    throw err;
  }
}
