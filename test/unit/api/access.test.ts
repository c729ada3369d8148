/**
 * Every route × every scope. The routes are those the server actually registered (its
 * accessTable, filled by the same onRoute hook that documents them), so a route added later is
 * covered without editing this file, and a route that declares no scope fails here. For each
 * route and each one-scope token (and no token): allowed routes answer without an auth refusal
 * and never 5xx; the others answer 403 MISSING_SCOPE naming the scope, or 401 without a token.
 * Plus: revoked, expired and rotated-out tokens get 401 with the reason, at their next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/api/server.js';
import { SCOPES, type RouteAccess, type Scope } from '../../../src/api/scopes.js';
import { addToken, revokeToken, rotateToken, TokenRegistry, type TokenRecord } from '../../../src/api/tokens.js';
import type { ApiContext, AuditEntry, AuditSink } from '../../../src/api/context.js';
import { keyIdHex } from '../../../src/chain/keys.js';
import { makeFixture, type Fixture } from '../../helpers/chain-fixture.js';
import { NotifyService } from '../../../src/notify/service.js';
import { NotifyRecords } from '../../../src/storage/index.js';
import { DEFAULT_QUERY_LIMITS } from '../../../src/api/query.js';

/** The rule, written out independently of src/api/scopes.ts: what a token holding `held` may call. */
function expectedAllowed(held: readonly Scope[], route: Scope): boolean {
  if (held.includes(route)) return true;
  return route === 'verify' && held.includes('read');
}

const AUTH_CODES = ['UNAUTHENTICATED', 'BAD_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'MISSING_SCOPE', 'BAD_AUTHORIZATION'];

let now = 1_800_000_000_000;
const clock = (): number => now;
let fx: Fixture;
let records: TokenRecord[] = [];
let registry: TokenRegistry;
let notify: NotifyService;
const audited: Omit<AuditEntry, 'seq'>[] = [];

/**
 * The API over the fixture. The tables send hundreds of credential-less requests from one address
 * at one instant: their refused-authentication budget (authFailMax) is set out of reach unless a
 * test asks for one.
 */
function build(requireTokenForReads: boolean, authFailMax = 1_000_000): Promise<FastifyInstance> {
  const pharmacy = fx.chain.registry.get(keyIdHex(fx.nonSealer.publicKey));
  if (!pharmacy) throw new Error('fixture lacks its pharmacy member');
  const audit: AuditSink = {
    append: async (e) => void audited.push(e),
    read: async () => ({ entries: audited.map((e, i) => ({ ...e, seq: i + 1 })), next: null }),
  };
  const ctx: ApiContext = {
    chain: fx.chain,
    status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
    authenticate: (t) => registry.authenticate(t),
    signer: { member: pharmacy, secretKey: fx.nonSealer.secretKey },
    audit,
    clock,
    queries: notify,
  };
  return buildApi(
    { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads, captureWorkers: 0, maxEventLoopDelayMs: 60_000, rateLimit: { writeMax: 6_000, readMax: 200_000, authFailMax, timeWindowMs: 10_000 } },
    ctx,
    pino({ level: 'silent' }),
  );
}

/** A concrete URL for a route pattern: parameters filled with plausible values. */
function concrete(url: string): string {
  const values: Record<string, string> = { name: 'q', lot: 'L1', id: '0'.repeat(64), eventId: 'ni%3A%2F%2F%2Fsha-256%3B00', epc: 'urn%3Aepc%3Aid%3Asgtin%3A0614141.107346.1', gtin: '09506000134352', serial: '1', file: 'app.js' };
  return url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => values[name] ?? 'x').replace(/\*$/, 'x');
}

interface Cell {
  route: string;
  token: string;
  status: number;
  code?: string;
  problem: string;
}

/** The whole table for an app: every failure, described. */
async function checkTable(app: FastifyInstance, requireTokenForReads: boolean): Promise<{ failures: string[]; cells: number }> {
  await app.ready();
  const failures: string[] = [];
  let cells = 0;
  const tokens: [string, Scope[] | undefined][] = [['none', undefined], ...SCOPES.map((s): [string, Scope[]] => [`only-${s}`, [s]])];
  for (const r of app.accessTable) {
    if (r.declared === undefined) {
      // An automatic HEAD route mirrors its GET: reported once, as the GET.
      if (r.method !== 'HEAD') failures.push(`${r.method} ${r.url} declares no scope (config.scope)`);
      continue;
    }
    const declared: RouteAccess = r.declared;
    for (const [name, scopes] of tokens) {
      const ask = () =>
        app.inject({
          method: r.method as 'GET',
          url: concrete(r.url),
          headers: { ...(scopes ? { authorization: `Bearer secret-${name}` } : {}), ...(r.method === 'GET' || r.method === 'HEAD' || r.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
          ...(r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH' ? { payload: '{}' } : {}),
        });
      // Load shedding (503 UNDER_PRESSURE, when the test machine stalls this process's event loop)
      // says nothing of the route: asked again, as a client would, a bounded number of times.
      let res = await ask();
      for (let i = 0; i < 20 && res.statusCode === 503 && (r.method === 'HEAD' || res.body.includes('"UNDER_PRESSURE"')); i++) {
        await new Promise((done) => setTimeout(done, 250));
        res = await ask();
      }
      cells++;
      // A HEAD answer has no body: its problem code is inferred from the status.
      let code: string | undefined;
      if (r.method === 'HEAD') code = res.statusCode === 401 ? 'UNAUTHENTICATED' : res.statusCode === 403 ? 'MISSING_SCOPE' : undefined;
      else {
        try {
          code = (res.json() as { code?: string }).code;
        } catch {
          code = undefined;
        }
      }
      const cell: Cell = { route: `${r.method} ${r.url}`, token: name, status: res.statusCode, ...(code !== undefined ? { code } : {}), problem: res.body.slice(0, 200) };
      const say = (why: string): void => void failures.push(`${cell.route} with ${cell.token}: ${why} (got ${cell.status} ${cell.code ?? ''} ${cell.problem})`);
      if (res.statusCode >= 500) say('5xx');
      const open = declared === 'public' || (!requireTokenForReads && !r.alwaysToken && (declared === 'read' || declared === 'verify'));
      if (open) {
        if (code !== undefined && AUTH_CODES.includes(code)) say('an open route refused on auth grounds');
        continue;
      }
      if (scopes === undefined) {
        if (res.statusCode !== 401 || code !== 'UNAUTHENTICATED') say('expected 401 UNAUTHENTICATED without a token');
        else if (!String(res.headers['www-authenticate'] ?? '').startsWith('Bearer')) say('401 without WWW-Authenticate');
        continue;
      }
      if (expectedAllowed(scopes, declared)) {
        if (code !== undefined && AUTH_CODES.includes(code)) say(`allowed (${scopes.join(',')} for ${declared}) but refused`);
      } else if (res.statusCode !== 403 || code !== 'MISSING_SCOPE' || (r.method !== 'HEAD' && !(res.json() as { detail: string }).detail.includes(`${declared} scope`))) {
        say(`expected 403 MISSING_SCOPE naming ${declared}`);
      }
    }
  }
  return { failures, cells };
}

beforeAll(async () => {
  fx = await makeFixture();
  for (const s of SCOPES) records = addToken(records, { name: `only-${s}`, scopes: [s] }, `secret-only-${s}`, now);
  registry = new TokenRegistry(records, clock);
  notify = new NotifyService(
    { allowHttp: false, maxQueries: 10, maxSubscriptions: 10, maxStreams: 2, maxEventsPerDelivery: 10, retryBaseMs: 10, retryMaxMs: 100, pauseAfterMs: 60_000, maxBacklogBlocks: 100, finalityDepth: 2, maxStreamBuffer: 1 << 20, limits: DEFAULT_QUERY_LIMITS },
    { chain: fx.chain, records: new NotifyRecords(fx.store), send: async () => undefined, clock, logger: pino({ level: 'silent' }) },
  );
  await notify.start();
});

afterAll(async () => {
  await notify?.stop();
  await fx?.close();
});

describe('route × scope table', () => {
  for (const requireTokenForReads of [true, false]) {
    it(`every registered route, every scope (requireTokenForReads ${requireTokenForReads}): allowed or 403, 401 without a token, never 5xx`, async () => {
      const app = await build(requireTokenForReads);
      try {
        const { failures, cells } = await checkTable(app, requireTokenForReads);
        expect(failures).toEqual([]);
        // The table covers the routes this build has (at least the known ones of each scope).
        const declared = new Set(app.accessTable.map((r) => r.declared));
        for (const s of ['public', 'read', 'verify', 'capture', 'subscribe', 'admin'] as const) expect(declared.has(s)).toBe(true);
        // The named queries and subscriptions (notify/) and the verification requests are in the table.
        const urls = new Set(app.accessTable.map((r) => `${r.method} ${r.url}`));
        for (const u of ['POST /queries', 'GET /queries/:name/events', 'POST /queries/:name/subscriptions', 'DELETE /queries/:name/subscriptions/:id', 'GET /01/:gtin/10/:lot/21/:serial']) expect(urls).toContain(u);
        expect(cells).toBeGreaterThan(app.accessTable.length * 5);
      } finally {
        await app.close();
      }
    }, 60_000);
  }

  it('a route that declares no scope fails the table, and is closed to all but admin tokens', async () => {
    const app = await build(true);
    try {
      app.get('/forgotten', async () => ({ ok: true }));
      const { failures } = await checkTable(app, true);
      expect(failures).toEqual(['GET /forgotten declares no scope (config.scope)']);
      expect((await app.inject({ method: 'GET', url: '/forgotten', headers: { authorization: 'Bearer secret-only-read' } })).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/forgotten', headers: { authorization: 'Bearer secret-only-admin' } })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('the OpenAPI document names the scope of every operation', async () => {
    const app = await build(true);
    try {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: 'Bearer secret-only-read' } })).json<{ paths: Record<string, Record<string, { 'x-scope'?: string }>> }>();
      expect(doc.paths['/capture']?.post?.['x-scope']).toBe('capture');
      expect(doc.paths['/admin/partition']?.put?.['x-scope']).toBe('admin');
      expect(doc.paths['/audit']?.get?.['x-scope']).toBe('admin');
      expect(doc.paths['/verify']?.get?.['x-scope']).toBe('verify');
      expect(doc.paths['/queries/{name}/subscriptions']?.post?.['x-scope']).toBe('subscribe');
      expect(doc.paths['/01/{gtin}/10/{lot}/21/{serial}']?.get?.['x-scope']).toBe('verify');
      const missing = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).filter(([, op]) => op['x-scope'] === undefined).map(([m]) => `${m} ${p}`));
      expect(missing).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('token life cycle at the API', () => {
  it('a revoked token is refused at its next request; an expired one gets 401 with the reason; a rotated secret works through its grace period only', async () => {
    const app = await build(true);
    try {
      const get = async (secret: string) => {
        const res = await app.inject({ method: 'GET', url: '/blocks/tip', headers: { authorization: `Bearer ${secret}` } });
        return { status: res.statusCode, body: res.json<{ code?: string; reason?: string; detail: string }>() };
      };
      records = addToken(records, { name: 'auditor', scopes: ['read'], expiresInMs: 60_000 }, 'secret-auditor', now);
      records = addToken(records, { name: 'warehouse', scopes: ['read', 'capture'] }, 'secret-warehouse-1', now);
      registry = new TokenRegistry(records, clock, new Map());
      expect((await get('secret-auditor')).status).toBe(200);
      expect((await get('secret-warehouse-1')).status).toBe(200);

      records = revokeToken(records, 'warehouse', now);
      registry = new TokenRegistry(records, clock);
      expect(await get('secret-warehouse-1')).toMatchObject({ status: 401, body: { code: 'TOKEN_REVOKED', reason: 'revoked' } });

      now += 60_000;
      const expired = await get('secret-auditor');
      expect(expired).toMatchObject({ status: 401, body: { code: 'TOKEN_EXPIRED', reason: 'expired' } });
      expect(expired.body.detail).toMatch(/auditor expired at/);

      records = addToken(records, { name: 'pharmacy', scopes: ['capture', 'read'] }, 'secret-pharmacy-1', now);
      records = rotateToken(records, 'pharmacy', 'secret-pharmacy-2', now, 3_600_000);
      registry = new TokenRegistry(records, clock);
      expect((await get('secret-pharmacy-1')).status).toBe(200);
      expect((await get('secret-pharmacy-2')).status).toBe(200);
      now += 3_600_000;
      expect(await get('secret-pharmacy-1')).toMatchObject({ status: 401, body: { code: 'TOKEN_REVOKED', reason: 'rotated' } });
      expect((await get('secret-pharmacy-2')).status).toBe(200);
      expect(await get('never-issued')).toMatchObject({ status: 401, body: { code: 'BAD_TOKEN' } });
    } finally {
      await app.close();
    }
  });

  it('refused authentications are limited per address: past the budget, 429 with Retry-After before credentials are looked at, until the window ends; other addresses and open reads go on', async () => {
    const app = await build(false, 5);
    try {
      const capture = (from: string, secret?: string) =>
        app.inject({ method: 'POST', url: '/capture', remoteAddress: from, headers: { 'content-type': 'application/json', ...(secret !== undefined ? { authorization: `Bearer ${secret}` } : {}) }, payload: '{}' });
      // Five refusals of each kind a guesser meets: made-up tokens, none at all.
      for (let i = 0; i < 3; i++) expect((await capture('10.0.0.9', `guess-${i}`)).json()).toMatchObject({ status: 401, code: 'BAD_TOKEN' });
      for (let i = 0; i < 2; i++) expect((await capture('10.0.0.9')).json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      // The sixth from that address is not looked at: 429, even with a good token, until the window ends.
      const limited = await capture('10.0.0.9', 'guess-5');
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(limited.headers['retry-after'])).toBe(10);
      expect((await capture('10.0.0.9', 'secret-only-capture')).statusCode).toBe(429);
      // Open reads from it, and another address's requests, are not affected.
      expect((await app.inject({ method: 'GET', url: '/blocks/tip', remoteAddress: '10.0.0.9' })).statusCode).toBe(200);
      expect((await capture('10.0.0.10', 'guess-x')).json()).toMatchObject({ status: 401, code: 'BAD_TOKEN' });
      expect((await capture('10.0.0.10', 'secret-only-capture')).statusCode).toBe(400); // authenticated: the empty document is refused
      // Successful requests do not count: the good token from 10.0.0.10 goes on.
      for (let i = 0; i < 6; i++) expect((await capture('10.0.0.10', 'secret-only-capture')).statusCode).toBe(400);
      now += 10_000;
      expect((await capture('10.0.0.9', 'secret-only-capture')).statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });

  it('write requests are audited with the token name, remote address and outcome; reads are not', async () => {
    audited.length = 0;
    const app = await build(true);
    try {
      await app.inject({ method: 'GET', url: '/blocks/tip', headers: { authorization: 'Bearer secret-only-read' } });
      await app.inject({ method: 'POST', url: '/capture', headers: { authorization: 'Bearer secret-only-read', 'content-type': 'application/json' }, payload: '{}' });
      await app.inject({ method: 'POST', url: '/capture', headers: { authorization: 'Bearer secret-only-capture', 'content-type': 'application/json' }, payload: '{}' });
      await app.inject({ method: 'PUT', url: '/admin/partition', headers: { authorization: 'Bearer secret-only-admin', 'content-type': 'application/json' }, payload: '{"peers":[]}' });
      expect(audited.map((e) => [e.method, e.route, e.token, e.status, e.code])).toEqual([
        ['POST', '/capture', 'only-read', 403, 'MISSING_SCOPE'],
        ['POST', '/capture', 'only-capture', 400, expect.any(String)],
        ['PUT', '/admin/partition', 'only-admin', 409, 'NO_NETWORK'],
      ]);
      expect(audited.every((e) => e.remote === '127.0.0.1')).toBe(true);
      const page = await app.inject({ method: 'GET', url: '/audit', headers: { authorization: 'Bearer secret-only-admin' } });
      expect(page.statusCode).toBe(200);
      expect(page.json<{ entries: unknown[] }>().entries).toHaveLength(3);
    } finally {
      await app.close();
    }
  });
});
