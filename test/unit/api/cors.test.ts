/**
 * Cross-origin access (api/cors.ts): no CORS headers for an origin not listed; listed origins
 * read; writes from other origins refused unless `cors.writes`, and never without a token;
 * same-origin requests untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/api/server.js';
import { SCOPES } from '../../../src/api/scopes.js';
import type { CorsOptions } from '../../../src/api/cors.js';
import { keyIdHex } from '../../../src/chain/keys.js';
import { makeFixture, type Fixture } from '../../helpers/chain-fixture.js';

let fx: Fixture;
const DASH = 'https://dashboard.hospital.example';
const auth = { authorization: 'Bearer secret-token' };

function build(cors: CorsOptions): Promise<FastifyInstance> {
  const member = fx.chain.registry.get(keyIdHex(fx.nonSealer.publicKey));
  if (!member) throw new Error('fixture lacks its member');
  return buildApi(
    { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, captureWorkers: 0, maxEventLoopDelayMs: 60_000, cors },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
      authenticate: (t) => (t === 'secret-token' ? { ok: true, name: 'test', scopes: [...SCOPES] } : { ok: false, reason: 'unknown' }),
      signer: { member, secretKey: fx.nonSealer.secretKey },
    },
    pino({ level: 'silent' }),
  );
}

beforeAll(async () => {
  fx = await makeFixture();
});
afterAll(async () => {
  await fx?.close();
});

describe('CORS', () => {
  it('no allow-list: other origins get no CORS headers, and their writes are refused', async () => {
    const app = await build({ origins: [], writes: false });
    try {
      const read = await app.inject({ method: 'GET', url: '/blocks/tip', headers: { origin: DASH } });
      expect(read.statusCode).toBe(200);
      expect(read.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await app.inject({ method: 'OPTIONS', url: '/blocks/tip', headers: { origin: DASH, 'access-control-request-method': 'GET' } });
      expect(pre.statusCode).toBe(403);
      expect(pre.json()).toMatchObject({ code: 'CORS_REFUSED' });
      const write = await app.inject({ method: 'POST', url: '/capture', headers: { origin: DASH, ...auth, 'content-type': 'application/json' }, payload: '{}' });
      expect(write.statusCode).toBe(403);
      expect(write.json()).toMatchObject({ code: 'CORS_REFUSED' });
      // Same origin (the explorer): untouched.
      const same = await app.inject({ method: 'POST', url: '/capture', headers: { origin: 'http://localhost:80', host: 'localhost:80', ...auth, 'content-type': 'application/json' }, payload: '{}' });
      expect(same.statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });

  it('listed origins read; they write only with cors.writes, and never without a token', async () => {
    const readOnly = await build({ origins: [DASH], writes: false });
    try {
      const read = await readOnly.inject({ method: 'GET', url: '/blocks/tip', headers: { origin: DASH } });
      expect(read.headers['access-control-allow-origin']).toBe(DASH);
      expect(read.headers.vary).toMatch(/origin/i);
      const pre = await readOnly.inject({ method: 'OPTIONS', url: '/blocks/tip', headers: { origin: DASH, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      expect(pre.statusCode).toBe(204);
      expect(pre.headers['access-control-allow-methods']).toBe('GET, HEAD');
      expect(pre.headers['access-control-allow-headers']).toContain('authorization');
      expect((await readOnly.inject({ method: 'OPTIONS', url: '/capture', headers: { origin: DASH, 'access-control-request-method': 'POST' } })).statusCode).toBe(403);
      expect((await readOnly.inject({ method: 'GET', url: '/blocks/tip', headers: { origin: 'https://other.example' } })).headers['access-control-allow-origin']).toBeUndefined();
      // An admin read is not shared with other origins unless they may write.
      expect((await readOnly.inject({ method: 'GET', url: '/admin/partition', headers: { origin: DASH, ...auth } })).headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await readOnly.close();
    }
    const writes = await build({ origins: [DASH], writes: true });
    try {
      const pre = await writes.inject({ method: 'OPTIONS', url: '/capture', headers: { origin: DASH, 'access-control-request-method': 'POST' } });
      expect(pre.statusCode).toBe(204);
      const noToken = await writes.inject({ method: 'POST', url: '/capture', headers: { origin: DASH, 'content-type': 'application/json' }, payload: '{}' });
      expect(noToken.statusCode).toBe(401);
      const withToken = await writes.inject({ method: 'POST', url: '/capture', headers: { origin: DASH, ...auth, 'content-type': 'application/json' }, payload: '{}' });
      expect(withToken.statusCode).toBe(400);
      expect(withToken.headers['access-control-allow-origin']).toBe(DASH);
    } finally {
      await writes.close();
    }
  });
});
