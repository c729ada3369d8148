/**
 * CBV 2.0 / GS1 web vocabularies, derived once from the EPCIS 2.0 JSON-LD context shipped in
 * data/ (never fetched at run time). Each vocabulary-typed EPCIS field ("@type": "@vocab" in
 * the context) maps bare words to full URIs; this module answers "what does this value of that
 * field mean" for the validator and the event hash.
 */
import epcisContext from './data/epcis-context.json' with { type: 'json' };
import { isObject } from '../common/json.js';

export type VocabularyKind =
  | 'bizStep'
  | 'disposition'
  | 'bizTransactionType'
  | 'sourceDestType'
  | 'errorReason'
  | 'measurementType'
  | 'sensorAlertType'
  | 'component';

export const CBV_BASE = 'https://ref.gs1.org/cbv/';
export const GS1_VOC_BASE = 'https://gs1.org/voc/';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const root = (epcisContext as unknown as { '@context': JsonObject })['@context'];

/** Prefixes the EPCIS context defines (cbv, gs1, cbvmda, epcis, rdfs, …) → namespace URI. */
export const STANDARD_PREFIXES: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(root)) {
    if (typeof v === 'string' && !k.startsWith('@') && /^[a-z][a-z0-9]*$/.test(k) && /^(https?:|urn:)/.test(v) && /[/:#]$/.test(v)) m.set(k, v);
  }
  return m;
})();

function expandCurie(v: string): string {
  const i = v.indexOf(':');
  if (i > 0) {
    const ns = STANDARD_PREFIXES.get(v.slice(0, i));
    if (ns !== undefined) return ns + v.slice(i + 1);
  }
  return v;
}

/** word → full URI, from a term definition's scoped @context (object or array of objects). */
function wordsOf(def: Json | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!isObject(def)) return out;
  const scoped = def['@context'];
  const parts = Array.isArray(scoped) ? scoped : [scoped];
  for (const p of parts) {
    if (!isObject(p)) continue;
    for (const [w, target] of Object.entries(p)) {
      if (w.startsWith('@') || typeof target !== 'string' || !target.includes(':') || w === 'epcis') continue;
      out.set(w, expandCurie(target));
    }
  }
  return out;
}

function scoped(def: Json | undefined, ...path: string[]): Json | undefined {
  let cur: Json | undefined = def;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    const ctx: Json | undefined = cur['@context'];
    const layers = Array.isArray(ctx) ? ctx : [ctx];
    let next: Json | undefined;
    for (const l of layers) if (isObject(l) && l[key] !== undefined) next = l[key];
    cur = next;
  }
  return cur;
}

const VOCABS: Record<VocabularyKind, Map<string, string>> = {
  bizStep: wordsOf(root['bizStep']),
  disposition: wordsOf(root['disposition']),
  bizTransactionType: wordsOf(scoped(root['bizTransactionList'], 'type')),
  sourceDestType: wordsOf(scoped(root['sourceList'], 'type')),
  errorReason: wordsOf(scoped(root['errorDeclaration'], 'reason')),
  measurementType: wordsOf(scoped(root['sensorElementList'], 'sensorReport', 'type')),
  sensorAlertType: wordsOf(scoped(root['sensorElementList'], 'sensorReport', 'exception')),
  component: wordsOf(scoped(root['sensorElementList'], 'sensorReport', 'component')),
};

/** URI prefix of each vocabulary's terms (the part before the word). */
const URI_PREFIX: Record<VocabularyKind, string> = {
  bizStep: `${CBV_BASE}BizStep-`,
  disposition: `${CBV_BASE}Disp-`,
  bizTransactionType: `${CBV_BASE}BTT-`,
  sourceDestType: `${CBV_BASE}SDT-`,
  errorReason: `${CBV_BASE}ER-`,
  measurementType: GS1_VOC_BASE,
  sensorAlertType: GS1_VOC_BASE,
  component: `${CBV_BASE}Comp-`,
};

/** CBV 1.x URN prefixes, still accepted for the hash (the reference rewrites them to web URIs). */
export const LEGACY_CBV_URNS: readonly (readonly [string, string])[] = [
  ['urn:epcglobal:cbv:bizstep:', `${CBV_BASE}BizStep-`],
  ['urn:epcglobal:cbv:disp:', `${CBV_BASE}Disp-`],
  ['urn:epcglobal:cbv:btt:', `${CBV_BASE}BTT-`],
  ['urn:epcglobal:cbv:sdt:', `${CBV_BASE}SDT-`],
  ['urn:epcglobal:cbv:er:', `${CBV_BASE}ER-`],
];

export function vocabularyWords(kind: VocabularyKind): ReadonlyMap<string, string> {
  return VOCABS[kind];
}

/** `{cbv: 'https://ref.gs1.org/cbv/', ...}` overridden by the document's own prefixes. */
export type PrefixMap = ReadonlyMap<string, string>;

export type VocabularyResolution =
  /** A standard word (bare, CURIE, or full URI) of this vocabulary: `uri` is the full term URI. */
  | { kind: 'standard'; uri: string; word: string }
  /** An absolute URI outside GS1's namespaces: a user extension value, allowed. */
  | { kind: 'extension'; uri: string }
  /** Not a word of the vocabulary, or a GS1-namespace URI naming no known term. */
  | { kind: 'unknown' };

const GS1_NAMESPACE = /^(https?:\/\/(ref\.gs1\.org\/cbv\/|gs1\.org\/voc\/|www\.gs1\.org\/voc\/|ns\.gs1\.org\/)|urn:epcglobal:cbv:)/i;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

/**
 * What a value of a vocabulary field means. `prefixes` are the document's @context prefixes
 * (they take precedence over the EPCIS context's own, as in JSON-LD).
 */
export function resolveVocabulary(kind: VocabularyKind, value: string, prefixes?: PrefixMap): VocabularyResolution {
  const words = VOCABS[kind];
  const direct = words.get(value);
  if (direct !== undefined) return { kind: 'standard', uri: direct, word: value };
  let uri = value;
  const colon = value.indexOf(':');
  if (colon > 0 && !value.startsWith('http') && !value.startsWith('urn:')) {
    const p = value.slice(0, colon);
    const ns = prefixes?.get(p) ?? STANDARD_PREFIXES.get(p);
    if (ns !== undefined) uri = ns + value.slice(colon + 1);
  }
  for (const [urn, web] of LEGACY_CBV_URNS) if (uri.startsWith(urn)) uri = web + uri.slice(urn.length);
  const prefix = URI_PREFIX[kind];
  if (uri.startsWith(prefix)) {
    const word = uri.slice(prefix.length);
    if (words.get(word) === uri) return { kind: 'standard', uri, word };
    return { kind: 'unknown' };
  }
  if (GS1_NAMESPACE.test(uri)) return { kind: 'unknown' };
  if (ABSOLUTE_URI.test(uri)) return { kind: 'extension', uri };
  return { kind: 'unknown' };
}

/** The bare CBV word of a bizStep / disposition value, or undefined for extensions/unknowns. */
export function cbvWord(kind: VocabularyKind, value: unknown, prefixes?: PrefixMap): string | undefined {
  if (typeof value !== 'string') return undefined;
  const r = resolveVocabulary(kind, value, prefixes);
  return r.kind === 'standard' ? r.word : undefined;
}
