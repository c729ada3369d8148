/**
 * Client tokens over HTTP (/admin/tokens): the API over a real data directory's token file, with
 * the node's TokenService authenticating from the same file, as a running node does. An admin
 * token creates, lists, rotates and revokes client tokens, each change holding at the next
 * request; it cannot make, rotate or revoke a token holding admin; the routes are off unless the
 * node allows them; no answer or audit record carries a secret other than the one just made.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/api/server.js';
import type { ApiContext, AuditEntry, AuditSink } from '../../../src/api/context.js';
import { DataDir, FILES } from '../../../src/node/data-dir.js';
import { TokenService } from '../../../src/node/token-service.js';
import { FileTokenAdmin } from '../../../src/node/token-admin.js';
import { tokenCommand } from '../../../src/node/commands/token.js';
import { makeFixture, type Fixture } from '../../helpers/chain-fixture.js';

let dir: string;
let fx: Fixture;
let tokens: TokenService;
let now = 1_800_000_000_000;
const clock = (): number => now;
const audited: Omit<AuditEntry, 'seq'>[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracechain-token-api-'));
  fx = await makeFixture();
  tokens = new TokenService({ flushMs: 60_000 }, { dir: new DataDir(dir), clock, logger: pino({ level: 'silent' }) });
  tokens.start();
  audited.length = 0;
});
afterEach(async () => {
  await tokens.stop();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

/** The operator's admin token, made with the CLI on the host. */
async function cliToken(name: string, scope: string): Promise<string> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  expect(await tokenCommand('create', { data: dir, name, scope }, out, clock)).toBe(0);
  return text.trim();
}

async function build(tokenApi: boolean): Promise<FastifyInstance> {
  const audit: AuditSink = { append: async (e) => void audited.push(e), read: async () => ({ entries: [], next: null }) };
  const ctx: ApiContext = {
    chain: fx.chain,
    status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
    authenticate: (t) => tokens.authenticate(t),
    audit,
    clock,
    ...(tokenApi ? { tokenAdmin: new FileTokenAdmin({ dir: new DataDir(dir), clock, lastUsed: (n) => tokens.lastUsed(n) }) } : {}),
  };
  const app = await buildApi({ host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: true, captureWorkers: 0, maxEventLoopDelayMs: 60_000, tokenApi }, ctx, pino({ level: 'silent' }));
  await app.ready();
  return app;
}

describe('/admin/tokens', () => {
  it('an admin token creates, lists, rotates and revokes client tokens; each change holds at the next request', async () => {
    const admin = await cliToken('operator', 'admin');
    const app = await build(true);
    try {
      const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, secret: string, body?: unknown) => {
        const ask = () => app.inject({ method, url, headers: { authorization: `Bearer ${secret}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
        // Load shedding (a stalled test machine) is asked again, as a client would; nothing else is.
        let res = await ask();
        for (let i = 0; i < 20 && res.statusCode === 503 && res.body.includes('"UNDER_PRESSURE"'); i++) {
          await new Promise((done) => setTimeout(done, 250));
          res = await ask();
        }
        return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
      };
      const made = await call('POST', '/admin/tokens', admin, { name: 'warehouse', scopes: ['capture', 'read'], expires: '90d' });
      expect(made.status).toBe(201);
      const secret = made.body.secret as string;
      expect(secret).toMatch(/^tc_[A-Za-z0-9_-]{43}$/);
      expect(made.body.token).toMatchObject({ name: 'warehouse', scopes: ['capture', 'read'], status: 'active', expires: new Date(now + 90 * 86_400_000).toISOString(), revoked: null });
      // The node keeps only the hash; the new token works at once, within its scopes.
      expect(await readFile(join(dir, FILES.tokens), 'utf8')).not.toContain(secret);
      expect((await call('GET', '/blocks/tip', secret)).status).toBe(200);
      expect(await call('GET', '/admin/tokens', secret)).toMatchObject({ status: 403, body: { code: 'MISSING_SCOPE', scope: 'admin' } });
      // Listed, with its last use; never a secret or a hash.
      const list = await call('GET', '/admin/tokens', admin);
      expect(list.status).toBe(200);
      expect((list.body.tokens as { name: string }[]).map((t) => t.name)).toEqual(['operator', 'warehouse']);
      expect((list.body.tokens as { lastUsed: string | null }[])[1]?.lastUsed).toBe(new Date(now).toISOString());
      expect(JSON.stringify(list.body)).not.toMatch(/sha256|secret|tc_/);
      // Refusals, each with its code.
      expect(await call('POST', '/admin/tokens', admin, { name: 'warehouse', scopes: ['read'] })).toMatchObject({ status: 409, body: { code: 'TOKEN_EXISTS' } });
      expect(await call('POST', '/admin/tokens', admin, { name: 'deputy', scopes: ['admin', 'read'] })).toMatchObject({ status: 403, body: { code: 'TOKEN_API_ADMIN' } });
      expect(await call('POST', '/admin/tokens', admin, { name: 'bad name!', scopes: ['read'] })).toMatchObject({ status: 400 });
      expect(await call('POST', '/admin/tokens', admin, { name: 'x', scopes: ['root'] })).toMatchObject({ status: 400 });
      expect(await call('POST', '/admin/tokens/operator/rotate', admin, {})).toMatchObject({ status: 403, body: { code: 'TOKEN_API_ADMIN' } });
      expect(await call('DELETE', '/admin/tokens/operator', admin)).toMatchObject({ status: 403, body: { code: 'TOKEN_API_ADMIN' } });
      expect(await call('DELETE', '/admin/tokens/nobody', admin)).toMatchObject({ status: 404, body: { code: 'UNKNOWN_TOKEN' } });
      // Rotate with a grace period: both secrets work, then only the new one.
      const rotated = await call('POST', '/admin/tokens/warehouse/rotate', admin, { grace: '1h' });
      expect(rotated).toMatchObject({ status: 200, body: { previousUntil: new Date(now + 3_600_000).toISOString(), token: { status: 'active (rotating)' } } });
      const second = rotated.body.secret as string;
      expect([(await call('GET', '/blocks/tip', secret)).status, (await call('GET', '/blocks/tip', second)).status]).toEqual([200, 200]);
      now += 3_600_000;
      expect(await call('GET', '/blocks/tip', secret)).toMatchObject({ status: 401, body: { code: 'TOKEN_REVOKED', reason: 'rotated' } });
      // Revoke: refused at its next request; revoking again is a conflict.
      expect(await call('DELETE', '/admin/tokens/warehouse', admin)).toMatchObject({ status: 200, body: { name: 'warehouse', status: 'revoked' } });
      expect(await call('GET', '/blocks/tip', second)).toMatchObject({ status: 401, body: { code: 'TOKEN_REVOKED', reason: 'revoked' } });
      expect(await call('DELETE', '/admin/tokens/warehouse', admin)).toMatchObject({ status: 409, body: { code: 'TOKEN_ALREADY_REVOKED' } });
      // Every change is audited under the admin token's name, never with a secret.
      const writes = audited.filter((e) => e.route.startsWith('/admin/tokens') && e.status < 300);
      expect(writes.map((e) => [e.method, e.token, e.change])).toEqual([
        ['POST', 'operator', { token: 'warehouse', created: ['capture', 'read'] }],
        ['POST', 'operator', { token: 'warehouse', rotated: new Date(now).toISOString() }],
        ['DELETE', 'operator', { token: 'warehouse', revoked: new Date(now).toISOString() }],
      ]);
      expect(JSON.stringify(audited)).not.toContain('tc_');
    } finally {
      await app.close();
    }
  });

  it('is off unless the node allows it: 409 TOKEN_API_OFF, and the token file is untouched', async () => {
    const admin = await cliToken('operator', 'admin');
    const before = await readFile(join(dir, FILES.tokens), 'utf8');
    const app = await build(false);
    try {
      const res = await app.inject({ method: 'POST', url: '/admin/tokens', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'warehouse', scopes: ['read'] }) });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'TOKEN_API_OFF' });
      expect((await app.inject({ method: 'GET', url: '/admin/tokens', headers: { authorization: `Bearer ${admin}` } })).json()).toMatchObject({ code: 'TOKEN_API_OFF' });
      expect(await readFile(join(dir, FILES.tokens), 'utf8')).toBe(before);
    } finally {
      await app.close();
    }
  });
});
