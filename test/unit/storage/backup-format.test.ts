import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { BackupError, BackupWriter, checkBucketSums, readBackup, verifyBackup, type BackupManifest, type ByteSource } from '../../../src/storage/backup-format.js';

const CHAIN = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);

/** Entries of a few buckets, in key order. */
function entries(n: number): [Buffer, Buffer][] {
  const out: [Buffer, Buffer][] = [];
  for (let i = 0; i < n; i++) {
    const bucket = [0x01, 0x03, 0x0a][i % 3] as number;
    const key = Buffer.alloc(5);
    key[0] = bucket;
    key.writeUInt32BE(i, 1);
    out.push([key, Buffer.from(`value-${i}-${'x'.repeat(i % 50)}`)]);
  }
  return out.sort((a, b) => Buffer.compare(a[0], b[0]));
}

async function makeBackup(opts: { chainId?: string; passphrase?: string; n?: number } = {}): Promise<{ bytes: Buffer; manifest: BackupManifest }> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const w = await BackupWriter.start(sink, { chainId: opts.chainId ?? CHAIN, createdAt: '2026-12-07T00:00:00.000Z', ...(opts.passphrase ? { passphrase: opts.passphrase } : {}) });
  await w.file('genesis.json', Buffer.from('{"name":"x"}'));
  for (const [k, v] of entries(opts.n ?? 60)) await w.entry(k, v);
  const manifest = await w.finish({ consortium: 'x', tip: { hash: CHAIN, height: 7 }, schema: 2, includesKeys: !!opts.passphrase });
  return { bytes: Buffer.concat(chunks), manifest };
}

function memSource(bytes: Buffer, chunk = 97): ByteSource {
  return {
    size: bytes.length,
    read: async (start, length) => bytes.subarray(start, Math.min(bytes.length, start + length)),
    async *stream(start, end) {
      for (let o = start; o < end; o += chunk) yield bytes.subarray(o, Math.min(end, o + chunk));
    },
  };
}

async function refusal(p: Promise<unknown>): Promise<BackupError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BackupError);
    return err as BackupError;
  }
  throw new Error('the backup was accepted');
}

describe('backup file format', () => {
  it('reads back every file and entry it wrote, with the manifest', async () => {
    const { bytes, manifest } = await makeBackup();
    const got: [string, string][] = [];
    const gen = readBackup(memSource(bytes));
    let next = await gen.next();
    while (!next.done) {
      const r = next.value;
      got.push(r.type === 'file' ? [r.name, r.data.toString()] : [r.key.toString('hex'), r.value.toString()]);
      next = await gen.next();
    }
    expect(next.value).toEqual(manifest);
    expect(got[0]).toEqual(['genesis.json', '{"name":"x"}']);
    expect(got.slice(1)).toEqual(entries(60).map(([k, v]) => [k.toString('hex'), v.toString()]));
    expect(manifest.entries).toBe(60);
    expect(manifest.buckets.blocks?.count).toBe(20);
    expect(manifest.buckets.main?.count).toBe(20);
    expect(manifest.buckets.meta?.count).toBe(20);
    expect(manifest.buckets.links?.count).toBe(0);
    // The content is compressed: 60 entries of repetitive values take less than their raw size.
    const raw = entries(60).reduce((n, [k, v]) => n + 7 + k.length + v.length, 0);
    expect(bytes.length).toBeLessThan(raw);
  });

  it('refuses a file with any single flipped byte', async () => {
    const { bytes } = await makeBackup({ n: 12 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, x) => {
        const bad = Buffer.from(bytes);
        bad[at] = (bad[at] as number) ^ x;
        const err = await refusal(verifyBackup(memSource(bad)));
        expect(['NOT_A_BACKUP', 'DAMAGED', 'TRUNCATED', 'CHECKSUM_MISMATCH', 'UNSUPPORTED_FORMAT']).toContain(err.code);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a file cut at any length, naming truncation', async () => {
    const { bytes } = await makeBackup({ n: 12 });
    for (let len = 0; len < bytes.length; len += 7) {
      const err = await refusal(verifyBackup(memSource(bytes.subarray(0, len))));
      expect(['TRUNCATED', 'NOT_A_BACKUP']).toContain(err.code);
    }
    const err = await refusal(verifyBackup(memSource(bytes.subarray(0, bytes.length - 1))));
    expect(err.code).toBe('TRUNCATED');
    expect(err.message).toMatch(/truncated/);
  });

  it('refuses bytes after the end', async () => {
    const { bytes } = await makeBackup({ n: 3 });
    const err = await refusal(verifyBackup(memSource(Buffer.concat([bytes, Buffer.from([0])]))));
    expect(['DAMAGED', 'TRUNCATED', 'CHECKSUM_MISMATCH']).toContain(err.code);
  });

  it("refuses another consortium's backup before reading further", async () => {
    const { bytes } = await makeBackup({ chainId: OTHER });
    const err = await refusal(verifyBackup(memSource(bytes), { expectChainId: CHAIN }));
    expect(err.code).toBe('OTHER_CONSORTIUM');
    expect(err.message).toMatch(/another consortium/);
  });

  it('encrypted: reads back with the passphrase; refuses without it, with a wrong one, or with a flipped byte', async () => {
    const { bytes, manifest } = await makeBackup({ passphrase: 'correct horse', n: 10 });
    expect(bytes.includes(Buffer.from('genesis.json'))).toBe(false);
    expect(bytes.includes(Buffer.from('value-1'))).toBe(false);
    expect(await verifyBackup(memSource(bytes), { passphrase: 'correct horse' })).toEqual(manifest);
    expect((await refusal(verifyBackup(memSource(bytes)))).code).toBe('PASSPHRASE_NEEDED');
    expect((await refusal(verifyBackup(memSource(bytes), { passphrase: 'wrong' }))).code).toBe('BAD_PASSPHRASE');
    const bad = Buffer.from(bytes);
    const at = bytes.length - 40;
    bad[at] = (bad[at] as number) ^ 1;
    await refusal(verifyBackup(memSource(bad), { passphrase: 'correct horse' }));
  });

  it('refuses entries out of key order when writing', async () => {
    const w = await BackupWriter.start(new PassThrough().resume(), { chainId: CHAIN, createdAt: 'now' });
    await w.entry(Buffer.from([1, 2]), Buffer.from('a'));
    expect((await refusal(w.entry(Buffer.from([1, 1]), Buffer.from('b')))).code).toBe('DAMAGED');
  });
});

describe('bucket checksums against the manifest', () => {
  const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  it('a backup of a build before a bucket existed (no manifest entry) restores when it holds none of it; a listed bucket must match', () => {
    const manifest = { buckets: { blocks: { count: 2, sha256: 'ab'.repeat(32) } } };
    expect(() => checkBucketSums(manifest, new Map([['blocks', { count: 2, sha256: 'ab'.repeat(32) }], ['terms', { count: 0, sha256: EMPTY }]]))).not.toThrow();
    // Entries of a bucket the manifest does not name, or a count that differs: refused.
    expect(() => checkBucketSums(manifest, new Map([['terms', { count: 1, sha256: 'cd'.repeat(32) }]]))).toThrow(/bucket terms/);
    expect(() => checkBucketSums(manifest, new Map([['blocks', { count: 3, sha256: 'ab'.repeat(32) }]]))).toThrow(/bucket blocks/);
  });
});
