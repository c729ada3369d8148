/**
 * The notification service on a real chain and store (the chain fixture), with an injected
 * webhook sender standing in for the receiver: what is delivered, when (confirmations), in which
 * order, under which delivery ID, across failures, a restart and a reorganisation.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { buildBlock, extend, makeFixture, makeTx, testEventId, type Fixture } from '../../helpers/chain-fixture.js';
import { NotifyService, type NotifyOptions } from '../../../src/notify/service.js';
import { NotifyRecords } from '../../../src/storage/index.js';
import type { WebhookRequest } from '../../../src/notify/webhook.js';
import type { Timer } from '../../../src/notify/subscriber.js';
import { defaultConfig } from '../../../src/node/config.js';
import { signBody, verifySignature } from '../../../src/notify/signature.js';
import { DEFAULT_QUERY_LIMITS } from '../../../src/api/query.js';
import { HttpProblem } from '../../../src/api/problem.js';
import { NodeMetrics } from '../../../src/api/metrics.js';

const OPTS: NotifyOptions = {
  allowHttp: false,
  maxQueries: 10,
  maxSubscriptions: 10,
  maxStreams: 2,
  maxEventsPerDelivery: 100,
  retryBaseMs: 5,
  retryMaxMs: 20,
  pauseAfterMs: 60_000,
  maxBacklogBlocks: 1_000,
  finalityDepth: 2,
  maxStreamBuffer: 1 << 20,
  limits: DEFAULT_QUERY_LIMITS,
};
const SECRET = 'a-subscriber-secret-0001';
const DEST = 'http://127.0.0.1:9/hook';

interface Received {
  deliveryId: string;
  subscriptionId: string;
  eventIds: string[];
  req: WebhookRequest;
}

function eventIdsOf(body: string): string[] {
  const doc = JSON.parse(body) as { epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } };
  return doc.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID);
}

describe('notify service', () => {
  let fx: Fixture;
  let received: Received[];
  /** While true, the receiver refuses (counted in `refused`). */
  let down: boolean;
  let refused: number;
  let services: NotifyService[];

  const make = (opts: Partial<NotifyOptions> = {}, timer?: Timer): NotifyService => {
    const s = new NotifyService(
      { ...OPTS, ...opts },
      {
        ...(timer !== undefined ? { timer } : {}),
        chain: fx.chain,
        records: new NotifyRecords(fx.store),
        clock: () => fx.clock.now,
        logger: pino({ level: 'silent' }),
        send: async (req) => {
          if (down) {
            refused++;
            throw new Error('connection refused');
          }
          received.push({ deliveryId: req.deliveryId, subscriptionId: req.subscriptionId, eventIds: eventIdsOf(req.body), req });
        },
      },
    );
    services.push(s);
    return s;
  };

  const capture = async (epc: string): Promise<string> => {
    const event = { epc, action: 'commission' };
    await fx.chain.importBlock(buildBlock(fx, { txs: [makeTx(fx, [event])] }));
    return testEventId(event);
  };

  beforeEach(async () => {
    fx = await makeFixture();
    received = [];
    down = false;
    refused = 0;
    services = [];
  });
  afterEach(async () => {
    for (const s of services) await s.stop();
    await fx.close();
  });

  it('delivers each matching event once, in chain order, only after its confirmations, signed with the secret', async () => {
    const svc = make();
    await svc.start();
    await svc.createQuery('all', { EXISTS_epc: '' });
    const sub = await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, initialRecordTime: '2000-01-01T00:00:00Z' });
    expect(sub.signatureToken).toBe('…0001');
    expect(JSON.stringify(sub)).not.toContain(SECRET);
    const e1 = await capture('urn:x:1');
    const e2 = await capture('urn:x:2');
    // e2 is in the tip block: one confirmation of the two asked. e1 has two.
    await vi.waitFor(() => expect(received.map((r) => r.eventIds).flat()).toEqual([e1]), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(1);
    await extend(fx, 1);
    await vi.waitFor(() => expect(received.map((r) => r.eventIds).flat()).toEqual([e1, e2]), { timeout: 5_000 });
    for (const r of received) {
      const header = signBody(r.req.secret, r.req.body);
      expect(r.req.secret).toBe(SECRET);
      expect(verifySignature(SECRET, r.req.body, header)).toBe(true);
      expect(verifySignature('another-secret-of-16+', r.req.body, header)).toBe(false);
      expect(verifySignature(SECRET, `${r.req.body} `, header)).toBe(false);
    }
    expect(new Set(received.map((r) => r.deliveryId)).size).toBe(2);
    const view = await svc.getSubscription('all', sub.subscriptionID);
    expect(view?.delivered).toBe(2);
    expect(view?.status).toBe('active');    expect(svc.stats()).toMatchObject({ queries: 1, subscriptions: { active: 1, retrying: 0, paused: 0 }, attempts: { delivered: 2, failed: 0 }, eventsDelivered: 2, maxBacklogBlocks: 0 });
    // The same figures on /metrics.
    const metrics = new NodeMetrics({ defaultMetrics: false });
    metrics.setSources({ notify: () => svc.stats() });
    const text = await metrics.text();
    expect(text).toContain('tracechain_notify_subscriptions{status="active"} 1');
    expect(text).toContain('tracechain_notify_attempts_total{outcome="delivered"} 2');
    expect(text).toContain('tracechain_notify_events_delivered_total 2');
  });

  it('a failing destination is retried after its backoff, not at every new block', async () => {
    const svc = make({ retryBaseMs: 60_000, retryMaxMs: 60_000 });
    await svc.start();
    await svc.createQuery('all', { EXISTS_epc: '' });
    await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    down = true;
    await capture('urn:x:backoff');
    await vi.waitFor(() => expect(refused).toBe(1), { timeout: 5_000 });
    await extend(fx, 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(refused).toBe(1);
    expect(svc.stats()).toMatchObject({ subscriptions: { active: 0, retrying: 1, paused: 0 }, attempts: { delivered: 0, failed: 1 }, maxBacklogBlocks: 4 });
  });

  it('a receiver that is down gets every missed event once, in order, each under the ID its failed attempts had', async () => {
    const svc = make();
    await svc.start();
    await svc.createQuery('all', { EXISTS_epc: '' });
    await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    down = true;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await capture(`urn:x:down${i}`));
    await vi.waitFor(() => expect(refused).toBeGreaterThan(3), { timeout: 5_000 });
    const sub = (await svc.listSubscriptions('all'))[0];
    expect(sub?.status).toBe('retrying');
    const firstId = sub?.pending?.deliveryId;
    down = false;
    await vi.waitFor(() => expect(received.map((r) => r.eventIds).flat()).toEqual(ids), { timeout: 5_000 });
    expect(received[0]?.deliveryId).toBe(firstId);
  });

  // 60 s: the waits are 1, 2, 4, 8, 16, 32 s; 5 min: they reach the 60 s cap and stay there.
  it.each([60_000, 300_000])('a receiver down for %i ms (virtual time, the default backoff): every event missed meanwhile arrives once, in order, the waits doubling from 1 s, capped at 60 s', async (outageMs) => {
    // Virtual timers: the subscriber's retry waits are recorded and fired by the test, which moves the clock to each one's due time.
    const timers: { due: number; fn: () => void }[] = [];
    const waits: number[] = [];
    const timer: Timer = (fn, ms) => {
      const t = { due: fx.clock.now + ms, fn };
      timers.push(t);
      waits.push(ms);
      return () => {
        const i = timers.indexOf(t);
        if (i >= 0) timers.splice(i, 1);
      };
    };
    const { retryBaseMs, retryMaxMs, pauseAfterMs, maxBacklogBlocks } = defaultConfig().notify;
    expect([retryBaseMs, retryMaxMs]).toEqual([1_000, 60_000]); // what docs/notifications.md documents
    const svc = make({ retryBaseMs, retryMaxMs, pauseAfterMs, maxBacklogBlocks }, timer);
    await svc.start();
    await svc.createQuery('all', { EXISTS_epc: '' });
    const sub = await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    const start = fx.clock.now;
    down = true;
    const ids = [await capture('urn:x:outage-0')];
    await vi.waitFor(() => expect([refused, timers.length]).toEqual([1, 1]), { timeout: 5_000 });
    const firstId = (await svc.getSubscription('all', sub.subscriptionID))?.pending?.deliveryId;
    // Fire every retry due by virtual time t (each fails while down and sets the next wait).
    const runUntil = async (t: number): Promise<void> => {
      for (let next = timers[0]; next !== undefined && next.due <= t; next = timers[0]) {
        const before = refused;
        timers.shift();
        fx.clock.now = next.due;
        next.fn();
        await vi.waitFor(() => expect([refused, timers.length]).toEqual([before + 1, 1]), { timeout: 5_000 });
      }
      fx.clock.now = t;
    };
    // A new event every 5 s of the outage; new blocks do not shorten the wait.
    for (let k = 1; k * 5_000 < outageMs; k++) {
      await runUntil(start + k * 5_000);
      ids.push(await capture(`urn:x:outage-${k}`));
    }
    await runUntil(start + outageMs);
    expect(svc.stats().subscriptions.retrying).toBe(1);
    expect((await svc.getSubscription('all', sub.subscriptionID))?.pending?.deliveryId).toBe(firstId);
    down = false;
    // The receiver is back: the next retry delivers, then the backlog goes out at once, one event per delivery.
    const next = timers.shift();
    if (next === undefined) throw new Error('no retry pending');
    fx.clock.now = next.due;
    next.fn();
    await vi.waitFor(() => expect(received.map((r) => r.eventIds).flat()).toEqual(ids), { timeout: 5_000 });
    expect(received[0]?.deliveryId).toBe(firstId);
    expect(new Set(received.map((r) => r.deliveryId)).size).toBe(ids.length);
    // Each wait is retryBaseMs × 2^(n−1), at most retryMaxMs, ±20 % jitter; the last ends within one wait of the receiver's return.
    expect(waits.length).toBe(refused);
    waits.forEach((ms, i) => {
      const nominal = Math.min(retryMaxMs, retryBaseMs * 2 ** i);
      expect(ms).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
      expect(ms).toBeLessThanOrEqual(Math.ceil(nominal * 1.2));
    });
    expect(refused).toBeGreaterThanOrEqual(6);
    expect(next.due - start).toBeLessThan(outageMs + retryMaxMs * 1.2);
    if (outageMs > 120_000) expect(waits.filter((ms) => ms >= retryMaxMs * 0.8).length).toBeGreaterThan(1);
    await extend(fx, 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(received.map((r) => r.eventIds).flat()).toEqual(ids);
  });

  it('a restart resumes from the stored cursor: nothing lost, nothing delivered twice', async () => {
    const first = make();
    await first.start();
    await first.createQuery('all', { EXISTS_epc: '' });
    await first.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    const a = await capture('urn:x:a');
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 5_000 });
    await first.stop();
    const b = await capture('urn:x:b');
    const c = await capture('urn:x:c');
    const second = make();
    await second.start();
    await vi.waitFor(() => expect(received.map((r) => r.eventIds).flat()).toEqual([a, b, c]), { timeout: 5_000 });
  });

  it('an event on a branch reorganised away before its confirmations is never delivered', async () => {
    await extend(fx, 1);
    const fork = fx.chain.tip;
    const svc = make();
    await svc.start();
    await svc.createQuery('all', { EXISTS_epc: '' });
    const strict = await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 2, initialRecordTime: '2000-01-01T00:00:00Z' });
    // The control: one confirmation is enough for it, so it does see the doomed event.
    const loose = await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    const doomed = { epc: 'urn:x:doomed', action: 'commission' };
    const kept = { epc: 'urn:x:kept', action: 'commission' };
    await fx.chain.importBlock(buildBlock(fx, { parent: fork, txs: [makeTx(fx, [doomed])] }));
    await vi.waitFor(() => expect(received.filter((r) => r.subscriptionId === loose.subscriptionID).map((r) => r.eventIds).flat()).toEqual([testEventId(doomed)]), { timeout: 5_000 });
    // Branch B overtakes: b1 (kept) and b2, then b3 so that b1 has two confirmations.
    const b1 = buildBlock(fx, { parent: fork, txs: [makeTx(fx, [kept])] });
    await fx.chain.importBlock(b1);
    const b1Entry = fx.chain.header(b1.hashHex);
    if (b1Entry === undefined) throw new Error('b1 not indexed');
    expect((await fx.chain.importBlock(buildBlock(fx, { parent: b1Entry }))).status).toBe('reorg');
    await extend(fx, 1);
    await vi.waitFor(() => expect(received.filter((r) => r.subscriptionId === strict.subscriptionID).map((r) => r.eventIds).flat()).toEqual([testEventId(kept)]), { timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(received.filter((r) => r.subscriptionId === strict.subscriptionID).flatMap((r) => r.eventIds)).not.toContain(testEventId(doomed));
  });

  it('a scheduled subscription sends what matched since its last run, and an empty report when asked', async () => {
    const svc = make();
    await svc.start();
    await svc.createQuery('all', { EXISTS_epc: '' });
    const start = fx.clock.now;
    await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, schedule: { second: '0/10' }, reportIfEmpty: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    const a = await capture('urn:x:s1');
    const b = await capture('urn:x:s2');
    fx.clock.now = start + 10_000;
    await extend(fx, 1); // wakes the subscriber
    await vi.waitFor(() => expect(received.map((r) => r.eventIds)).toEqual([[a, b]]), { timeout: 5_000 });
    fx.clock.now = start + 20_000;
    await extend(fx, 1);
    await vi.waitFor(() => expect(received.map((r) => r.eventIds)).toEqual([[a, b], []]), { timeout: 5_000 });
  });

  it('refuses bad subscriptions and queries with a code', async () => {
    const svc = make();
    await svc.start();
    await expect(svc.createQuery('q', { NOT_A_PARAM: 'x' })).rejects.toMatchObject({ code: 'QUERY_PARAMETER' });
    await svc.createQuery('q', { EQ_bizStep: 'shipping' });
    await expect(svc.createQuery('q', { EQ_bizStep: 'shipping' })).rejects.toMatchObject({ code: 'QUERY_EXISTS' });
    const refused = async (input: Parameters<NotifyService['subscribe']>[1]): Promise<string> => {
      try {
        await svc.subscribe('q', input);
      } catch (err) {
        if (err instanceof HttpProblem) return err.code;
        throw err;
      }
      return 'accepted';
    };
    expect(await refused({ dest: 'http://example.com/hook', signatureToken: SECRET, stream: true })).toBe('BAD_DESTINATION');
    expect(await refused({ dest: 'ftp://127.0.0.1/x', signatureToken: SECRET, stream: true })).toBe('BAD_DESTINATION');
    expect(await refused({ dest: 'https://u:p@example.com/hook', signatureToken: SECRET, stream: true })).toBe('BAD_DESTINATION');
    expect(await refused({ dest: DEST, signatureToken: 'short', stream: true })).toBe('BAD_SUBSCRIPTION');
    expect(await refused({ dest: DEST, signatureToken: SECRET })).toBe('BAD_SUBSCRIPTION');
    expect(await refused({ dest: DEST, signatureToken: SECRET, stream: true, schedule: { hour: '1' } })).toBe('BAD_SUBSCRIPTION');
    expect(await refused({ dest: DEST, signatureToken: SECRET, schedule: { hour: '25' } })).toBe('BAD_SUBSCRIPTION');
    expect(await refused({ dest: DEST, signatureToken: SECRET, stream: true, initialRecordTime: 'yesterday' })).toBe('BAD_SUBSCRIPTION');
    expect(await refused({ dest: 'https://example.com/hook', signatureToken: SECRET, stream: true })).toBe('accepted');
    await expect(svc.subscribe('nope', { dest: DEST, signatureToken: SECRET, stream: true })).rejects.toMatchObject({ code: 'QUERY_NOT_FOUND' });
    expect(await svc.deleteQuery('q')).toBe(true);
    expect(await svc.listQueries()).toEqual([]);
  });

  it('a damaged stored record is skipped with an error, the others start, and a damaged query can be deleted', async () => {
    const first = make();
    await first.start();
    await first.createQuery('good', { EXISTS_epc: '' });
    await first.subscribe('good', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    await first.stop();
    await new NotifyRecords(fx.store).write(
      [
        { kind: 'query', name: 'broken', value: '{not json' },
        { kind: 'subscription', name: 'sub-broken', value: '{"id":"sub-broken"}' },
      ],
      { sync: true },
    );
    const second = make();
    await second.start();
    expect((await second.listQueries()).map((q) => q.name)).toEqual(['good']);
    expect(second.stats().subscriptions.active).toBe(1);
    const e = await capture('urn:x:after-damage');
    await vi.waitFor(() => expect(received.map((r) => r.eventIds).flat()).toEqual([e]), { timeout: 5_000 });
    expect(await second.deleteQuery('broken')).toBe(true);
  });

  it('pauses a subscription whose destination keeps failing, with the reason, and resumes it', async () => {
    const svc = make({ pauseAfterMs: 1_000 });
    await svc.start();
    await svc.createQuery('all', { EXISTS_epc: '' });
    const sub = await svc.subscribe('all', { dest: DEST, signatureToken: SECRET, stream: true, confirmations: 1, initialRecordTime: '2000-01-01T00:00:00Z' });
    down = true;
    const e = await capture('urn:x:p');
    await vi.waitFor(() => expect(refused).toBeGreaterThan(0), { timeout: 5_000 });
    fx.clock.now += 2_000;
    await vi.waitFor(async () => expect((await svc.getSubscription('all', sub.subscriptionID))?.status).toBe('paused'), { timeout: 5_000 });
    expect((await svc.getSubscription('all', sub.subscriptionID))?.pausedReason).toMatch(/failed for .*connection refused/);
    down = false;
    await svc.resume('all', sub.subscriptionID);
    await vi.waitFor(() => expect(received.map((r) => r.eventIds).flat()).toEqual([e]), { timeout: 5_000 });
  });
});
