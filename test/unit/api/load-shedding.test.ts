/**
 * Load shedding (api/load-shedding.ts): a shed request is a 503 problem naming the measure that
 * tripped; an episode is logged once when it starts and once when it ends; every shed request is
 * counted by measure in /metrics; /health and /metrics still answer while the node sheds.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { buildApi } from '../../../src/api/server.js';
import { describePressure, LoadShedder, LoopDelayProbe } from '../../../src/api/load-shedding.js';
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
  it('names the loop delay and the limit', () => {
    expect(describePressure('eventLoopDelay', 1234.4, LIMITS)).toBe('event loop delay 1234 ms (mean over the last 1–2 s), over the limit of 1000 ms');
  });
  it('names the heap in MiB', () => {
    expect(describePressure('heapUsedBytes', 3_100 * 1024 * 1024, LIMITS)).toBe('heap 3100 MiB used, over the limit of 3000 MiB');
  });
});

describe('LoadShedder', () => {
  it("the heap (under-pressure's handler): a 503 UNDER_PRESSURE problem with the measure, counted", async () => {
    const shed: string[] = [];
    const { log } = capture();
    const s = new LoadShedder({ limits: LIMITS }, { log, onShed: (m) => shed.push(m), loopDelayMs: () => 0 });
    try {
      const p = toProblem(await s.handler({} as never, {} as never, 'heapUsedBytes', 3_100 * 1024 * 1024).catch((e: unknown) => e));
      expect(p).toMatchObject({ status: 503, code: 'UNDER_PRESSURE', measure: 'heapUsedBytes', retryAfterSeconds: 1 });
      expect(p.detail).toMatch(/heap 3100 MiB used, over the limit of 3000 MiB/);
      expect(shed).toEqual(['heapUsedBytes']);
    } finally {
      s.close();
    }
  });

  it('the loop: a request is shed only while the recent mean delay is over the limit, and the problem names it', () => {
    const shed: string[] = [];
    const { log } = capture();
    let stall = 600;
    const s = new LoadShedder({ limits: LIMITS }, { log, onShed: (m) => shed.push(m), loopDelayMs: () => stall });
    try {
      // A mean delay of 600 ms under a 1,000 ms limit: the request goes through, nothing is counted.
      expect(s.checkLoop()).toBeUndefined();
      stall = 1_000;
      expect(s.checkLoop()).toBeUndefined();
      expect(shed).toEqual([]);
      stall = 1_800;
      const p = toProblem(s.checkLoop());
      expect(p).toMatchObject({ status: 503, code: 'UNDER_PRESSURE', measure: 'eventLoopDelay', retryAfterSeconds: 1 });
      expect(p.detail).toMatch(/event loop delay 1800 ms \(mean over the last 1–2 s\), over the limit of 1000 ms/);
      expect(shed).toEqual(['eventLoopDelay']);
    } finally {
      s.close();
    }
  });

  it('a limit of 0 turns the loop check off, whatever the delay', () => {
    const { log } = capture();
    const shed: string[] = [];
    const s = new LoadShedder({ limits: { ...LIMITS, maxEventLoopDelayMs: 0 } }, { log, onShed: (m) => shed.push(m), loopDelayMs: () => 5_000 });
    try {
      expect(s.checkLoop()).toBeUndefined();
      expect(shed).toEqual([]);
    } finally {
      s.close();
    }
  });

  it('logs an episode once when it starts and once when it ends, with the counts', async () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const { log, lines } = capture();
      const s = new LoadShedder({ limits: LIMITS, quietMs: 1_000 }, { log, now: () => now, loopDelayMs: () => 2_500 });
      for (let i = 0; i < 5; i++) {
        expect(s.checkLoop()).toBeDefined();
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
      await s.handler({} as never, {} as never, 'heapUsedBytes', 5e9).catch(() => undefined);
      expect(lines.filter((l) => l.level === 40)).toHaveLength(2);
      s.close();
      expect(lines.filter((l) => l.msg === 'load shedding ended')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('LoopDelayProbe', () => {
  it('answers the mean delay of its turns over one to two windows: a sustained delay reads whole, one stall is diluted, both are forgotten', () => {
    vi.useFakeTimers();
    try {
      let t = 0;
      const probe = new LoopDelayProbe(20, 1_000, () => t);
      try {
        // Each turn of the loop comes `late` ms after the timer was due.
        const turn = (late: number) => {
          t += 20 + late;
          vi.advanceTimersByTime(20);
        };
        for (let i = 0; i < 50; i++) turn(0); // the 50th turn, at 1,000 ms, starts the second window
        expect(probe.recentMeanMs()).toBe(0);
        // One stall of 500 ms among turns on time: diluted over the 51 turns of both windows.
        turn(500);
        expect(probe.recentMeanMs()).toBeCloseTo(500 / 51, 5);
        // Two windows of turns on time: forgotten.
        for (let i = 0; i < 100; i++) turn(0);
        expect(probe.recentMeanMs()).toBe(0);
        // A sustained overload, every turn 1,200 ms late: from its second turn on, reads as 1,200.
        for (let i = 0; i < 3; i++) turn(1_200);
        expect(probe.recentMeanMs()).toBeCloseTo(1_200, 5);
        // Two idle windows without a turn at all (nothing to read): forgotten.
        t += 2_500;
        expect(probe.recentMeanMs()).toBe(0);
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
      // Stall the loop for 2 s: the shedder's probe records it when its timer fires after the
      // stall; diluted by ~50–100 turns on time around it, the mean (~20–40 ms) is still over
      // the 20 ms limit right after the stall.
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
