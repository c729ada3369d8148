/**
 * The EPCIS 2.0 query parameters named by a field rather than listed one by one (EPCIS 2.0
 * §8.2.7.1, the binding's query-schema.json), each parsed into a filter on one stored event:
 *
 * - extension fields, by their name as captured (`prefix:name`), at each place the standard
 *   names: the event (`EQ_example:temp`), its ILMD (`EQ_ILMD_…`), its error declaration
 *   (`EQ_ERROR_DECLARATION_…`), its sensor elements, their metadata and reports
 *   (`EQ_SENSORELEMENT_…`, `EQ_SENSORMETADATA_…`, `EQ_SENSORREPORT_…`), its read point and business
 *   location (`EQ_readPoint_…`, `EQ_bizLocation_…`); with `INNER_` (`EQ_INNER_ILMD_…`) a field
 *   nested at any depth inside one of that place's extension fields; `EQ_` one of the values,
 *   `GT_`/`GE_`/`LT_`/`LE_` one value, `EXISTS_` none;
 * - the sensor parameters: `EXISTS_sensorElementList` (api/query.ts's EXISTS_), `GE_`/`LT_time`,
 *   `…_startTime`, `…_endTime`, `EQ_type`, `EQ_deviceID`, `EQ_dataProcessingMethod`,
 *   `EQ_microorganism`, `EQ_chemicalSubstance`, `EQ_bizRules`, `EQ_stringValue`,
 *   `EQ_booleanValue`, `EQ_hexBinaryValue`, `EQ_uriValue`, `…_percRank`, and the measures with a
 *   unit (`GE_value_CEL`, `LT_maxValue_KGM`, …: a report's value in a unit of the same quantity
 *   is converted, trace/uom.ts);
 * - `EQ_persistentDisposition_set` / `_unset`, and the quantities with a unit (`GE_quantity_KGM`).
 *
 * Each filter holds when some place of the event satisfies it, each parameter on its own (as the
 * standard words them: "one of these sensorElement fields"). Values compare as numbers when both
 * are numbers (for GT_/GE_/LT_/LE_ a number written as text, as XML captures give, is one; EQ_
 * compares text exactly, so lot `0123` is not lot `123`), as instants when both are times, else as
 * text in code-point order. `HASATTR_` and `EQ_ATTR_` ask about master data, which
 * this node does not keep: refused. Pure.
 */
import { parseTime } from '../trace/epcis-time.js';
import { gs1Form, vocabForm } from '../trace/query-terms.js';
import { prefixesOfContext } from '../trace/event-hash.js';
import { compareInUnit } from '../trace/uom.js';
import { queryParameterProblem } from './problem.js';

export type Op = 'EQ' | 'GT' | 'GE' | 'LT' | 'LE' | 'EXISTS';
/** Where a field filter looks, besides the event itself and its ILMD (FieldFilter.ilmd). */
export type FieldScope = 'ERROR_DECLARATION' | 'SENSORELEMENT' | 'SENSORMETADATA' | 'SENSORREPORT' | 'readPoint' | 'bizLocation';

/** An extension-field filter (FIELD_PARAM). `scope` and `inner` are absent for the event's own and ILMD fields. */
export interface FieldFilter {
  op: Op;
  ilmd: boolean;
  name: string;
  values: string[];
  scope?: FieldScope;
  inner?: true;
}

/** `EQ_field`, `GE_ILMD_field`, `EXISTS_INNER_SENSORREPORT_field`, `EQ_readPoint_field`, … (names as captured: `prefix:name`). */
export const FIELD_PARAM = /^(EQ|GT|GE|LT|LE|EXISTS)_(INNER_)?(ILMD_|ERROR_DECLARATION_|SENSORELEMENT_|SENSORMETADATA_|SENSORREPORT_|readPoint_|bizLocation_)?([a-z][a-zA-Z0-9]*:\w+)$/;
/** A sensor report's measure in a unit: `GE_value_CEL`, `LT_sDev_KGM`. */
export const MEASURE_PARAM = /^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue|sDev|percValue)_([A-Z0-9]{2,4})$/;
/** A quantity element's quantity in a unit: `GE_quantity_KGM`. */
export const QUANTITY_UOM_PARAM = /^(EQ|GT|GE|LT|LE)_quantity_([A-Z0-9]{2,4})$/;
/** Master-data parameters (refused: no master data is kept). */
export const MASTER_DATA_PARAM = /^(HASATTR_[a-z][a-zA-Z0-9]*:\w+|EQ_ATTR_\w+_\w+)$/;

/** The sensor parameters of one name, and the place of a sensor element each reads. */
const SENSOR_TIMES: Readonly<Record<string, { field: 'time' | 'startTime' | 'endTime'; op: 'GE' | 'LT' }>> = {
  GE_time: { field: 'time', op: 'GE' },
  LT_time: { field: 'time', op: 'LT' },
  GE_startTime: { field: 'startTime', op: 'GE' },
  LT_startTime: { field: 'startTime', op: 'LT' },
  GE_endTime: { field: 'endTime', op: 'GE' },
  LT_endTime: { field: 'endTime', op: 'LT' },
};

type SensorPlace = 'metadata' | 'report';
const SENSOR_EQ: Readonly<Record<string, { field: string; places: readonly SensorPlace[] }>> = {
  EQ_type: { field: 'type', places: ['report'] },
  EQ_deviceID: { field: 'deviceID', places: ['metadata', 'report'] },
  EQ_dataProcessingMethod: { field: 'dataProcessingMethod', places: ['metadata', 'report'] },
  EQ_microorganism: { field: 'microorganism', places: ['report'] },
  EQ_chemicalSubstance: { field: 'chemicalSubstance', places: ['report'] },
  EQ_bizRules: { field: 'bizRules', places: ['metadata', 'report'] },
  EQ_stringValue: { field: 'stringValue', places: ['report'] },
  EQ_hexBinaryValue: { field: 'hexBinaryValue', places: ['report'] },
  EQ_uriValue: { field: 'uriValue', places: ['report'] },
  EQ_booleanValue: { field: 'booleanValue', places: ['report'] },
};

const PERC_RANK = new Set(['GT_percRank', 'GE_percRank', 'LT_percRank', 'LE_percRank']);
const PERSISTENT = new Set(['EQ_persistentDisposition_set', 'EQ_persistentDisposition_unset']);

/** The parameters of the families above that have one fixed name (for the route's schema and the named-query check). */
export const FAMILY_NAMES: readonly string[] = [...Object.keys(SENSOR_TIMES), ...Object.keys(SENSOR_EQ), ...PERC_RANK, ...PERSISTENT];

/** A filter of one of the families: its parameter, what identifies it in a page token's fingerprint, and the test. */
export interface FamilyFilter {
  param: string;
  canon: unknown;
  test(event: Record<string, unknown>): boolean;
}

type Raw = string | string[] | number | undefined;

const bad = queryParameterProblem;

/** The values of a parameter (repeated or `|`-separated), as api/query.ts reads them. */
export type ValuesOf = (raw: string | string[] | undefined, param: string) => string[] | undefined;

/** A raw parameter as the query string gives it (a number only where a schema coerced one). */
function asText(raw: Raw): string | string[] | undefined {
  return typeof raw === 'number' ? String(raw) : raw;
}

function one(values: ValuesOf, raw: Raw, param: string): string {
  const v = values(asText(raw), param) as string[];
  if (v.length !== 1) throw bad(param, 'takes one value');
  return v[0] as string;
}

function number(param: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw bad(param, `${v} is not a number`);
  return n;
}

function instant(param: string, v: string): number {
  const t = parseTime(v);
  if (t === undefined) throw bad(param, 'must be an ISO 8601 date-time with a time zone, e.g. 2024-01-31T10:00:00Z');
  return t.ms;
}

function holds(op: Exclude<Op, 'EXISTS'>, c: number): boolean {
  return op === 'EQ' ? c === 0 : op === 'GT' ? c > 0 : op === 'GE' ? c >= 0 : op === 'LT' ? c < 0 : c <= 0;
}

const asObject = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const asObjects = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(asObject).filter((o): o is Record<string, unknown> => o !== undefined) : []);

function sensorElements(event: Record<string, unknown>): Record<string, unknown>[] {
  return asObjects(event['sensorElementList']);
}

function sensorPlaces(event: Record<string, unknown>, places: readonly SensorPlace[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const el of sensorElements(event)) {
    if (places.includes('metadata')) {
      const m = asObject(el['sensorMetadata']);
      if (m !== undefined) out.push(m);
    }
    if (places.includes('report')) out.push(...asObjects(el['sensorReport']));
  }
  return out;
}

/** The objects a field filter of this scope reads its fields from. */
function holders(event: Record<string, unknown>, f: FieldFilter): Record<string, unknown>[] {
  const single = (v: unknown): Record<string, unknown>[] => {
    const o = asObject(v);
    return o === undefined ? [] : [o];
  };
  if (f.ilmd) return single(event['ilmd']);
  switch (f.scope) {
    case undefined:
      return [event];
    case 'ERROR_DECLARATION':
      return single(event['errorDeclaration']);
    case 'SENSORELEMENT':
      return sensorElements(event);
    case 'SENSORMETADATA':
      return sensorPlaces(event, ['metadata']);
    case 'SENSORREPORT':
      return sensorPlaces(event, ['report']);
    case 'readPoint':
    case 'bizLocation':
      return single(event[f.scope]);
  }
}

/** The comparable values of a field's value: itself, each member of a list, a JSON-LD value object's `@value`. */
function leaves(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) {
    for (const x of v) leaves(x, out);
    return;
  }
  const o = asObject(v);
  if (o !== undefined) {
    if ('@value' in o) out.push(o['@value']);
    return;
  }
  if (v !== undefined && v !== null) out.push(v);
}

/** Every value of a field named `name` nested at any depth inside `v` (an extension field's value). */
function nested(v: unknown, name: string, found: { present: boolean; values: unknown[] }): void {
  if (Array.isArray(v)) {
    for (const x of v) nested(x, name, found);
    return;
  }
  const o = asObject(v);
  if (o === undefined) return;
  for (const [k, inner] of Object.entries(o)) {
    if (k === name) {
      found.present = true;
      leaves(inner, found.values);
    }
    nested(inner, name, found);
  }
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A number written as text (`20`, `-1.5`, `2e3`), as XML captures carry extension values. */
export function isNumericText(s: string): boolean {
  return NUMERIC.test(s.trim());
}

/** Code-point order (UTF-8 byte order), which the standard asks for strings. */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * Whether a field's value equals a query's value: a number as a number (`20` = `20.0`), a time as
 * an instant, other text exactly — a lot `0123` is not lot `123`, though both read as numbers.
 */
export function equalValue(value: unknown, wanted: string): boolean {
  if (typeof value !== 'string') return compareValue(value, wanted) === 0;
  if (value === wanted) return true;
  const a = parseTime(value);
  const b = a === undefined ? undefined : parseTime(wanted);
  return a !== undefined && b !== undefined && a.ms === b.ms;
}

/** A field's value against a query's value, for GT_/GE_/LT_/LE_ (see the module comment); undefined: not comparable. */
export function compareValue(value: unknown, wanted: string): number | undefined {
  if (typeof value === 'number') return isNumericText(wanted) ? Math.sign(value - Number(wanted)) : undefined;
  if (typeof value === 'boolean') return String(value) === wanted ? 0 : undefined;
  if (typeof value !== 'string') return undefined;
  if (isNumericText(value) && isNumericText(wanted)) return Math.sign(Number(value) - Number(wanted));
  const a = parseTime(value);
  const b = a === undefined ? undefined : parseTime(wanted);
  if (a !== undefined && b !== undefined) return Math.sign(a.ms - b.ms);
  return compareText(value, wanted);
}

/** Whether an event has the field the filter names, with a value it asks for. */
export function fieldMatches(f: FieldFilter, event: Record<string, unknown>): boolean {
  const found = { present: false, values: [] as unknown[] };
  for (const h of holders(event, f)) {
    if (f.inner) {
      // INNER_: inside the place's extension fields (prefixed names), at any depth.
      for (const [k, v] of Object.entries(h)) if (k.includes(':')) nested(v, f.name, found);
    } else if (h[f.name] !== undefined) {
      found.present = true;
      leaves(h[f.name], found.values);
    }
  }
  if (f.op === 'EXISTS') return found.present;
  const op = f.op;
  if (op === 'EQ') return found.values.some((v) => f.values.some((w) => equalValue(v, w)));
  return found.values.some((v) => {
    const c = compareValue(v, f.values[0] as string);
    return c !== undefined && holds(op, c);
  });
}

/** A field filter parameter (FIELD_PARAM matched as `m`). */
export function parseFieldParam(name: string, m: RegExpExecArray, raw: Raw, values: ValuesOf): FieldFilter {
  const op = m[1] as Op;
  const place = m[3]?.slice(0, -1);
  const f: FieldFilter = { op, ilmd: place === 'ILMD', name: m[4] as string, values: [] };
  if (place !== undefined && place !== 'ILMD') f.scope = place as FieldScope;
  if (m[2] !== undefined) f.inner = true;
  if ((f.scope === 'readPoint' || f.scope === 'bizLocation') && op !== 'EQ') throw bad(name, `the standard compares a ${f.scope}'s fields with EQ_ only`);
  if (op === 'EXISTS') {
    const given = (Array.isArray(raw) ? raw : [raw]).filter((x) => x !== undefined && x !== '');
    if (given.length > 0) throw bad(name, 'takes no value (EXISTS_field=)');
    return f;
  }
  f.values = op === 'EQ' ? (values(asText(raw), name) as string[]) : [one(values, raw, name)];
  return f;
}

/** A measure of some sensor report, in the query's unit. */
function measureFilter(param: string, m: RegExpExecArray, raw: Raw, values: ValuesOf): FamilyFilter {
  const op = m[1] as Exclude<Op, 'EXISTS'>;
  const field = m[2] as string;
  const unit = m[3] as string;
  const wanted = (op === 'EQ' ? (values(asText(raw), param) as string[]) : [one(values, raw, param)]).map((v) => number(param, v));
  return {
    param,
    canon: wanted,
    test: (event) =>
      sensorPlaces(event, ['report']).some((r) => {
        const v = r[field];
        const uom = r['uom'];
        if (typeof v !== 'number' || typeof uom !== 'string') return false;
        return wanted.some((w) => {
          const c = compareInUnit(v, uom, unit, w);
          return c !== undefined && holds(op, c);
        });
      }),
  };
}

/** A quantity element's quantity, in the query's unit. */
function quantityUnitFilter(param: string, m: RegExpExecArray, raw: Raw, values: ValuesOf): FamilyFilter {
  const op = m[1] as Exclude<Op, 'EXISTS'>;
  const unit = m[2] as string;
  const wanted = (op === 'EQ' ? (values(asText(raw), param) as string[]) : [one(values, raw, param)]).map((v) => number(param, v));
  return {
    param,
    canon: wanted,
    test: (event) => {
      for (const l of ['quantityList', 'childQuantityList', 'inputQuantityList', 'outputQuantityList']) {
        for (const q of asObjects(event[l])) {
          const n = q['quantity'];
          const uom = q['uom'];
          if (typeof n !== 'number' || typeof uom !== 'string') continue;
          if (
            wanted.some((w) => {
              const c = compareInUnit(n, uom, unit, w);
              return c !== undefined && holds(op, c);
            })
          )
            return true;
        }
      }
      return false;
    },
  };
}

/** How a sensor field's value compares with a query's value, per parameter. */
function sensorEqual(field: string, wanted: readonly string[], event: Record<string, unknown>, v: unknown): boolean {
  if (field === 'booleanValue') return typeof v === 'boolean' && wanted.includes(String(v));
  if (typeof v !== 'string') return false;
  if (field === 'type') return wanted.includes(vocabForm('measurementType', v, prefixesOfContext(event['@context'])));
  if (field === 'hexBinaryValue') return wanted.includes(v.toLowerCase());
  if (field === 'deviceID') return wanted.includes(gs1Form(v));
  return wanted.includes(v);
}

/**
 * The filter of one family parameter, or undefined when `param` belongs to none (api/query.ts
 * then tries its own). Throws QueryParameterException for a bad value or a refused family.
 */
export function parseFamilyParam(param: string, raw: Raw, values: ValuesOf): FamilyFilter | undefined {
  if (MASTER_DATA_PARAM.test(param)) throw bad(param, 'asks about master data (vocabulary attributes), which this node does not keep');
  const time = SENSOR_TIMES[param];
  if (time !== undefined) {
    const at = instant(param, one(values, raw, param));
    return {
      param,
      canon: at,
      test: (event) =>
        sensorPlaces(event, ['metadata', 'report']).some((p) => {
          const v = p[time.field];
          const t = typeof v === 'string' ? parseTime(v) : undefined;
          return t !== undefined && (time.op === 'GE' ? t.ms >= at : t.ms < at);
        }),
    };
  }
  const eq = SENSOR_EQ[param];
  if (eq !== undefined) {
    let wanted: string[];
    if (eq.field === 'booleanValue') {
      const v = one(values, raw, param);
      if (v !== 'true' && v !== 'false') throw bad(param, 'must be true or false');
      wanted = [v];
    } else {
      const given = values(asText(raw), param) as string[];
      wanted =
        eq.field === 'type' ? given.map((v) => vocabForm('measurementType', v)) : eq.field === 'hexBinaryValue' ? given.map((v) => v.toLowerCase()) : eq.field === 'deviceID' ? given.map(gs1Form) : given;
    }
    return { param, canon: wanted, test: (event) => sensorPlaces(event, eq.places).some((p) => sensorEqual(eq.field, wanted, event, p[eq.field])) };
  }
  if (PERC_RANK.has(param)) {
    const op = param.slice(0, 2) as Exclude<Op, 'EXISTS' | 'EQ'>;
    const wanted = number(param, one(values, raw, param));
    return {
      param,
      canon: wanted,
      test: (event) => sensorPlaces(event, ['report']).some((r) => typeof r['percRank'] === 'number' && holds(op, Math.sign(r['percRank'] - wanted))),
    };
  }
  if (PERSISTENT.has(param)) {
    const member = param.endsWith('_set') ? 'set' : 'unset';
    const wanted = new Set((values(asText(raw), param) as string[]).map((v) => vocabForm('disposition', v)));
    return {
      param,
      canon: [...wanted],
      test: (event) => {
        const pd = asObject(event['persistentDisposition']);
        const list = pd?.[member];
        if (!Array.isArray(list)) return false;
        const prefixes = prefixesOfContext(event['@context']);
        return list.some((d) => typeof d === 'string' && wanted.has(vocabForm('disposition', d, prefixes)));
      },
    };
  }
  const measure = MEASURE_PARAM.exec(param);
  if (measure !== null) return measureFilter(param, measure, raw, values);
  const quantity = QUANTITY_UOM_PARAM.exec(param);
  if (quantity !== null) return quantityUnitFilter(param, quantity, raw, values);
  return undefined;
}
