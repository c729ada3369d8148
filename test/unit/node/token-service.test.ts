/**
 * The node's tokens on disk: `tracechain token create|rotate|revoke|list` (the command's code) on
 * a data dir while a TokenService serves from it. A revocation holds from the next
 * authentication on, with no reload call, no signal and no wait; the legacy DATA/api-token stays
 * an all-scopes token named `node`; a malformed file stops a start but not a running node.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DataDir, FILES } from '../../../src/node/data-dir.js';
import { TokenService } from '../../../src/node/token-service.js';
import { tokenCommand } from '../../../src/node/commands/token.js';
import { SCOPES } from '../../../src/api/scopes.js';

let dir: string;
let now = 1_800_000_000_000;
const clock = (): number => now;

function sink(): { out: Writable; text: () => string } {
  let text = '';
  return {
    out: new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

async function token(action: string, flags: Record<string, string | boolean> = {}): Promise<string> {
  const s = sink();
  const code = await tokenCommand(action, { data: dir, ...flags }, s.out, clock);
  expect(code).toBe(0);
  return s.text().trim();
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracechain-tokens-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('token files and the node', () => {
  it('create, use, rotate with grace, revoke: each change holds at the next request; the file keeps only hashes', async () => {
    const legacy = await new DataDir(dir).createApiToken();
    const svc = new TokenService({ flushMs: 60_000 }, { dir: new DataDir(dir), clock, logger: pino({ level: 'silent' }) });
    svc.start();
    try {
      expect(svc.authenticate(legacy)).toEqual({ ok: true, name: 'node', scopes: [...SCOPES] });
      const secret = await token('create', { name: 'pharmacy-dispensing', scope: 'capture,read', expires: '90d' });
      expect(secret).toMatch(/^tc_[A-Za-z0-9_-]{43}$/);
      expect(await readFile(join(dir, FILES.tokens), 'utf8')).not.toContain(secret);
      expect(svc.authenticate(secret)).toEqual({ ok: true, name: 'pharmacy-dispensing', scopes: ['read', 'capture'] });

      const next = await token('rotate', { name: 'pharmacy-dispensing', grace: '1h' });
      expect(svc.authenticate(next)).toMatchObject({ ok: true });
      expect(svc.authenticate(secret)).toMatchObject({ ok: true });
      now += 3_600_000;
      expect(svc.authenticate(secret)).toMatchObject({ ok: false, reason: 'rotated' });

      await token('revoke', { name: 'pharmacy-dispensing' });
      expect(svc.authenticate(next)).toMatchObject({ ok: false, reason: 'revoked', name: 'pharmacy-dispensing' });
      expect(svc.authenticate(legacy)).toMatchObject({ ok: true });

      now += 90 * 86_400_000;
      const listed = JSON.parse(await token('list', { json: true })) as { name: string; status: string; scopes: string[] }[];
      expect(listed.map((t) => [t.name, t.status])).toEqual([
        ['node', 'active'],
        ['pharmacy-dispensing', 'revoked'],
      ]);
    } finally {
      await svc.stop();
    }
    // Last use is saved at stop and shown by list.
    const used = JSON.parse(await readFile(join(dir, FILES.tokensUsed), 'utf8')) as Record<string, number>;
    expect(Object.keys(used).sort()).toEqual(['node', 'pharmacy-dispensing']);
  });

  it('an expired token is refused with the reason; bad input to the command is refused with a message', async () => {
    const svc = new TokenService({ flushMs: 60_000 }, { dir: new DataDir(dir), clock, logger: pino({ level: 'silent' }) });
    svc.start();
    try {
      const s = await token('create', { name: 'auditor', scope: 'read', expires: '30m' });
      now += 30 * 60_000;
      expect(svc.authenticate(s)).toMatchObject({ ok: false, reason: 'expired', name: 'auditor' });
      await expect(tokenCommand('create', { data: dir, name: 'auditor', scope: 'read' }, sink().out, clock)).rejects.toThrow(/exists already/);
      await expect(tokenCommand('create', { data: dir, name: 'x', scope: 'write' }, sink().out, clock)).rejects.toThrow(/unknown scope\(s\) write/);
      await expect(tokenCommand('create', { data: dir, name: 'x', scope: 'read', expires: 'soon' }, sink().out, clock)).rejects.toThrow(/not a duration/);
      await expect(tokenCommand('revoke', { data: dir, name: 'nobody' }, sink().out, clock)).rejects.toThrow(/no token named nobody/);
    } finally {
      await svc.stop();
    }
  });

  it('a malformed token file stops a start; on a running node it keeps the tokens in force and says so', async () => {
    await writeFile(join(dir, FILES.tokens), '{"version":1,"tokens":[{"name":"x"}]}');
    const bad = new TokenService({ flushMs: 60_000 }, { dir: new DataDir(dir), clock, logger: pino({ level: 'silent' }) });
    expect(() => bad.start()).toThrow(/tokens\.json: token 0 \(x\): scopes must be/);
    await rm(join(dir, FILES.tokens));
    const svc = new TokenService({ flushMs: 60_000 }, { dir: new DataDir(dir), clock, logger: pino({ level: 'silent' }) });
    svc.start();
    try {
      const s = await token('create', { name: 'warehouse', scope: 'capture' });
      expect(svc.authenticate(s)).toMatchObject({ ok: true });
      await writeFile(join(dir, FILES.tokens), 'not json');
      expect(svc.authenticate(s)).toMatchObject({ ok: true });
    } finally {
      await svc.stop();
    }
  });
});
