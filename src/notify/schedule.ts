/**
 * Query schedules (the binding's query-schedule.json, EPCIS 1.2 §8.2.5.3 semantics), in UTC.
 * Each field is a comma-separated list of numbers, ranges (`[1-5]` or `1-5`) and steps
 * (`0/30`: from 0 every 30; a star before the slash starts at the field's smallest value). A time matches when every field matches.
 * Fields left out: those finer than the finest one given default to their smallest value
 * (`{hour: "1", minute: "5"}` is 01:05:00 every day), coarser ones match any value. Day of week:
 * 1 = Monday … 7 = Sunday. Pure: the caller gives the time to search from.
 */
import type { QuerySchedule } from '../api/notify-port.js';

const FIELDS = [
  ['second', 0, 59],
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['dayOfMonth', 1, 31],
  ['month', 1, 12],
  ['dayOfWeek', 1, 7],
] as const;

type Field = (typeof FIELDS)[number][0];

export class ScheduleError extends Error {}

/** Each field's allowed values. */
export type CompiledSchedule = Record<Field, ReadonlySet<number>>;

function range(min: number, max: number, step = 1): number[] {
  const out: number[] = [];
  for (let v = min; v <= max; v += step) out.push(v);
  return out;
}

function parseField(name: Field, text: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  const num = (s: string): number => {
    if (!/^[0-9]{1,2}$/.test(s)) throw new ScheduleError(`schedule.${name}: "${s}" is not a number`);
    const n = Number(s);
    if (n < min || n > max) throw new ScheduleError(`schedule.${name}: ${n} is outside ${min}-${max}`);
    return n;
  };
  const parts = text.split(',').map((p) => p.trim());
  if (text.trim() === '' || parts.some((p) => p === '')) throw new ScheduleError(`schedule.${name}: give values, ranges or steps separated by commas`);
  for (const part of parts) {
    const step = /^(\*|[0-9]{1,2})\/([0-9]{1,2})$/.exec(part);
    if (step !== null) {
      const n = Number(step[2]);
      if (n < 1) throw new ScheduleError(`schedule.${name}: step must be at least 1`);
      for (const v of range(step[1] === '*' ? min : num(step[1] as string), max, n)) out.add(v);
      continue;
    }
    const r = /^\[?([0-9]{1,2})-([0-9]{1,2})\]?$/.exec(part);
    if (r !== null) {
      const a = num(r[1] as string);
      const b = num(r[2] as string);
      if (a > b) throw new ScheduleError(`schedule.${name}: range ${a}-${b} is empty`);
      for (const v of range(a, b)) out.add(v);
      continue;
    }
    out.add(num(part));
  }
  return out;
}

export function compileSchedule(s: QuerySchedule): CompiledSchedule {
  const given = FIELDS.filter(([name]) => s[name] !== undefined);
  if (given.length === 0) throw new ScheduleError('schedule: give at least one of second, minute, hour, dayOfMonth, month, dayOfWeek');
  const unknown = Object.keys(s).filter((k) => !FIELDS.some(([name]) => name === k));
  if (unknown.length > 0) throw new ScheduleError(`schedule: unknown field(s) ${unknown.join(', ')}`);
  // The finest field given among second, minute, hour (day fields count as coarser than hour).
  const finest = FIELDS.findIndex(([name]) => s[name] !== undefined);
  const out = {} as Record<Field, Set<number>>;
  FIELDS.forEach(([name, min, max], i) => {
    const text = s[name];
    if (text !== undefined) out[name] = parseField(name, String(text), min, max);
    else if (i < finest && i < 3) out[name] = new Set([min]);
    else out[name] = new Set(range(min, max));
  });
  return out;
}

const DAY = 86_400_000;

/** The first matching time strictly after `after` (ms, UTC), searched up to 5 years ahead; undefined if none. */
export function nextRun(c: CompiledSchedule, after: number): number | undefined {
  const start = Math.floor(after / 1000) * 1000 + 1000;
  const startDay = Math.floor(start / DAY) * DAY;
  for (let day = startDay; day < startDay + 5 * 366 * DAY; day += DAY) {
    const d = new Date(day);
    const dow = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
    if (!c.month.has(d.getUTCMonth() + 1) || !c.dayOfMonth.has(d.getUTCDate()) || !c.dayOfWeek.has(dow)) continue;
    for (const h of [...c.hour].sort((a, b) => a - b)) {
      if (day + (h + 1) * 3_600_000 <= start) continue;
      for (const m of [...c.minute].sort((a, b) => a - b)) {
        if (day + h * 3_600_000 + (m + 1) * 60_000 <= start) continue;
        for (const s of [...c.second].sort((a, b) => a - b)) {
          const t = day + h * 3_600_000 + m * 60_000 + s * 1000;
          if (t >= start) return t;
        }
      }
    }
  }
  return undefined;
}
