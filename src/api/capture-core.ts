/**
 * The CPU-heavy half of POST /capture, as one pure function run in a capture worker (or inline):
 * parse the body safely, validate the EPCIS document and the member's role rules, compute the
 * CBV 2.0 event IDs, and build and sign ONE tx carrying every event. Returns the signed tx's
 * canonical JSON, or a problem (RFC 9457 fields, built by api/problem.ts like every other
 * answer) saying everything that is wrong.
 *
 * The tx is built and signed by chain/tx.ts (signCanonicalTx: one RFC 8785 pass, the signature
 * put where JCS puts it), which owns the signed form.
 */
import { randomBytes } from 'node:crypto';
import sjson from 'secure-json-parse';
import { fromHex, toHex } from '../common/bytes.js';
import { keyIdHex } from '../chain/keys.js';
import { signCanonicalTx } from '../chain/tx.js';
import type { Member, TxBody } from '../chain/types.js';
import { prepareDocument } from '../trace/document.js';
import { epcisXmlToJson, XmlSyntaxError } from '../trace/epcis-xml.js';
import { TraceError } from '../trace/errors.js';
import { canonicalEventText, commitmentId, commitmentOfText, projectionOf } from '../trace/private-event.js';
import type { JsonObject } from '../common/json.js';
import { HttpProblem, toProblem, type ApiProblemCode, type Problem } from './problem.js';

export interface CaptureSetup {
  member: Member;
  /** Ed25519 seed of the member key (32 bytes). */
  secretKey: Uint8Array;
  chainId: string;
  maxTxBytes: number;
  maxEventsPerTx: number;
}

/** An event a `proceed` capture left out, by its index in the submitted document. */
export interface RefusedEvent {
  index: number;
  errors: { path: string; message: string; code: string }[];
}

/** A private event's body as the capturing node keeps it (docs/confidentiality.md). */
export interface CapturedBody {
  commitment: string;
  salt: string;
  eventText: string;
  /** The event's CBV 2.0 event ID (its identity for the entitled). */
  eventId: string;
}

export type CaptureOutcome =
  | { ok: true; tx: string; txId: string; eventIds: string[]; bytes: number; refused?: RefusedEvent[]; bodies?: CapturedBody[] }
  | { ok: false; problem: Problem };

/**
 * GS1-Capture-Error-Behaviour: `rollback` (all or nothing) or `proceed` (the valid events are
 * captured, each refused one listed). `exclude`: event IDs to leave out as duplicates (the chain
 * already holds them; proceed only).
 */
export interface CaptureMode {
  behaviour: 'rollback' | 'proceed';
  exclude?: readonly string[];
  /** `private`: a `private` tx (projections and salted commitments; the bodies come back in the outcome). Default public. */
  sharing?: 'public' | 'private';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function refused(err: unknown): CaptureOutcome {
  return { ok: false, problem: toProblem(err) };
}

function problem(code: ApiProblemCode, detail: string, extensions: Record<string, unknown> = {}): CaptureOutcome {
  return refused(new HttpProblem(code, detail, extensions));
}

/** Parse a JSON body, refusing __proto__ and constructor.prototype keys (prototype poisoning). */
export function parseJsonBody(body: Uint8Array | string): { ok: true; value: unknown } | { ok: false; outcome: CaptureOutcome } {
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8.decode(body);
  } catch {
    return { ok: false, outcome: problem('BAD_ENCODING', 'the request body must be UTF-8 encoded JSON') };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { ok: true, value: sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' }) };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (err instanceof SyntaxError && !/prototype/i.test(msg)) return { ok: false, outcome: problem('BAD_JSON', msg) };
    return { ok: false, outcome: problem('FORBIDDEN_PROPERTY', `${msg} (__proto__ and constructor.prototype keys are refused)`) };
  }
}

/** How a capture body is written: EPCIS JSON(-LD), or EPCIS XML (2.0, or 1.2 where it maps). */
export type CaptureFormat = 'json' | 'xml';

/**
 * Parse an EPCIS XML body into its EPCIS 2.0 JSON-LD form (trace/epcis-xml.ts): from there it is
 * validated, hashed and stored exactly as the same document sent as JSON.
 */
export function parseXmlBody(body: Uint8Array | string): { ok: true; value: unknown } | { ok: false; outcome: CaptureOutcome } {
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8.decode(body);
  } catch {
    return { ok: false, outcome: problem('BAD_ENCODING', 'the request body must be UTF-8 encoded XML') };
  }
  try {
    return { ok: true, value: epcisXmlToJson(text).doc };
  } catch (err) {
    if (err instanceof XmlSyntaxError) return { ok: false, outcome: problem('BAD_XML', err.message) };
    if (err instanceof TraceError) return { ok: false, outcome: refused(err) };
    throw err;
  }
}

const EVENT_PATH = /^(\/epcisBody\/eventList|\/epcisBody\/queryResults\/resultsBody\/eventList)\/(\d+)(?=\/|$)/;

/** The document's event list (EPCISDocument or EPCISQueryDocument), if it has one. */
function eventListOf(doc: unknown): unknown[] | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const body = (doc as { epcisBody?: unknown }).epcisBody as { eventList?: unknown; queryResults?: { resultsBody?: { eventList?: unknown } } } | undefined;
  const list = body?.eventList ?? body?.queryResults?.resultsBody?.eventList;
  return Array.isArray(list) ? list : undefined;
}

/** The same document with only the events at `kept` (indices into `list`). */
function withEvents(doc: Record<string, unknown>, list: unknown[], kept: readonly number[]): Record<string, unknown> {
  const events = kept.map((i) => list[i]);
  const body = doc['epcisBody'] as Record<string, unknown>;
  if (Array.isArray(body['eventList'])) return { ...doc, epcisBody: { ...body, eventList: events } };
  const qr = body['queryResults'] as Record<string, unknown>;
  return { ...doc, epcisBody: { ...body, queryResults: { ...qr, resultsBody: { ...(qr['resultsBody'] as Record<string, unknown>), eventList: events } } } };
}

/**
 * Validate with GS1-Capture-Error-Behaviour `proceed`: drop every event a problem names and
 * validate the rest again (a role or duplicate check may name others), until what is left passes
 * or nothing is left. A problem of the document itself (not of one event) refuses it whole.
 */
function prepareProceeding(doc: unknown, setup: CaptureSetup): { prepared: { events: Record<string, unknown>[]; eventIds: string[] }; refused: RefusedEvent[]; kept: number[] } | CaptureOutcome {
  const list = eventListOf(doc);
  const refusedAt = new Map<number, RefusedEvent>();
  let kept = list === undefined ? [] : list.map((_, i) => i);
  for (;;) {
    const current = list === undefined ? doc : withEvents(doc as Record<string, unknown>, list, kept);
    try {
      const prepared = prepareDocument(current, { member: setup.member, maxEvents: setup.maxEventsPerTx, allowQueryDocument: true });
      return { prepared, refused: [...refusedAt.values()].sort((a, b) => a.index - b.index), kept };
    } catch (err) {
      if (!(err instanceof TraceError)) throw err;
      if (list === undefined) return refused(err);
      const drop = new Set<number>();
      for (const p of err.problems) {
        const m = EVENT_PATH.exec(p.path);
        if (m === null) return refused(err);
        const original = kept[Number(m[2])];
        if (original === undefined) return refused(err);
        drop.add(original);
        const r = refusedAt.get(original) ?? { index: original, errors: [] };
        r.errors.push({ path: p.path.replace(EVENT_PATH, `${m[1]}/${original}`), message: p.message, code: p.code ?? err.code });
        refusedAt.set(original, r);
      }
      kept = kept.filter((i) => !drop.has(i));
      if (kept.length === 0) return refused(err.problems.length > 0 ? TraceError.fromProblems([...refusedAt.values()].flatMap((r) => r.errors.map((e) => ({ path: e.path, message: e.message, code: e.code as never }))), err.code) : err);
    }
  }
}

export function prepareCapture(body: Uint8Array | string, setup: CaptureSetup, time: number, format: CaptureFormat = 'json', mode: CaptureMode = { behaviour: 'rollback' }): CaptureOutcome {
  const parsed = format === 'xml' ? parseXmlBody(body) : parseJsonBody(body);
  if (!parsed.ok) return parsed.outcome;
  let prepared: { events: Record<string, unknown>[]; eventIds: string[] };
  let refusedEvents: RefusedEvent[] = [];
  let kept: number[] | undefined;
  if (mode.behaviour === 'proceed') {
    const p = prepareProceeding(parsed.value, setup);
    if ('ok' in p) return p;
    ({ prepared, refused: refusedEvents, kept } = p);
    // Events the chain already holds (the route found them on a first try), and an event given
    // twice: left out and listed, the rest captured.
    const exclude = new Set(mode.exclude ?? []);
    const seen = new Map<string, number>();
    const events: Record<string, unknown>[] = [];
    const eventIds: string[] = [];
    prepared.eventIds.forEach((id, i) => {
      const index = (kept as number[])[i] as number;
      const first = seen.get(id);
      if (exclude.has(id) || first !== undefined) {
        const why = first !== undefined ? `same event as event ${first} (event ID ${id})` : `event ${id} is already recorded`;
        refusedEvents.push({ index, errors: [{ path: `/epcisBody/eventList/${index}`, message: why, code: first !== undefined ? 'DUPLICATE_IN_DOCUMENT' : 'DUPLICATE_EVENT' }] });
        return;
      }
      seen.set(id, index);
      events.push(prepared.events[i] as Record<string, unknown>);
      eventIds.push(id);
    });
    refusedEvents.sort((a, b) => a.index - b.index);
    if (events.length === 0) {
      return problem('DUPLICATE_IN_DOCUMENT', 'no event of the document is left to capture', { errors: refusedEvents.flatMap((r) => r.errors) });
    }
    prepared = { events, eventIds };
  } else {
    try {
      prepared = prepareDocument(parsed.value, { member: setup.member, maxEvents: setup.maxEventsPerTx, allowQueryDocument: true });
    } catch (err) {
      if (err instanceof TraceError) return refused(err);
      throw err;
    }
  }
  const firstAt = new Map<string, number>();
  const dups: { path: string; message: string; code: string }[] = [];
  prepared.eventIds.forEach((id, i) => {
    const first = firstAt.get(id);
    if (first === undefined) firstAt.set(id, i);
    else dups.push({ path: `/epcisBody/eventList/${i}`, message: `same event as /epcisBody/eventList/${first} (event ID ${id})`, code: 'DUPLICATE_IN_DOCUMENT' });
  });
  if (dups.length > 0) {
    return problem('DUPLICATE_IN_DOCUMENT', `${dups.length} event(s) appear twice in the document`, { errors: dups });
  }
  const submitter = keyIdHex(fromHex(setup.member.signingKey, 32));
  let txBody: TxBody = { v: 1, chain: setup.chainId, kind: 'epcis', submitter, time, events: prepared.events, eventIds: prepared.eventIds };
  let bodies: CapturedBody[] | undefined;
  if (mode.sharing === 'private') {
    const p = privateTx(prepared, (n) => randomBytes(n));
    if ('ok' in p) return p;
    bodies = p.bodies;
    txBody = { v: 1, chain: setup.chainId, kind: 'private', submitter, time, events: p.projections, eventIds: bodies.map((b) => commitmentId(b.commitment)) };
  }
  const { id, text: tx } = signCanonicalTx(txBody, setup.secretKey);
  const bytes = Buffer.byteLength(tx, 'utf8');
  if (bytes > setup.maxTxBytes) {
    return problem('OVERSIZE', `the document's ${prepared.events.length} events make a ${bytes}-byte tx; a tx may carry at most ${setup.maxTxBytes} bytes: split the document`);
  }
  return { ok: true, tx, txId: toHex(id), eventIds: txBody.eventIds, bytes, ...(mode.behaviour === 'proceed' ? { refused: refusedEvents } : {}), ...(bodies !== undefined ? { bodies } : {}) };
}

/** The private form of prepared events: each one's projection, a fresh 256-bit salt and its commitment. */
export function privateTx(
  prepared: { events: Record<string, unknown>[]; eventIds: string[] },
  random: (n: number) => Uint8Array,
): { projections: Record<string, unknown>[]; bodies: CapturedBody[] } | CaptureOutcome {
  const projections: Record<string, unknown>[] = [];
  const bodies: CapturedBody[] = [];
  // One draw for the document's salts (a fresh 256-bit salt per event).
  const salts = random(32 * prepared.events.length);
  try {
    prepared.events.forEach((e, i) => {
      const event = e as JsonObject;
      const salt = salts.subarray(32 * i, 32 * i + 32);
      const eventText = canonicalEventText(event);
      projections.push(projectionOf(event) as unknown as Record<string, unknown>);
      bodies.push({ commitment: commitmentOfText(eventText, salt), salt: toHex(salt), eventText, eventId: prepared.eventIds[i] as string });
    });
  } catch (err) {
    if (err instanceof TraceError) return refused(err);
    throw err;
  }
  return { projections, bodies };
}
