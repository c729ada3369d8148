/**
 * Validation of EPCIS 2.0 documents: the EPCIS 2.0 JSON Schema (compiled once, all errors) plus
 * the rules a schema cannot say. Every problem found is reported (TraceError.problems), so an
 * HTTP 400 can list them all.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import schema from './data/epcis-json-schema.json' with { type: 'json' };
import { TraceError, type TraceErrorCode, type TraceProblem } from './errors.js';
import { isObject, type JsonObject } from '../common/json.js';
import { eventsOfDocument, hashContextOf, type HashContext } from './event-hash.js';
import { checkedKeyDigits, hasValidCheckDigit, parseDigitalLink, parseEpcUrn } from './identifiers.js';
import { parseOffset, parseTime } from './epcis-time.js';
import { resolveVocabulary, type VocabularyKind } from './vocabulary.js';

export const DEFAULT_MAX_EVENTS = 10_000;

export const EVENT_TYPES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface ValidateOptions {
  /** Most events one document may carry (default 10,000). */
  maxEvents?: number;
  /** Accept an EPCISQueryDocument too (for hashing); capture takes EPCISDocument only. */
  allowQueryDocument?: boolean;
  /** Skip the JSON Schema pass (the caller already ran it). */
  skipSchema?: boolean;
}

export interface ValidatedDocument {
  kind: 'EPCISDocument' | 'EPCISQueryDocument';
  document: JsonObject;
  events: JsonObject[];
  /** @context prefixes and ignoreFields, for the event hash. */
  context: HashContext;
}

type AddFormats = (ajv: Ajv, opts?: { mode?: 'fast' | 'full' }) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

let compiled: ValidateFunction | undefined;

/** The EPCIS 2.0 JSON Schema validator, compiled on first use (draft-07, all errors). */
function schemaValidator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    // 'fast' format regexes: the EPCIS rules below check identifiers and times precisely anyway.
    addFormats(ajv, { mode: 'fast' });
    compiled = ajv.compile(schema as object);
  }
  return compiled;
}


function schemaProblems(errors: readonly ErrorObject[] | null | undefined): TraceProblem[] {
  const out: TraceProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    // "must match then schema" and anyOf summaries only repeat the specific errors beside them.
    if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') continue;
    let message = e.message ?? 'invalid';
    const allowed = (e.params as { allowedValues?: unknown }).allowedValues;
    if (e.keyword === 'enum' && Array.isArray(allowed)) {
      message = allowed.length <= 12 ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : 'must be one of the allowed values';
    }
    if (e.keyword === 'additionalProperties') message += `: ${(e.params as { additionalProperty?: string }).additionalProperty ?? ''}`;
    const key = `${e.instancePath}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: e.instancePath, message, code: 'SCHEMA' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rules beyond the schema

/** Deepest object/array nesting an event may have (the GS1 examples need 6). */
export const MAX_EVENT_DEPTH = 32;

/** Nesting depth of a JSON value, without recursion; stops counting past MAX_EVENT_DEPTH. */
function nestingDepth(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > max) {
      max = d;
      if (max > MAX_EVENT_DEPTH) return max;
    }
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
    } else if (typeof v === 'object' && v !== null) {
      for (const k in v) {
        const x = (v as Record<string, unknown>)[k];
        if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
      }
    }
  }
  return max;
}

const KNOWN_URN_SCHEMES = /^urn:epc:(id|class|idpat):(sgtin|sscc|sgln|grai|giai|gsrn|gsrnp|gdti|cpi|sgcn|ginc|gsin|itip|upui|pgln|lgtin):/;
const ANY_EPC_URN = /^urn:epc:(id|class|idpat|raw|tag|pat):[A-Za-z0-9-]+:\S+$/;

class EventChecker {
  readonly problems: TraceProblem[] = [];
  constructor(private readonly prefixes: ReadonlyMap<string, string>) {}

  add(code: TraceErrorCode, path: string, message: string): void {
    this.problems.push({ path, message, code });
  }

  /** An EPC / class / location identifier: URN syntax, Digital Link check digits. */
  epc(value: unknown, path: string): void {
    if (typeof value !== 'string') return;
    if (value.startsWith('urn:epc:')) {
      if (KNOWN_URN_SCHEMES.test(value)) {
        if (parseEpcUrn(value) === undefined) this.add('BAD_EPC', path, `not a valid EPC URN: ${value}`);
      } else if (!ANY_EPC_URN.test(value)) this.add('BAD_EPC', path, `not a valid EPC URN: ${value}`);
      return;
    }
    if (value.startsWith('https://') || value.startsWith('http://')) {
      const dl = parseDigitalLink(value);
      if (dl === undefined) {
        if (/^https?:\/\/id\.gs1\.org\//.test(value)) this.add('BAD_EPC', path, `not a valid GS1 Digital Link: ${value}`);
        return;
      }
      const digits = checkedKeyDigits(dl.ai, dl.value);
      if (digits !== undefined && !hasValidCheckDigit(digits)) this.add('BAD_CHECK_DIGIT', path, `wrong check digit in GS1 key ${digits} of ${value}`);
    }
  }

  epcs(list: unknown, path: string): void {
    if (!Array.isArray(list)) return;
    list.forEach((v, i) => this.epc(v, `${path}/${i}`));
  }

  quantities(list: unknown, path: string): void {
    if (!Array.isArray(list)) return;
    list.forEach((q, i) => {
      if (isObject(q)) this.epc(q['epcClass'], `${path}/${i}/epcClass`);
    });
  }

  vocab(kind: VocabularyKind, value: unknown, path: string): void {
    if (typeof value !== 'string') return;
    if (resolveVocabulary(kind, value, this.prefixes).kind === 'unknown') {
      this.add('UNKNOWN_VOCABULARY', path, `unknown ${kind} '${value}': use a CBV word, a cbv: CURIE, a https://ref.gs1.org/cbv/ URI, or a non-GS1 absolute URI`);
    }
  }

  typedList(list: unknown, kind: VocabularyKind, valueKey: string, path: string): void {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (!isObject(item)) return;
      this.vocab(kind, item['type'], `${path}/${i}/type`);
      if (valueKey !== 'bizTransaction') this.epc(item[valueKey], `${path}/${i}/${valueKey}`);
    });
  }

  event(e: unknown, path: string): void {
    if (!isObject(e)) {
      this.add('BAD_EVENT', path, 'an event must be a JSON object');
      return;
    }
    if (nestingDepth(e) > MAX_EVENT_DEPTH) {
      // Refused before anything recursive (hashing, canonical JSON) touches it.
      this.add('BAD_EVENT', path, `the event nests objects or arrays deeper than ${MAX_EVENT_DEPTH} levels`);
      return;
    }
    const type = e['type'];
    if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
      this.add('UNKNOWN_EVENT_TYPE', `${path}/type`, `unknown event type ${JSON.stringify(type)}: expected one of ${EVENT_TYPES.join(', ')}`);
    }
    // Time: an offset in eventTime, and eventTimeZoneOffset.
    const t = e['eventTime'];
    if (typeof t !== 'string') this.add('BAD_TIME', `${path}/eventTime`, 'eventTime is required');
    else {
      const p = parseTime(t);
      if (p === undefined) this.add('BAD_TIME', `${path}/eventTime`, `not an ISO 8601 date-time: ${t}`);
      else if (p.offsetMinutes === undefined) this.add('MISSING_TIMEZONE', `${path}/eventTime`, `eventTime must carry a time zone offset (Z or ±hh:mm): ${t}`);
    }
    const tz = e['eventTimeZoneOffset'];
    if (tz === undefined) this.add('MISSING_TIMEZONE', `${path}/eventTimeZoneOffset`, 'eventTimeZoneOffset is required');
    else if (typeof tz !== 'string' || parseOffset(tz) === undefined) this.add('MISSING_TIMEZONE', `${path}/eventTimeZoneOffset`, `not a time zone offset (±hh:mm): ${String(tz)}`);
    // ILMD only where instances or lots come into being.
    if (e['ilmd'] !== undefined) {
      if (type === 'ObjectEvent' && e['action'] !== 'ADD') {
        this.add('ILMD_NOT_ADD', `${path}/ilmd`, `ilmd is only allowed with action ADD (got ${String(e['action'])})`);
      } else if (type !== 'ObjectEvent' && type !== 'TransformationEvent') {
        this.add('ILMD_NOT_ADD', `${path}/ilmd`, 'ilmd is only allowed on an ObjectEvent with action ADD or a TransformationEvent');
      }
    }
    // Vocabularies.
    this.vocab('bizStep', e['bizStep'], `${path}/bizStep`);
    this.vocab('disposition', e['disposition'], `${path}/disposition`);
    const pd = e['persistentDisposition'];
    if (isObject(pd)) {
      for (const k of ['set', 'unset'] as const) {
        const l = pd[k];
        if (Array.isArray(l)) l.forEach((v, i) => this.vocab('disposition', v, `${path}/persistentDisposition/${k}/${i}`));
      }
    }
    this.typedList(e['bizTransactionList'], 'bizTransactionType', 'bizTransaction', `${path}/bizTransactionList`);
    this.typedList(e['sourceList'], 'sourceDestType', 'source', `${path}/sourceList`);
    this.typedList(e['destinationList'], 'sourceDestType', 'destination', `${path}/destinationList`);
    const ed = e['errorDeclaration'];
    if (isObject(ed)) this.vocab('errorReason', ed['reason'], `${path}/errorDeclaration/reason`);
    const sel = e['sensorElementList'];
    if (Array.isArray(sel)) {
      sel.forEach((se, i) => {
        const reports = isObject(se) ? se['sensorReport'] : undefined;
        if (!Array.isArray(reports)) return;
        reports.forEach((r, j) => {
          if (!isObject(r)) return;
          const rp = `${path}/sensorElementList/${i}/sensorReport/${j}`;
          this.vocab('measurementType', r['type'], `${rp}/type`);
          this.vocab('sensorAlertType', r['exception'], `${rp}/exception`);
          this.vocab('component', r['component'], `${rp}/component`);
        });
      });
    }
    // Identifiers.
    this.epc(e['parentID'], `${path}/parentID`);
    this.epcs(e['epcList'], `${path}/epcList`);
    this.epcs(e['childEPCs'], `${path}/childEPCs`);
    this.epcs(e['inputEPCList'], `${path}/inputEPCList`);
    this.epcs(e['outputEPCList'], `${path}/outputEPCList`);
    this.quantities(e['quantityList'], `${path}/quantityList`);
    this.quantities(e['childQuantityList'], `${path}/childQuantityList`);
    this.quantities(e['inputQuantityList'], `${path}/inputQuantityList`);
    this.quantities(e['outputQuantityList'], `${path}/outputQuantityList`);
    for (const loc of ['readPoint', 'bizLocation'] as const) {
      const l = e[loc];
      if (isObject(l)) this.epc(l['id'], `${path}/${loc}/id`);
    }
  }
}

/** Rule problems of one event (no schema pass). `path` prefixes every problem path. */
export function checkEventRules(event: unknown, path = '', prefixes: ReadonlyMap<string, string> = new Map()): TraceProblem[] {
  const c = new EventChecker(prefixes);
  c.event(event, path);
  return c.problems;
}

/**
 * Validates an EPCIS 2.0 document; returns its events and hash context or throws TraceError
 * listing every problem. A document over `maxEvents` is refused before anything else is checked.
 */
export function validateDocument(input: unknown, opts: ValidateOptions = {}): ValidatedDocument {
  const maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
  if (!isObject(input)) throw new TraceError('BAD_DOCUMENT', 'an EPCIS document must be a JSON object');
  const type = input['type'];
  if (type !== 'EPCISDocument' && !(opts.allowQueryDocument === true && type === 'EPCISQueryDocument')) {
    throw new TraceError(
      'BAD_DOCUMENT',
      `expected an EPCISDocument${opts.allowQueryDocument === true ? ' or EPCISQueryDocument' : ''}, got type ${JSON.stringify(type)}`,
      [{ path: '/type', message: 'must be EPCISDocument', code: 'BAD_DOCUMENT' }],
    );
  }
  const events = eventsOfDocument(input);
  const listPath = type === 'EPCISDocument' ? '/epcisBody/eventList' : '/epcisBody/queryResults/resultsBody/eventList';
  if (events !== undefined && events.length > maxEvents) {
    throw new TraceError('TOO_MANY_EVENTS', `${events.length} events in one document; at most ${maxEvents} are allowed`, [
      { path: listPath, message: `${events.length} events; at most ${maxEvents}`, code: 'TOO_MANY_EVENTS' },
    ]);
  }
  const problems: TraceProblem[] = [];
  if (opts.skipSchema !== true) {
    const validate = schemaValidator();
    if (!validate(input)) problems.push(...schemaProblems(validate.errors));
  }
  if (events === undefined) {
    if (problems.length === 0) problems.push({ path: listPath, message: 'the document has no event list', code: 'BAD_DOCUMENT' });
    throw TraceError.fromProblems(problems, 'SCHEMA');
  }
  const context = hashContextOf(input);
  const checker = new EventChecker(context.prefixes);
  events.forEach((e, i) => checker.event(e, `${listPath}/${i}`));
  // Rule problems first: their codes say more than the schema's generic one.
  const all = [...checker.problems, ...problems];
  if (all.length > 0) throw TraceError.fromProblems(all, 'SCHEMA');
  return { kind: type, document: input, events: events as JsonObject[], context };
}
