/**
 * A node whose tx log cannot be written answers 503 with the reason (and Retry-After) instead
 * of 202, and the tx is not stored anywhere; once the log recovers, the same tx is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { SCOPES } from '../../../src/api/scopes.js';
import { buildApi } from '../../../src/api/server.js';
import { toProblem } from '../../../src/api/problem.js';
import { toHex } from '../../../src/common/bytes.js';
import { txId } from '../../../src/chain/tx.js';
import { TxLogError } from '../../../src/chain/tx-log.js';
import { FileTxLog } from '../../../src/storage/tx-log.js';
import { makeFixture, makeTx, TEST_PARAMS, type Fixture } from '../../helpers/chain-fixture.js';
import { MemLogFs } from '../storage/mem-log-fs.js';

let fx: Fixture;
let app: FastifyInstance;
let log: FileTxLog;
const fs = new MemLogFs();
const auth = { authorization: 'Bearer secret-token', 'content-type': 'application/json' };

beforeAll(async () => {
  ({ log } = await FileTxLog.open({ dir: '/data/txlog', maxPayloadBytes: TEST_PARAMS.maxTxBytes }, { logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, fs }));
  fx = await makeFixture(undefined, { txLog: log });
  app = await buildApi(
    { host: '127.0.0.1', port: 0, bodyLimit: 64 * 1024, requestTimeoutMs: 5_000, requireTokenForReads: false, captureWorkers: 0, maxEventLoopDelayMs: 60_000 },
    {
      chain: fx.chain,
      status: { peers: () => 0, synced: () => true, hashrate: () => 0, storeOpen: () => true, networked: () => false },
      authenticate: (t) => (t === 'secret-token' ? { ok: true, name: 'test', scopes: [...SCOPES] } : { ok: false, reason: 'unknown' }),
    },
    pino({ level: 'silent' }),
  );
});

afterAll(async () => {
  await app?.close();
  await log?.close();
  await fx?.close();
});

describe('tx log write failures at the API', () => {
  it('POST /txs while the log write fails: 503 STORE_UNWRITABLE naming the cause, Retry-After 30, nothing stored; after recovery 202', async () => {
    const tx = makeTx(fx, [{ epc: 'urn:x:api1', action: 'commission' }]);
    const id = toHex(txId(tx));
    fs.failNext('datasync', Object.assign(new Error('ENOSPC: no space left on device, fdatasync'), { code: 'ENOSPC' }));
    const res = await app.inject({ method: 'POST', url: '/txs', headers: auth, payload: JSON.stringify(tx) });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('30');
    expect(res.json()).toMatchObject({ status: 503, code: 'STORE_UNWRITABLE', detail: expect.stringMatching(/tx log write failed: ENOSPC.*not accepted/) });
    expect(fx.chain.mempool.size).toBe(0);
    expect((await app.inject({ method: 'GET', url: `/txs/${id}` })).statusCode).toBe(404);
    // Still refused until the log recovers (the write guard retries recover()).
    expect((await app.inject({ method: 'POST', url: '/txs', headers: auth, payload: JSON.stringify(tx) })).statusCode).toBe(503);
    await log.recover();
    const ok = await app.inject({ method: 'POST', url: '/txs', headers: auth, payload: JSON.stringify(tx) });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ txId: id });
    expect([...log.liveTxIds()]).toEqual([id]);
  });

  it('a full append queue is 503 TX_LOG_BUSY with Retry-After 1; a closed log 503 TX_LOG_CLOSED', () => {
    expect(toProblem(new TxLogError('TX_LOG_BUSY', 'the tx log has 9 bytes waiting', 1))).toMatchObject({ status: 503, code: 'TX_LOG_BUSY', retryAfterSeconds: 1 });
    expect(toProblem(new TxLogError('TX_LOG_CLOSED', 'the tx log is closed', 5))).toMatchObject({ status: 503, code: 'TX_LOG_CLOSED', retryAfterSeconds: 5 });
  });
});
