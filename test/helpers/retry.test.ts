/**
 * The harness asks a node again only when the node says to (429, 503 with Retry-After), never
 * on a 500; and the chaos reads built on it fail closed. A local HTTP server plays the node.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchSettled, retryAfterMs, type Retried } from './retry.js';
import { eventOf, tipOf } from '../chaos/lib.js';

/** Scripted answers, one per request: [status, headers, body]. */
let script: [number, Record<string, string>, unknown][] = [];
let requests = 0;
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const [status, headers, body] = script.shift() ?? [599, {}, { detail: 'script ran out' }];
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => {
  script = [];
  requests = 0;
});

const damaged = [500, {}, { type: 'https://tracechain.dev/problems/store-damaged', title: 'Store damaged', status: 500, detail: 'block 7 is damaged', code: 'STORE_DAMAGED' }] as [number, Record<string, string>, unknown];
const shed = [503, { 'retry-after': '0' }, { status: 503, code: 'UNDER_PRESSURE' }] as [number, Record<string, string>, unknown];

describe('fetchSettled', () => {
  it('returns a 500 at once: a damaged store is an answer, not load', async () => {
    script = [damaged, [200, {}, {}]];
    const retried: Retried[] = [];
    const res = await fetchSettled(base + '/events/x', { onRetry: (r) => retried.push(r) });
    expect(res.status).toBe(500);
    expect(requests).toBe(1);
    expect(retried).toEqual([]);
  });

  it('asks again after a 503 with Retry-After and after a 429, counting each', async () => {
    script = [shed, [429, { 'retry-after': '0' }, { code: 'RATE_LIMITED' }], [200, {}, { ok: true }]];
    const retried: Retried[] = [];
    const res = await fetchSettled(base + '/events/x', { onRetry: (r) => retried.push(r) });
    expect(res.status).toBe(200);
    expect(retried).toEqual([
      { status: 503, code: 'UNDER_PRESSURE' },
      { status: 429, code: 'RATE_LIMITED' },
    ]);
  });

  it('returns a 503 without Retry-After (a server that is closing) at once', async () => {
    script = [[503, {}, { statusCode: 503 }], [200, {}, {}]];
    expect((await fetchSettled(base + '/x')).status).toBe(503);
    expect(requests).toBe(1);
  });

  it('returns the last retryable answer when time runs out, so the caller sees it', async () => {
    script = Array.from({ length: 50 }, () => shed);
    const res = await fetchSettled(base + '/x', { timeoutMs: 300 });
    expect(res.status).toBe(503);
    expect(requests).toBeGreaterThan(1);
  });

  it('throws when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(fetchSettled(`http://127.0.0.1:${port}/x`)).rejects.toThrow(/fetch failed/);
  });

  it('reads Retry-After in seconds and as a date', () => {
    const r = (status: number, h?: string): Response => new Response(null, { status, headers: h === undefined ? {} : { 'retry-after': h } });
    expect(retryAfterMs(r(503, '30'))).toBe(30_000);
    expect(retryAfterMs(r(503))).toBeUndefined();
    expect(retryAfterMs(r(429))).toBe(1_000);
    expect(retryAfterMs(r(500, '1'))).toBeUndefined();
    expect(retryAfterMs(r(503, new Date(Date.now() + 5_000).toUTCString()))).toBeGreaterThan(3_000);
  });
});

describe('the chaos reads fail closed', () => {
  it('eventOf reports a 500 as such (no retry, no block)', async () => {
    script = [damaged];
    expect(await eventOf(base, 'ni:///sha-256;00?ver=CBV2.0')).toEqual({ status: 500, block: null, retries: 0 });
  });

  it('eventOf counts the shed answers it retried', async () => {
    script = [shed, shed, [200, {}, { block: { hash: 'ab', height: 3 } }]];
    expect(await eventOf(base, 'id')).toEqual({ status: 200, block: { hash: 'ab', height: 3 }, retries: 2 });
  });

  it('tipOf throws on a 500 and on an answer without a numeric height', async () => {
    script = [damaged];
    await expect(tipOf(base)).rejects.toThrow(/blocks\/tip answered 500/);
    script = [[200, {}, { hash: 'ab' }]];
    await expect(tipOf(base)).rejects.toThrow(/answered 200/);
  });
});
