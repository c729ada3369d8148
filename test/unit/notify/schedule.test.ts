import { describe, expect, it } from 'vitest';
import { compileSchedule, nextRun, ScheduleError } from '../../../src/notify/schedule.js';
import { checkDestination, isLoopbackHost, loggableDestination } from '../../../src/notify/destination.js';

const t = (iso: string): number => Date.parse(iso);

describe('query schedules', () => {
  it('{hour: 1, minute: 5} is 01:05:00 every day (finer fields default to their smallest value)', () => {
    const c = compileSchedule({ hour: '1', minute: '5' });
    expect(new Date(nextRun(c, t('2026-12-07T00:00:00Z')) as number).toISOString()).toBe('2026-12-07T01:05:00.000Z');
    expect(new Date(nextRun(c, t('2026-12-07T01:05:00Z')) as number).toISOString()).toBe('2026-12-08T01:05:00.000Z');
  });

  it('lists, ranges and steps; day of week 1 = Monday', () => {
    const c = compileSchedule({ second: '0/30' });
    expect(new Date(nextRun(c, t('2026-12-07T10:00:10Z')) as number).toISOString()).toBe('2026-12-07T10:00:30.000Z');
    const w = compileSchedule({ dayOfWeek: '[6-7]', hour: '9' });
    // 2026-12-07 is a Monday: the next Saturday is the 12th.
    expect(new Date(nextRun(w, t('2026-12-07T00:00:00Z')) as number).toISOString()).toBe('2026-12-12T09:00:00.000Z');
    const l = compileSchedule({ minute: '0,15,45' });
    expect(new Date(nextRun(l, t('2026-12-07T10:16:00Z')) as number).toISOString()).toBe('2026-12-07T10:45:00.000Z');
  });

  it('refuses what it cannot read', () => {
    for (const bad of [{}, { hour: '24' }, { minute: 'x' }, { second: '5-1' }, { second: '' }, { second: '0/0' }]) expect(() => compileSchedule(bad)).toThrow(ScheduleError);
    expect(() => compileSchedule({ hour: '1', weekday: '1' } as never)).toThrow(/unknown field/);
  });
});

describe('webhook destinations', () => {
  it('https anywhere, http only to loopback unless allowed', () => {
    expect(checkDestination('https://example.com/h', { allowHttp: false }).host).toBe('example.com');
    expect(checkDestination('http://127.0.0.1:8080/h', { allowHttp: false }).port).toBe('8080');
    expect(checkDestination('http://[::1]:8080/h', { allowHttp: false }).hostname).toBe('[::1]');
    expect(() => checkDestination('http://10.0.0.1/h', { allowHttp: false })).toThrow(/plain http/);
    expect(checkDestination('http://10.0.0.1/h', { allowHttp: true }).hostname).toBe('10.0.0.1');
    expect(() => checkDestination('ws://127.0.0.1/h', { allowHttp: true })).toThrow(/not https/);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.8.9.1')).toBe(true);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
  });

  it('logs a destination without its query string', () => {
    expect(loggableDestination('https://h.example/path?key=secret')).toBe('https://h.example/path');
  });
});
