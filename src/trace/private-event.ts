/**
 * Private events (docs/confidentiality.md): what a `private` tx carries on chain for an EPCIS
 * event instead of the event itself, and the checks that tie the two together.
 *
 * - The **commitment** `SHA-256(salt ‖ JCS(event))` with a fresh 256-bit salt: the event's
 *   chain-level identity (its `eventIds` entry, written `ni:///sha-256;<commitment>?ver=CBV2.0` so
 *   the stores index it like any event ID).
 * - The **projection**: only what the consortium's shared rules need (the business action, item
 *   tags, the lot and expiry of commissioned items, recalled lots, the event time). Item tags are
 *   `SHA-256("tracechain/item-tag/v1" ‖ canonical item key)`: whoever holds a pack can compute its
 *   tag and look it up; a tag alone does not name the item (but sequential serials can be
 *   enumerated: see the threat model).
 * - The **reveal**: the event and its salt; `checkReveal` says whether they match a commitment and
 *   a projection, so a node that receives a body (or a proof) can check it.
 *
 * The status machine (status.ts) runs on a projection through `projectionAsEvent`: an item named
 * only by private events has its record under its tag key (`tag:<hex>`).
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Member } from '../chain/types.js';
import { isObject, type JsonObject } from '../common/json.js';
import { actionsOf, eventFacts, type TraceAction } from './actions.js';
import { TraceError, type TraceProblem } from './errors.js';
import { companyPrefixOf, itemKeyOrUndefined } from './identifiers.js';
import { ruleFor } from './roles.js';
import { lotOfClass } from './status.js';

/** The `type` of a projection: never a valid EPCIS event type, so a projection is never taken for an event. */
export const PROJECTION_TYPE = 'PrivateProjection';
export const TAG_DOMAIN = 'tracechain/item-tag/v1';
export const SALT_BYTES = 32;
const HEX64 = /^[0-9a-f]{64}$/;
const TAG_KEY = /^tag:[0-9a-f]{64}$/;
const EVENT_TYPES = new Set(['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent']);
const EPCIS_ACTIONS = new Set(['ADD', 'OBSERVE', 'DELETE']);
const STEPS: readonly TraceAction[] = ['commission', 'decommission', 'destroy', 'recall', 'pack', 'unpack', 'ship', 'receive', 'dispense', 'observe'];
/** A CBV bizStep word whose action (actions.ts) is the step: how a projection is replayed by the status machine. */
const STEP_WORD: Readonly<Record<TraceAction, string | undefined>> = {
  commission: 'commissioning',
  decommission: 'decommissioning',
  destroy: 'destroying',
  recall: undefined,
  pack: 'packing',
  unpack: 'unpacking',
  ship: 'shipping',
  receive: 'receiving',
  dispense: 'dispensing',
  observe: 'inspecting',
};
/** Most tags one projection carries (an event naming more items is refused in private mode). */
export const MAX_TAGS = 10_000;

export interface LotInfo {
  gtin: string;
  lot: string;
  /** ILMD itemExpirationDate, when given. */
  expiry?: string;
}

/** What a private event shows everyone (its fields in JCS order when serialised). */
export interface Projection {
  type: typeof PROJECTION_TYPE;
  /** The EPCIS event type (ObjectEvent, …). */
  eventType: string;
  /** The EPCIS action (ADD, OBSERVE, DELETE), when the event has one. */
  action?: string;
  /** The business action the status machine and the role rules act on. */
  step: TraceAction;
  /** The event recalls (disposition recalled). */
  recall?: true;
  /** The event's eventTime, as given. */
  eventTime: string;
  /** Tags of the items acted on (epcList, childEPCs; a transformation's outputs). */
  tags: string[];
  /** Tag of the parent (aggregation), when there is one. */
  parentTag?: string;
  /** Tags of a transformation's inputs. */
  inputTags?: string[];
  /** A commissioning's lot and expiry (so lot recalls and expiry alerts work on every node). */
  lot?: LotInfo;
  /** Lots a recall names (GTIN + lot, as the recalled-lots index keeps them). */
  recalledLots?: { gtin: string; lot: string }[];
}

export function sha256Hex(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** The canonical bytes a commitment covers: RFC 8785 JCS of the event. */
export function canonicalEventText(event: JsonObject): string {
  const s = canonicalize(event);
  if (s === undefined) throw new TraceError('BAD_EVENT', 'the event has no JSON form');
  return s;
}

/** `SHA-256(salt ‖ JCS(event))`, lowercase hex. */
export function commitmentOf(event: JsonObject, salt: Uint8Array): string {
  return commitmentOfText(canonicalEventText(event), salt);
}

/** The commitment of an event's canonical text (`canonicalEventText`), when the caller has it already. */
export function commitmentOfText(eventText: string, salt: Uint8Array): string {
  if (salt.length !== SALT_BYTES) throw new TraceError('BAD_EVENT', `a salt is ${SALT_BYTES} bytes, not ${salt.length}`);
  return sha256Hex(salt, eventText);
}

/** The chain-level ID of a private event: its commitment in the ni URI form every event index keys on. */
export function commitmentId(commitment: string): string {
  return `ni:///sha-256;${commitment}?ver=CBV2.0`;
}

/** The commitment inside a private event's chain-level ID. */
export function commitmentOfId(id: string): string | undefined {
  const m = /^ni:\/\/\/sha-256;([0-9a-f]{64})\?ver=CBV2\.0$/.exec(id);
  return m?.[1];
}

/** The tag of a canonical item key (lowercase hex). */
export function tagOfKey(itemKey: string): string {
  return sha256Hex(TAG_DOMAIN, '\u0000', itemKey);
}

/** The item-record key of a tag (what the status machine and the history index use). */
export function tagKey(tag: string): string {
  return `tag:${tag}`;
}

/** The tag key of an identifier (an EPC URN or Digital Link), or undefined when it names no item. */
export function tagKeyOfId(id: string): string | undefined {
  const k = itemKeyOrUndefined(id);
  return k === undefined ? undefined : tagKey(tagOfKey(k));
}

function ilmdText(event: JsonObject, name: string): string | undefined {
  const ilmd = event['ilmd'];
  if (!isObject(ilmd)) return undefined;
  for (const [k, v] of Object.entries(ilmd)) {
    const local = k.slice(Math.max(k.lastIndexOf(':'), k.lastIndexOf('/'), k.lastIndexOf('#')) + 1);
    if (local === name && (typeof v === 'string' || typeof v === 'number')) return String(v);
  }
  return undefined;
}

function tagsOf(ids: readonly string[]): string[] {
  const out = new Set<string>();
  for (const id of ids) {
    const k = itemKeyOrUndefined(id);
    if (k !== undefined) out.add(tagOfKey(k));
  }
  return [...out];
}

/** The projection of a (validated) EPCIS event: what a private tx shows everyone. Throws TraceError. */
export function projectionOf(event: JsonObject): Projection {
  const f = eventFacts(event);
  if (typeof event['eventTime'] !== 'string') throw new TraceError('BAD_EVENT', 'a private event needs its eventTime');
  const p: Projection = { type: PROJECTION_TYPE, eventType: f.type, step: f.primary, eventTime: event['eventTime'], tags: tagsOf(f.epcs) };
  if (f.action !== undefined) p.action = f.action;
  if (f.recall) p.recall = true;
  if (p.tags.length > MAX_TAGS) throw new TraceError('BAD_EVENT', `a private event names at most ${MAX_TAGS} items`);
  if (f.parentID !== undefined && f.type !== 'TransformationEvent') {
    const [parent] = tagsOf([f.parentID]);
    if (parent !== undefined) p.parentTag = parent;
  }
  if (f.inputs.length > 0) p.inputTags = tagsOf(f.inputs);
  if (f.primary === 'commission') {
    const lot = ilmdText(event, 'lotNumber');
    const gtin = f.epcs.map((e) => lotGtin(e)).find((g) => g !== undefined);
    if (lot !== undefined && gtin !== undefined) {
      const expiry = ilmdText(event, 'itemExpirationDate');
      p.lot = expiry === undefined ? { gtin, lot } : { gtin, lot, expiry };
    }
  }
  if (f.recall) {
    const lots = f.classes.map(lotOfClass).filter((l): l is { gtin: string; lot: string } => l !== undefined);
    if (lots.length > 0) p.recalledLots = lots;
  }
  return p;
}

/** The GTIN of an instance identifier (SGTIN URN or Digital Link), if it has one. */
function lotGtin(id: string): string | undefined {
  const k = itemKeyOrUndefined(id);
  const m = k === undefined ? null : /\/01\/(\d{14})(?:\/|$)/.exec(k);
  return m?.[1];
}

/** A projection read from a tx: checked shape, or every problem. Never throws on bad input shapes: returns problems. */
export function projectionProblems(value: unknown, path: string): TraceProblem[] {
  const out: TraceProblem[] = [];
  const bad = (where: string, message: string): void => void out.push({ path: `${path}${where}`, message, code: 'BAD_EVENT' });
  if (!isObject(value)) return [{ path, message: 'a projection is a JSON object', code: 'BAD_EVENT' }];
  const allowed = new Set(['type', 'eventType', 'action', 'step', 'recall', 'eventTime', 'tags', 'parentTag', 'inputTags', 'lot', 'recalledLots']);
  for (const k of Object.keys(value)) if (!allowed.has(k)) bad(`/${k}`, `a projection has no field "${k}"`);
  if (value['type'] !== PROJECTION_TYPE) bad('/type', `a projection's type is ${PROJECTION_TYPE}`);
  if (typeof value['eventType'] !== 'string' || !EVENT_TYPES.has(value['eventType'])) bad('/eventType', 'eventType must be an EPCIS event type');
  if (value['action'] !== undefined && (typeof value['action'] !== 'string' || !EPCIS_ACTIONS.has(value['action']))) bad('/action', 'action must be ADD, OBSERVE or DELETE');
  if (typeof value['step'] !== 'string' || !(STEPS as readonly string[]).includes(value['step'])) bad('/step', `step must be one of ${STEPS.join(', ')}`);
  if (value['recall'] !== undefined && value['recall'] !== true) bad('/recall', 'recall is true or absent');
  if (typeof value['eventTime'] !== 'string' || value['eventTime'].length > 64 || Number.isNaN(Date.parse(value['eventTime']))) bad('/eventTime', 'eventTime must be a date-time');
  const tags = (v: unknown, where: string, required: boolean): void => {
    if (v === undefined && !required) return;
    if (!Array.isArray(v) || v.length > MAX_TAGS || !v.every((t) => typeof t === 'string' && HEX64.test(t))) bad(where, `${where.slice(1)} must be at most ${MAX_TAGS} tags (64 lowercase hex)`);
    else if (new Set(v).size !== v.length) bad(where, `${where.slice(1)} names a tag twice`);
  };
  tags(value['tags'], '/tags', true);
  tags(value['inputTags'], '/inputTags', false);
  if (value['parentTag'] !== undefined && (typeof value['parentTag'] !== 'string' || !HEX64.test(value['parentTag']))) bad('/parentTag', 'parentTag must be a tag (64 lowercase hex)');
  const lotOk = (l: unknown, withExpiry: boolean): boolean =>
    isObject(l) &&
    typeof l['gtin'] === 'string' &&
    /^\d{14}$/.test(l['gtin']) &&
    typeof l['lot'] === 'string' &&
    l['lot'].length > 0 &&
    l['lot'].length <= 20 &&
    Object.keys(l).every((k) => k === 'gtin' || k === 'lot' || (withExpiry && k === 'expiry')) &&
    (l['expiry'] === undefined || (typeof l['expiry'] === 'string' && /^\d{4}-\d{2}-\d{2}/.test(l['expiry']) && l['expiry'].length <= 40));
  if (value['lot'] !== undefined && !lotOk(value['lot'], true)) bad('/lot', 'lot must be {gtin (14 digits), lot (1-20 chars), expiry (date)?}');
  if (value['recalledLots'] !== undefined) {
    const rl = value['recalledLots'];
    if (!Array.isArray(rl) || rl.length === 0 || rl.length > MAX_TAGS || !rl.every((l) => lotOk(l, false))) bad('/recalledLots', 'recalledLots must be a non-empty list of {gtin, lot}');
    else if (value['recall'] !== true) bad('/recalledLots', 'only a recall names recalled lots');
  }
  return out;
}

/** The role rules a consortium node can check on a projection: the action is allowed to the role; own-prefix rules on the clear GTINs. */
export function projectionRoleProblems(member: Member, p: Projection, path: string): (TraceProblem & { rule: string })[] {
  const out: (TraceProblem & { rule: string })[] = [];
  const steps: TraceAction[] = p.recall === true && p.step !== 'recall' ? [p.step, 'recall'] : [p.step];
  for (const action of steps) {
    const rule = ruleFor(member.role, action);
    if (rule === undefined) {
      out.push({ path, code: 'ROLE_VIOLATION', rule: `no-rule:${member.role}-${action}`, message: `a ${member.role} may not ${action} (private event)` });
      continue;
    }
    if (!rule.ownPrefixesOnly) continue;
    const gtins = [...(p.lot !== undefined ? [p.lot.gtin] : []), ...(action === 'recall' ? (p.recalledLots ?? []).map((l) => l.gtin) : [])];
    for (const gtin of gtins) {
      const cp = companyPrefixOf(`https://id.gs1.org/01/${gtin}`, member.gs1CompanyPrefixes);
      if (cp === undefined || !member.gs1CompanyPrefixes.includes(cp)) {
        out.push({ path, code: 'FOREIGN_PREFIX', rule: rule.name, message: `GTIN ${gtin} is not under a company prefix of ${member.name} [rule ${rule.name}]` });
      }
    }
  }
  return out;
}

/** Is this stored event a projection (a private tx's) rather than an EPCIS event? */
export function isProjection(event: Record<string, unknown>): boolean {
  return event['type'] === PROJECTION_TYPE;
}

/**
 * The projection as an event the status machine (status.ts) reads: the same business action,
 * items named by their tag keys, the commissioned lot in ILMD, recalled lots as LGTIN classes.
 * Run it with `keyOfTag` as the status input's key function.
 */
export function projectionAsEvent(p: Projection): JsonObject {
  const word = STEP_WORD[p.step];
  const isTransformation = p.eventType === 'TransformationEvent';
  // A transformation's outputs and inputs keep their places; every other event's items are an epcList.
  const ev: JsonObject = { type: isTransformation ? 'TransformationEvent' : 'ObjectEvent', eventTime: p.eventTime };
  if (!isTransformation) ev['action'] = p.eventType === 'AggregationEvent' && p.action !== undefined ? p.action : 'OBSERVE';
  if (word !== undefined) ev['bizStep'] = word;
  if (p.recall === true) ev['disposition'] = 'recalled';
  const ids = p.tags.map(tagKey);
  if (isTransformation) {
    ev['outputEPCList'] = ids;
    ev['inputEPCList'] = (p.inputTags ?? []).map(tagKey);
  } else {
    ev['epcList'] = ids;
    if (p.parentTag !== undefined) ev['parentID'] = tagKey(p.parentTag);
  }
  if (p.lot !== undefined) ev['ilmd'] = p.lot.expiry === undefined ? { lotNumber: p.lot.lot } : { lotNumber: p.lot.lot, itemExpirationDate: p.lot.expiry };
  if (p.recalledLots !== undefined) ev['quantityList'] = p.recalledLots.map((l) => ({ epcClass: `https://id.gs1.org/01/${l.gtin}/10/${encodeURIComponent(l.lot)}` }));
  // An AggregationEvent keeps its pack/unpack reading (actions.ts): replay it as one.
  if (p.eventType === 'AggregationEvent' && (p.step === 'pack' || p.step === 'unpack')) {
    ev['type'] = 'AggregationEvent';
    delete ev['epcList'];
    ev['childEPCs'] = ids;
  }
  return ev;
}

/** The status machine's key for an identifier in a replayed projection: tag keys only. */
export function keyOfTag(id: string): string | undefined {
  return TAG_KEY.test(id) ? id : undefined;
}

/** The item keys a projection names (for the EPC history index): tag keys. */
export function tagKeysOfProjection(p: Projection): string[] {
  const out = new Set<string>(p.tags.map(tagKey));
  if (p.parentTag !== undefined) out.add(tagKey(p.parentTag));
  for (const t of p.inputTags ?? []) out.add(tagKey(t));
  return [...out];
}

/** What a revealed body is: the event and its salt (hex). */
export interface RevealedBody {
  event: JsonObject;
  salt: string;
}

export type RevealCheck = { ok: true } | { ok: false; reason: 'BAD_SALT' | 'COMMITMENT_MISMATCH' | 'PROJECTION_MISMATCH'; message: string };

/**
 * Does this body (event + salt) open this commitment, and is this projection the event's? A body
 * that opens the commitment but whose projection differs was put on chain with a false projection
 * by its submitter: the body is genuine, the chain entry lies, and the check says so.
 */
export function checkReveal(body: RevealedBody, commitment: string, projection: unknown): RevealCheck {
  if (typeof body.salt !== 'string' || !HEX64.test(body.salt)) return { ok: false, reason: 'BAD_SALT', message: 'the salt must be 32 bytes of lowercase hex' };
  let got: string;
  try {
    got = commitmentOf(body.event, Buffer.from(body.salt, 'hex'));
  } catch (err) {
    if (err instanceof TraceError) return { ok: false, reason: 'COMMITMENT_MISMATCH', message: err.message };
    throw err;
  }
  if (got !== commitment) return { ok: false, reason: 'COMMITMENT_MISMATCH', message: `the body and salt hash to ${got}, not to the commitment ${commitment}` };
  let expected: string;
  try {
    expected = canonicalEventText(projectionOf(body.event) as unknown as JsonObject);
  } catch (err) {
    if (err instanceof TraceError) return { ok: false, reason: 'PROJECTION_MISMATCH', message: `the body has no projection: ${err.message}` };
    throw err;
  }
  if (!isObject(projection) || canonicalize(projection) !== expected) {
    return { ok: false, reason: 'PROJECTION_MISMATCH', message: 'the projection on chain is not the body\'s projection' };
  }
  return { ok: true };
}

/** Every action a projection performs (as actionsOf does for an event). */
export function projectionActions(p: Projection): TraceAction[] {
  return actionsOf(eventFacts(projectionAsEvent(p)));
}

/** A projection from a tx, after `projectionProblems` found none. */
export function asProjection(value: unknown, path = ''): Projection {
  const problems = projectionProblems(value, path);
  if (problems.length > 0) throw TraceError.fromProblems(problems);
  return value as Projection;
}
