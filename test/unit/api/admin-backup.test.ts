/** POST /admin/backup in-process: the token, one backup at a time, the streamed file checks out. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi } from '../../../src/api/server.js';
import { SCOPES } from '../../../src/api/scopes.js';
import type { ApiContext } from '../../../src/api/context.js';
import { writeBackup } from '../../../src/node/backup.js';
import { DataDir } from '../../../src/node/data-dir.js';
import { verifyBackup } from '../../../src/storage/backup-format.js';
import { extend, makeFixture, type Fixture } from '../../helpers/chain-fixture.js';

let fx: Fixture;
const apps: FastifyInstance[] = [];
const auth = { authorization: 'Bearer secret-token' };

async function api(backup: ApiContext['backup']): Promise<FastifyInstance> {
  const app = await buildApi(
    { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: false, captureWorkers: 0, maxEventLoopDelayMs: 60_000 },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
      authenticate: (t) => (t === 'secret-token' ? { ok: true, name: 'test', scopes: [...SCOPES] } : t === 'reader' ? { ok: true, name: 'reader', scopes: ['read'] } : { ok: false, reason: 'unknown' }),
      ...(backup ? { backup } : {}),
    },
    pino({ level: 'silent' }),
  );
  apps.push(app);
  return app;
}

beforeAll(async () => {
  fx = await makeFixture();
  await extend(fx, 4);
  await new DataDir(fx.dir).writeGenesis(fx.genesis);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  await fx?.close();
});

describe('POST /admin/backup', () => {
  it('needs the token; streams a backup that verifies, of the tip', async () => {
    let running = false;
    const app = await api({
      running: () => running,
      approximateBytes: async () => 1234,
      write: async (out) => {
        running = true;
        try {
          return await writeBackup(fx.store, new DataDir(fx.dir), out, { genesis: fx.genesis });
        } finally {
          running = false;
        }
      },
    });
    expect((await app.inject({ method: 'POST', url: '/admin/backup' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/admin/backup', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    // A token without the admin scope may not take a backup.
    expect((await app.inject({ method: 'POST', url: '/admin/backup', headers: { authorization: 'Bearer reader' } })).statusCode).toBe(403);
    const res = await app.inject({ method: 'POST', url: '/admin/backup', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['x-backup-approximate-bytes']).toBe('1234');
    const bytes = res.rawPayload;
    const manifest = await verifyBackup(
      {
        size: bytes.length,
        read: async (s, n) => bytes.subarray(s, s + n),
        async *stream(s, e) {
          yield bytes.subarray(s, e);
        },
      },
      { expectChainId: fx.chain.chainId },
    );
    expect(manifest.tip).toEqual({ hash: fx.chain.tip.hash, height: 4 });
  });

  it('one at a time: 409 BACKUP_RUNNING while one is written; 409 NO_BACKUP on a node without backups', async () => {
    const busy = await api({ running: () => true, approximateBytes: async () => 0, write: async () => ({ tip: { hash: '', height: 0 }, entries: 0 }) });
    const r = await busy.inject({ method: 'POST', url: '/admin/backup', headers: auth });
    expect(r.statusCode).toBe(409);
    expect(r.json<{ code: string }>().code).toBe('BACKUP_RUNNING');
    const none = await api(undefined);
    const n = await none.inject({ method: 'POST', url: '/admin/backup', headers: auth });
    expect(n.statusCode).toBe(409);
    expect(n.json<{ code: string }>().code).toBe('NO_BACKUP');
  });
});
