/**
 * Load shedding (api/load-shedding.ts): a shed request is a 503 problem naming the measure that
 * tripped; an episode is logged once when it starts and once when it ends; every shed request is
 * counted by measure in /metrics; /health and /metrics still answer while the node sheds.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { buildApi } from '../../../src/api/server.js';
import { describePressure, LoadShedder, StallProbe } from '../../../src/api/load-shedding.js';
import { toProblem } from '../../../src/api/problem.js';
import { makeFixture, type Fixture } from '../../helpers/chain-fixture.js';

const LIMITS = { maxEventLoopDelayMs: 1_000, maxHeapUsedBytes: 3_000 * 1024 * 1024 };

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('describePressure', () => {
  it('names the loop delay and its limit', () => {
    expect(describePressure('eventLoopDelay', 1234.4, LIMITS)).toBe('event loop delay 1234 ms over the limit of 1000 ms');
  });
  it('says the loop did not turn when the sample had no reading (under-pressure reports Infinity)', () => {
    expect(describePressure('eventLoopDelay', Infinity, LIMITS)).toMatch(/did not turn during a whole 500 ms sample/);
  });
  it('names the heap in MiB', () => {
    expect(describePressure('heapUsedBytes', 3_100 * 1024 * 1024, LIMITS)).toBe('heap 3100 MiB used, over the limit of 3000 MiB');
  });
});

describe('LoadShedder', () => {
  it('answers a 503 UNDER_PRESSURE problem with the measure, and counts each shed request', async () => {
    const shed: string[] = [];
    const { log } = capture();
    const s = new LoadShedder({ limits: LIMITS }, { log, onShed: (m) => shed.push(m) });
    try {
      const err = await s.handler({} as never, {} as never, 'eventLoopDelay', 1500)?.catch((e: unknown) => e);
      const p = toProblem(err);
      expect(p).toMatchObject({ status: 503, code: 'UNDER_PRESSURE', measure: 'eventLoopDelay', retryAfterSeconds: 1 });
      expect(p.detail).toMatch(/event loop delay 1500 ms over the limit of 1000 ms/);
      await s.handler({} as never, {} as never, 'heapUsedBytes', 1)?.catch(() => undefined);
      expect(shed).toEqual(['eventLoopDelay', 'heapUsedBytes']);
    } finally {
      s.close();
    }
  });

  it('an Infinity delay reading (a sample with no reading, after any stall past ~500 ms) sheds only when the measured stall exceeded the limit', async () => {
    const shed: string[] = [];
    const { log } = capture();
    let stall = 600;
    const s = new LoadShedder({ limits: LIMITS }, { log, onShed: (m) => shed.push(m), recentStallMs: () => stall });
    try {
      // A 600 ms stall under a 1,000 ms limit: the request goes through, nothing is counted.
      expect(s.handler({} as never, {} as never, 'eventLoopDelay', Infinity)).toBeUndefined();
      expect(s.handler({} as never, {} as never, 'eventLoopDelay', undefined)).toBeUndefined();
      expect(shed).toEqual([]);
      // A 1,800 ms stall: shed, and the problem names the stall measured.
      stall = 1_800;
      const p = toProblem(await s.handler({} as never, {} as never, 'eventLoopDelay', Infinity)?.catch((e: unknown) => e));
      expect(p).toMatchObject({ status: 503, code: 'UNDER_PRESSURE', measure: 'eventLoopDelay' });
      expect(p.detail).toMatch(/event loop delay 1800 ms over the limit of 1000 ms/);
      expect(shed).toEqual(['eventLoopDelay']);
    } finally {
      s.close();
    }
  });
  it('logs an episode once when it starts and once when it ends, with the counts', async () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const { log, lines } = capture();
      const s = new LoadShedder({ limits: LIMITS, quietMs: 1_000 }, { log, now: () => now, recentStallMs: () => 2_500 });
      for (let i = 0; i < 5; i++) {
        await s.handler({} as never, {} as never, 'eventLoopDelay', Infinity)?.catch(() => undefined);
        now += 100;
      }
      expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
      expect(lines[0]).toMatchObject({ measure: 'eventLoopDelay', value: 2_500 });
      expect(s.shedInEpisode).toBe(5);
      now += 1_500;
      vi.advanceTimersByTime(1_000);
      const end = lines.find((l) => l.msg === 'load shedding ended');
      expect(end).toMatchObject({ shed: 5, ms: 400, byMeasure: { eventLoopDelay: 5 } });
      expect(s.shedInEpisode).toBe(0);
      // A new episode logs its start again.
      await s.handler({} as never, {} as never, 'heapUsedBytes', 5e9)?.catch(() => undefined);
      expect(lines.filter((l) => l.level === 40)).toHaveLength(2);
      s.close();
      expect(lines.filter((l) => l.msg === 'load shedding ended')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('StallProbe', () => {
  it('remembers the longest stall for one to two windows, then forgets it', () => {
    vi.useFakeTimers();
    try {
      let t = 0;
      const probe = new StallProbe(20, 1_000, () => t);
      try {
        const step = (ms: number) => {
          t += ms;
          vi.advanceTimersByTime(ms);
        };
        for (let i = 0; i < 10; i++) step(20);
        expect(probe.recentMaxMs()).toBe(0);
        // The loop is blocked 700 ms: the timer fires once, 700 ms after the previous tick.
        t += 700;
        vi.advanceTimersByTime(20);
        expect(probe.recentMaxMs()).toBe(680);
        for (let i = 0; i < 40; i++) step(20); // 800 ms later: still remembered
        expect(probe.recentMaxMs()).toBe(680);
        for (let i = 0; i < 110; i++) step(20); // two windows later: forgotten
        expect(probe.recentMaxMs()).toBe(0);
      } finally {
        probe.stop();
      }
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a node whose event loop stalls', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('sheds API requests with the reason while /health and /metrics answer, and counts them', async () => {
    const app = await buildApi(
      { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, captureWorkers: 0, maxEventLoopDelayMs: 20 },
      { chain: fx.chain, status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false }, authenticate: () => ({ ok: false, reason: 'unknown' }) },
      pino({ level: 'silent' }),
    );
    try {
      await app.ready();
      // Stall the loop for 2 s. under-pressure samples every 500 ms: the sample right after the
      // stall reads it whole, or (when that sample ran first and reset the histogram) the next one
      // averages it over ~50 readings of 10 ms: (2000 + 500) / 51 - 10 ≈ 39 ms, over the 20 ms limit.
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        /* a stalled loop */
      }
      let shed: Awaited<ReturnType<typeof app.inject>> | undefined;
      const deadline = Date.now() + 1_500;
      while (shed === undefined && Date.now() < deadline) {
        const r = await app.inject({ method: 'GET', url: '/blocks/tip' });
        if (r.statusCode === 503) shed = r;
        else expect(r.statusCode).toBe(200);
        await new Promise((res) => setTimeout(res, 25));
      }
      expect(shed, 'a 2 s stall never made the node shed').toBeDefined();
      if (shed === undefined) return;
      expect(shed.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.json()).toMatchObject({ status: 503, code: 'UNDER_PRESSURE', measure: 'eventLoopDelay' });
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toMatch(/^tracechain_shed_requests_total\{measure="eventLoopDelay"\} [1-9]/m);
    } finally {
      await app.close();
    }
  });
});
