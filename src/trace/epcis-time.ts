/**
 * EPCIS timestamps: parsing of ISO 8601 / RFC 3339 date-times with their offsets, and the CBV 2.0
 * event-hash form (UTC, exactly three fraction digits, `Z`). Pure: no clock is read here.
 */

export interface ParsedTime {
  /** Milliseconds since the Unix epoch (UTC), fraction rounded half-to-even to the millisecond. */
  ms: number;
  /** Offset from UTC in minutes, or undefined when the time carries none. */
  offsetMinutes: number | undefined;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Parses a date-time; undefined when it is not a valid one. */
export function parseTime(value: string): ParsedTime | undefined {
  const m = TIME_RE.exec(value);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = Number(m[4]);
  const mi = Number(m[5]);
  const s = Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  // Fraction: microseconds (first six digits, as dateutil reads them), then half-to-even to ms.
  const micro = m[7] === undefined ? 0 : Number(m[7].padEnd(6, '0').slice(0, 6));
  let millis = Math.floor(micro / 1000);
  const rest = micro % 1000;
  if (rest > 500 || (rest === 500 && millis % 2 === 1)) millis += 1;
  let offsetMinutes: number | undefined;
  const tz = m[8];
  if (tz !== undefined) {
    if (tz === 'Z' || tz === 'z') offsetMinutes = 0;
    else {
      const digits = tz.slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
      if (oh > 23 || om > 59) return undefined;
      offsetMinutes = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om);
    }
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  const ms = date.getTime() + millis - (offsetMinutes ?? 0) * 60_000;
  return { ms, offsetMinutes };
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` of an epoch-milliseconds instant. */
export function formatUtcMillis(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(
    d.getUTCMinutes(),
    2,
  )}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}

/**
 * The CBV 2.0 hash form of a timestamp (UTC, millisecond precision). A time without an offset is
 * read as UTC (the validator rejects such event times before they get here). Undefined when the
 * value is not a date-time (the hash then uses the text as it is, like the reference).
 */
export function hashTimestamp(value: string): string | undefined {
  const p = parseTime(value);
  return p === undefined ? undefined : formatUtcMillis(p.ms);
}

const OFFSET_RE = /^([+-])(\d{2}):(\d{2})$/;

/** Minutes of an `eventTimeZoneOffset` (`+01:00`), or undefined when malformed (range −14:00…+14:00). */
export function parseOffset(value: string): number | undefined {
  const m = OFFSET_RE.exec(value);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  if (Number(m[3]) > 59 || minutes > 14 * 60) return undefined;
  return m[1] === '-' ? -minutes : minutes;
}
