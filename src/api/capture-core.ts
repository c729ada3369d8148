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
import sjson from 'secure-json-parse';
import { toHex } from '../common/bytes.js';
import { signCanonicalTx } from '../chain/tx.js';
import type { Member, TxBody } from '../chain/types.js';
import { prepareDocument } from '../trace/document.js';
import { epcisXmlToJson, XmlSyntaxError } from '../trace/epcis-xml.js';
import { TraceError } from '../trace/errors.js';
import { HttpProblem, toProblem, type ApiProblemCode, type Problem } from './problem.js';

export interface CaptureSetup {
  member: Member;
  /** Ed25519 seed of the member key (32 bytes). */
  secretKey: Uint8Array;
  chainId: string;
  maxTxBytes: number;
  maxEventsPerTx: number;
}

export type CaptureOutcome =
  | { ok: true; tx: string; txId: string; eventIds: string[]; bytes: number }
  | { ok: false; problem: Problem };

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

export function prepareCapture(body: Uint8Array | string, setup: CaptureSetup, time: number, format: CaptureFormat = 'json'): CaptureOutcome {
  const parsed = format === 'xml' ? parseXmlBody(body) : parseJsonBody(body);
  if (!parsed.ok) return parsed.outcome;
  let prepared: { events: Record<string, unknown>[]; eventIds: string[] };
  try {
    prepared = prepareDocument(parsed.value, { member: setup.member, maxEvents: setup.maxEventsPerTx, allowQueryDocument: true });
  } catch (err) {
    if (err instanceof TraceError) return refused(err);
    throw err;
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
  const txBody: TxBody = { v: 1, chain: setup.chainId, kind: 'epcis', submitter: setup.member.id, time, events: prepared.events, eventIds: prepared.eventIds };
  const { id, text: tx } = signCanonicalTx(txBody, setup.secretKey);
  const bytes = Buffer.byteLength(tx, 'utf8');
  if (bytes > setup.maxTxBytes) {
    return problem('OVERSIZE', `the document's ${prepared.events.length} events make a ${bytes}-byte tx; a tx may carry at most ${setup.maxTxBytes} bytes: split the document`);
  }
  return { ok: true, tx, txId: toHex(id), eventIds: prepared.eventIds, bytes };
}
