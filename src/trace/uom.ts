/**
 * Units of measure (UN/CEFACT Recommendation 20 codes, as EPCIS `uom` fields carry them) and the
 * conversion the EPCIS query's unit-qualified parameters need: `GE_value_CEL=15.5` holds for a
 * sensor report of 60 FAH, and `LT_quantity_KGM=1` for a quantity of 200 GRM. Two codes compare
 * when they measure the same quantity; a value converts through its quantity's SI unit
 * (`si = value × factor + offset`). A code missing from the table compares with itself only.
 * Pure.
 */

interface Unit {
  /** The quantity measured (units of one dimension convert into each other). */
  dimension: string;
  /** To the dimension's SI unit: si = value × factor + offset. */
  factor: number;
  offset?: number;
}

const table = (dimension: string, entries: Record<string, number | [number, number]>): [string, Unit][] =>
  Object.entries(entries).map(([code, f]) => [code, Array.isArray(f) ? { dimension, factor: f[0], offset: f[1] } : { dimension, factor: f }]);

/** The codes this node converts, by dimension (SI unit first). */
const UNITS: ReadonlyMap<string, Unit> = new Map([
  ...table('temperature', { KEL: 1, CEL: [1, 273.15], FAH: [5 / 9, 273.15 - (32 * 5) / 9] }),
  ...table('mass', { KGM: 1, GRM: 1e-3, MGM: 1e-6, MC: 1e-9, TNE: 1e3, LBR: 0.45359237, ONZ: 0.028349523125 }),
  ...table('length', { MTR: 1, KMT: 1e3, DMT: 0.1, CMT: 1e-2, MMT: 1e-3, '4H': 1e-6, INH: 0.0254, FOT: 0.3048, YRD: 0.9144, SMI: 1609.344 }),
  ...table('area', { MTK: 1, CMK: 1e-4, MMK: 1e-6, KMK: 1e6 }),
  ...table('volume', { MTQ: 1, DMQ: 1e-3, LTR: 1e-3, CMQ: 1e-6, MLT: 1e-6, MMQ: 1e-9, GLL: 0.003785411784 }),
  ...table('time', { SEC: 1, MIN: 60, HUR: 3600, DAY: 86400, C26: 1e-3 }),
  ...table('pressure', { PAL: 1, KPA: 1e3, MPA: 1e6, BAR: 1e5, MBR: 100, ATM: 101325, PS: 6894.757293168 }),
  ...table('speed', { MTS: 1, KMH: 1 / 3.6, HM: 0.44704 }),
  ...table('ratio', { P1: 0.01, '59': 1e-6, '61': 1e-9 }),
  ...table('angle', { C81: 1, DD: Math.PI / 180 }),
  ...table('frequency', { HTZ: 1, KHZ: 1e3, MHZ: 1e6 }),
  ...table('voltage', { VLT: 1, '2Z': 1e-3, KVT: 1e3 }),
  ...table('current', { AMP: 1, '4K': 1e-3 }),
  ...table('illuminance', { LUX: 1 }),
  ...table('mass concentration', { KMQ: 1, GL: 1, GJ: 1e3, M1: 1e-3 }),
]);

/** The SI value of a value in a known unit. */
function toSi(value: number, u: Unit): number {
  return value * u.factor + (u.offset ?? 0);
}

/** An SI value in a known unit. */
function fromSi(si: number, u: Unit): number {
  return (si - (u.offset ?? 0)) / u.factor;
}

/**
 * A value given in unit `from`, in unit `to`; undefined when the two do not measure the same
 * quantity (or either is unknown and they differ).
 */
export function convertUnit(value: number, from: string, to: string): number | undefined {
  if (from === to) return value;
  const a = UNITS.get(from);
  const b = UNITS.get(to);
  if (a === undefined || b === undefined || a.dimension !== b.dimension) return undefined;
  return fromSi(toSi(value, a), b);
}

/** Whether a query's unit code is one this node converts (others match only the same code). */
export function knownUnit(code: string): boolean {
  return UNITS.has(code);
}

/** Relative rounding a conversion may leave (a few floating-point operations on its largest intermediate). */
const ROUNDING = 1e-12;

/**
 * A value in unit `from` against a query's value in unit `to`: 0 when equal once converted (within
 * the rounding of the conversion, taken relative to its largest intermediate value: 32 FAH is 0 CEL
 * although the kelvins in between are 273.15), else the sign of the difference; undefined when
 * the units measure different quantities.
 */
export function compareInUnit(value: number, from: string, to: string, wanted: number): number | undefined {
  let converted = value;
  let scale = Math.max(Math.abs(value), Math.abs(wanted));
  if (from !== to) {
    const a = UNITS.get(from);
    const b = UNITS.get(to);
    if (a === undefined || b === undefined || a.dimension !== b.dimension) return undefined;
    const si = toSi(value, a);
    converted = fromSi(si, b);
    scale = Math.max(Math.abs(converted), Math.abs(wanted), (Math.abs(value * a.factor) + Math.abs(a.offset ?? 0) + Math.abs(b.offset ?? 0)) / b.factor);
  }
  if (Math.abs(converted - wanted) <= scale * ROUNDING) return 0;
  return converted < wanted ? -1 : 1;
}
