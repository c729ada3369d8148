/**
 * The backup file format: one file holding a consistent copy of a node's chain database (every
 * LevelDB entry of one snapshot, in key order), a few data-directory files, and a manifest.
 *
 *   magic "TRACECHAIN-BACKUP-1\n" (20 bytes) ‖ u32 BE header length ‖ header (UTF-8 JSON:
 *   format, chainId, createdAt, compression, encryption) ‖ body ‖ (encrypted: 16-byte GCM tag)
 *   ‖ SHA-256 of every byte of the file before it (32 bytes)
 *
 * The body is the payload gzip-compressed (level 1: JSON compresses ~7×; 1.83 GiB in 62 s, under load, in
 * zlib's thread pool), then, when encrypted, AES-256-GCM ciphertext of that (key from scrypt
 * over the passphrase; the header is the additional authenticated data; a key check value in the
 * header tells a wrong passphrase from a damaged file). The last 32 bytes make any changed byte
 * of the file, in the compressed form too, a refusal. The payload is a sequence of records,
 * big-endian lengths:
 *
 *   0x01 file:     u16 name length ‖ name ‖ u32 data length ‖ data
 *   0x02 entry:    u16 key length ‖ key ‖ u32 value length ‖ value   (key[0] is the bucket)
 *   0x03 manifest: u32 length ‖ manifest JSON (last record)
 *   then 32 bytes: SHA-256(header bytes ‖ every payload byte before it)
 *
 * Each bucket's checksum is SHA-256 over its entry records (from the u16 on), in order; each
 * file's, SHA-256 of its data. The manifest is written last, because counts and checksums are
 * known only at the end of the stream; a reader checks everything as it goes and at the end.
 *
 * Writing is streamed with backpressure (the writer waits for the sink's 'drain'); reading is a
 * streaming parser over any async source of chunks, so neither holds the file in memory.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, scrypt, timingSafeEqual, type CipherGCM, type DecipherGCM, type Hash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform, type Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { toHex } from '../common/bytes.js';
import { ErrorWithCode } from '../common/errors.js';
import { BUCKET_NAMES, BUCKETS, type BucketName } from './repositories.js';

export const BACKUP_MAGIC = new TextEncoder().encode('TRACECHAIN-BACKUP-1\n');
export const BACKUP_FORMAT = 1;
const MAX_HEADER = 64 * 1024;
const MAX_MANIFEST = 1024 * 1024;
const MAX_FILE = 16 * 1024 * 1024;
const TAG_BYTES = 16;
const DIGEST_BYTES = 32;
const REC_FILE = 0x01;
const REC_ENTRY = 0x02;
const REC_MANIFEST = 0x03;
/** Bytes collected before one write to the sink. */
const FLUSH_BYTES = 64 * 1024;

/** scrypt cost: N=2^15, r=8 (32 MiB of memory, ~0.1 s): OWASP's minimum for scrypt. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;

export type BackupErrorCode =
  | 'NOT_A_BACKUP'
  | 'UNSUPPORTED_FORMAT'
  | 'TRUNCATED'
  | 'DAMAGED'
  | 'CHECKSUM_MISMATCH'
  | 'OTHER_CONSORTIUM'
  | 'PASSPHRASE_NEEDED'
  | 'BAD_PASSPHRASE'
  | 'TARGET_NOT_EMPTY'
  | 'AUDIT_FAILED'
  | 'BACKUP_RUNNING';

/** Why a backup file was refused, or a backup or restore could not proceed. */
export class BackupError extends ErrorWithCode<BackupErrorCode> {}

export interface BackupEncryption {
  cipher: 'aes-256-gcm';
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  /** HMAC-SHA256(key, "tracechain/backup/key-check"), first 16 bytes, hex: tells a wrong passphrase at once. */
  keyCheck: string;
}

export interface BackupHeader {
  format: number;
  chainId: string;
  createdAt: string;
  compression: 'gzip';
  encryption: BackupEncryption | null;
}

export interface SectionSum {
  count: number;
  sha256: string;
}

export interface BackupManifest {
  format: number;
  chainId: string;
  consortium: string;
  createdAt: string;
  tip: { hash: string; height: number };
  schema: number;
  /** Entries and checksum per bucket (every bucket, empty ones with count 0). */
  buckets: Record<string, SectionSum>;
  entries: number;
  /** Data-directory files: bytes and SHA-256. */
  files: Record<string, { bytes: number; sha256: string }>;
  includesKeys: boolean;
}

export type ManifestInfo = Omit<BackupManifest, 'format' | 'chainId' | 'createdAt' | 'buckets' | 'entries' | 'files'>;

const EMPTY_SHA256 = createHash('sha256').digest('hex');
const bucketByPrefix = new Map<number, BucketName>(BUCKET_NAMES.map((n) => [BUCKETS[n], n]));

function bucketName(prefix: number): string {
  return bucketByPrefix.get(prefix) ?? `0x${prefix.toString(16).padStart(2, '0')}`;
}

export async function deriveKey(passphrase: string, enc: Pick<BackupEncryption, 'N' | 'r' | 'p' | 'salt'>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase, Buffer.from(enc.salt, 'hex'), 32, { N: enc.N, r: enc.r, p: enc.p, maxmem: 256 * enc.N * enc.r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update('tracechain/backup/key-check').digest().subarray(0, 16).toString('hex');
}

/** A pass-through that hashes and counts what flows through it. */
class Tap extends Transform {
  bytes = 0;
  constructor(readonly hash: Hash) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

function encodeHeader(h: BackupHeader): Uint8Array {
  const json = Buffer.from(JSON.stringify(h), 'utf8');
  const out = Buffer.alloc(BACKUP_MAGIC.length + 4 + json.length);
  out.set(BACKUP_MAGIC, 0);
  out.writeUInt32BE(json.length, BACKUP_MAGIC.length);
  out.set(json, BACKUP_MAGIC.length + 4);
  return out;
}

/** Write a Buffer to a sink, waiting for 'drain' when it is full (and failing if it closes). */
export async function writeWithBackpressure(out: Writable, bytes: Uint8Array): Promise<void> {
  if (out.destroyed || out.writableEnded) throw new BackupError('DAMAGED', 'the backup output was closed before the backup ended');
  if (out.write(bytes)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new BackupError('DAMAGED', 'the backup output was closed before the backup ended'));
    const onError = (e: Error): void => done(e);
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', onError);
  });
}

/**
 * Writes one backup file to a sink: files, then database entries in key order, then finish()
 * with the manifest's remaining fields. Not reusable.
 */
export class BackupWriter {
  private readonly digest = createHash('sha256');
  private readonly buckets = new Map<number, { count: number; hash: Hash }>();
  private readonly files: BackupManifest['files'] = {};
  private entries = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lastKey: Buffer | undefined;
  private readonly gzip = createGzip({ level: 1 });
  private readonly tap = new Tap(createHash('sha256'));
  private readonly done: Promise<void>;
  private failed: Error | undefined;

  private constructor(
    private readonly out: Writable,
    private readonly header: BackupHeader,
    headerBytes: Uint8Array,
    private readonly cipher: CipherGCM | undefined,
  ) {
    this.tap.hash.update(headerBytes);
    this.tap.bytes = headerBytes.length;
    // payload → gzip → (cipher) → tap (file hash) → out; out stays open for the tag and the hash.
    const stages: NodeJS.ReadWriteStream[] = cipher ? [this.gzip, cipher, this.tap] : [this.gzip, this.tap];
    this.done = pipeline([...stages, out] as unknown as [Readable, Writable], { end: false });
    this.done.catch((err: Error) => {
      this.failed = err;
    });
  }

  /** Start a backup on `out`; with a passphrase the payload is encrypted (scrypt + AES-256-GCM). */
  static async start(out: Writable, opts: { chainId: string; createdAt: string; passphrase?: string }): Promise<BackupWriter> {
    let encryption: BackupEncryption | null = null;
    let cipher: CipherGCM | undefined;
    if (opts.passphrase !== undefined) {
      if (opts.passphrase.length === 0) throw new BackupError('PASSPHRASE_NEEDED', 'an encrypted backup needs a non-empty passphrase');
      const params = { ...SCRYPT, salt: randomBytes(16).toString('hex') };
      const key = await deriveKey(opts.passphrase, params);
      encryption = { cipher: 'aes-256-gcm', kdf: 'scrypt', ...params, iv: randomBytes(12).toString('hex'), keyCheck: keyCheck(key) };
      cipher = createCipheriv('aes-256-gcm', key, Buffer.from(encryption.iv, 'hex'));
    }
    const header: BackupHeader = { format: BACKUP_FORMAT, chainId: opts.chainId, createdAt: opts.createdAt, compression: 'gzip', encryption };
    const headerBytes = encodeHeader(header);
    cipher?.setAAD(headerBytes);
    await writeWithBackpressure(out, headerBytes);
    const w = new BackupWriter(out, header, headerBytes, cipher);
    w.digest.update(headerBytes);
    return w;
  }

  /** Bytes of the file so far. */
  get written(): number {
    return this.tap.bytes;
  }

  async file(name: string, data: Uint8Array): Promise<void> {
    const n = Buffer.from(name, 'utf8');
    if (n.length === 0 || n.length > 255 || name.includes('/') || name.startsWith('.')) throw new BackupError('DAMAGED', `bad backup file name ${JSON.stringify(name)}`);
    if (data.length > MAX_FILE) throw new BackupError('DAMAGED', `${name} is larger than ${MAX_FILE} bytes`);
    if (this.files[name]) throw new BackupError('DAMAGED', `${name} twice in one backup`);
    const rec = Buffer.alloc(1 + 2 + n.length + 4);
    rec[0] = REC_FILE;
    rec.writeUInt16BE(n.length, 1);
    rec.set(n, 3);
    rec.writeUInt32BE(data.length, 3 + n.length);
    this.files[name] = { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    await this.payload(rec);
    await this.payload(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  /** One database entry; keys must come in strictly increasing order (one snapshot's iteration). */
  async entry(key: Uint8Array, value: Uint8Array): Promise<void> {
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
    if (k.length === 0 || k.length > 0xffff) throw new BackupError('DAMAGED', `database key of ${k.length} bytes cannot be backed up`);
    if (this.lastKey && Buffer.compare(this.lastKey, k) >= 0) throw new BackupError('DAMAGED', 'database entries out of order');
    this.lastKey = Buffer.from(k);
    const rec = Buffer.alloc(1 + 2 + k.length + 4 + value.length);
    rec[0] = REC_ENTRY;
    rec.writeUInt16BE(k.length, 1);
    rec.set(k, 3);
    rec.writeUInt32BE(value.length, 3 + k.length);
    rec.set(value, 7 + k.length);
    const prefix = k[0] as number;
    let b = this.buckets.get(prefix);
    if (!b) {
      b = { count: 0, hash: createHash('sha256') };
      this.buckets.set(prefix, b);
    }
    b.count++;
    b.hash.update(rec.subarray(1));
    this.entries++;
    await this.payload(rec);
  }

  /** Write the manifest, the digests (and the tag), and end the sink. Returns the manifest. */
  async finish(info: ManifestInfo): Promise<BackupManifest> {
    const buckets: Record<string, SectionSum> = {};
    for (const name of BUCKET_NAMES) buckets[name] = { count: 0, sha256: EMPTY_SHA256 };
    for (const [prefix, b] of this.buckets) buckets[bucketName(prefix)] = { count: b.count, sha256: b.hash.digest('hex') };
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      chainId: this.header.chainId,
      consortium: info.consortium,
      createdAt: this.header.createdAt,
      tip: info.tip,
      schema: info.schema,
      buckets,
      entries: this.entries,
      files: this.files,
      includesKeys: info.includesKeys,
    };
    const json = Buffer.from(JSON.stringify(manifest), 'utf8');
    const rec = Buffer.alloc(5);
    rec[0] = REC_MANIFEST;
    rec.writeUInt32BE(json.length, 1);
    await this.payload(rec);
    await this.payload(json);
    this.queue(this.digest.digest());
    await this.flush();
    this.gzip.end();
    await this.done;
    const tail: Buffer[] = [];
    if (this.cipher) tail.push(this.cipher.getAuthTag());
    for (const t of tail) this.tap.hash.update(t);
    tail.push(this.tap.hash.digest());
    for (const t of tail) await writeWithBackpressure(this.out, t);
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
    return manifest;
  }

  private async payload(bytes: Buffer): Promise<void> {
    this.digest.update(bytes);
    this.queue(bytes);
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private queue(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.pendingBytes === 0) return;
    const chunk = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await writeWithBackpressure(this.gzip, chunk);
  }
}

/** What a reader hands out, in file order. */
export type BackupRecord = { type: 'file'; name: string; data: Buffer } | { type: 'entry'; key: Buffer; value: Buffer };

/** A random-access byte source (a file): size and reads at a position. */
export interface ByteSource {
  size: number;
  /** Read [start, end) as a stream of chunks. */
  stream(start: number, end: number): AsyncIterable<Uint8Array>;
  read(start: number, length: number): Promise<Buffer>;
}

/**
 * Each bucket's count and checksum as the manifest says them. A backup taken by a build before a
 * bucket existed (the query index's `terms`) does not name it, and holds none of it.
 */
export function checkBucketSums(manifest: Pick<BackupManifest, 'buckets'>, sums: ReadonlyMap<BucketName, SectionSum>): void {
  for (const [name, sum] of sums) {
    const want = manifest.buckets?.[name];
    if (want === undefined && sum.count === 0) continue;
    if (!want || want.count !== sum.count || want.sha256 !== sum.sha256) throw new BackupError('CHECKSUM_MISMATCH', `bucket ${name}: the manifest says ${want?.count ?? '?'} entries (${want?.sha256.slice(0, 16) ?? '?'}…), the file holds ${sum.count} (${sum.sha256.slice(0, 16)}…)`);
  }
}

/** Accumulates chunks and hands out exact byte counts. */
class ChunkReader {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  consumed = 0;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** The next n bytes, or undefined if the source ends first (a truncated file). */
  async take(n: number): Promise<Buffer | undefined> {
    while (this.buf.length - this.off < n) {
      const next = await this.it.next();
      if (next.done) return undefined;
      const c = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      this.buf = this.off < this.buf.length ? Buffer.concat([this.buf.subarray(this.off), c]) : c;
      this.off = 0;
    }
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    this.consumed += n;
    return out;
  }

  /** True when nothing is left. */
  async atEnd(): Promise<boolean> {
    if (this.off < this.buf.length) return false;
    for (;;) {
      const next = await this.it.next();
      if (next.done) return true;
      if (next.value.byteLength > 0) {
        this.buf = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        this.off = 0;
        return false;
      }
    }
  }
}

/** Read and check the header of a backup (the first bytes of the file). */
export async function readBackupHeader(src: ByteSource): Promise<{ header: BackupHeader; headerBytes: Buffer }> {
  const lead = BACKUP_MAGIC.length + 4;
  if (src.size < lead) throw new BackupError(src.size === 0 ? 'TRUNCATED' : 'NOT_A_BACKUP', src.size === 0 ? 'the file is empty' : 'not a tracechain backup (too short for its header)');
  const first = await src.read(0, lead);
  if (!first.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) throw new BackupError('NOT_A_BACKUP', 'not a tracechain backup (its first bytes are not the backup magic)');
  const len = first.readUInt32BE(BACKUP_MAGIC.length);
  if (len > MAX_HEADER) throw new BackupError('DAMAGED', `the file is damaged: the header claims ${len} bytes (at most ${MAX_HEADER})`);
  if (src.size < lead + len) throw new BackupError('TRUNCATED', 'the file ends inside its header');
  const headerBytes = await src.read(0, lead + len);
  let header: BackupHeader;
  try {
    header = JSON.parse(headerBytes.subarray(lead).toString('utf8')) as BackupHeader;
  } catch {
    throw new BackupError('DAMAGED', 'the file is damaged: the header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || typeof header.chainId !== 'string' || !/^[0-9a-f]{64}$/.test(header.chainId)) throw new BackupError('DAMAGED', 'the file is damaged: the header has no valid chainId');
  if (header.format !== BACKUP_FORMAT) throw new BackupError('UNSUPPORTED_FORMAT', `backup format ${String(header.format)} is not supported by this build (it reads format ${BACKUP_FORMAT})`);
  const enc = header.encryption;
  if (enc !== null && (typeof enc !== 'object' || enc.cipher !== 'aes-256-gcm' || enc.kdf !== 'scrypt' || !/^[0-9a-f]{32}$/.test(String(enc.salt)) || !/^[0-9a-f]{24}$/.test(String(enc.iv)) || ![enc.N, enc.r, enc.p].every((x) => Number.isInteger(x) && x > 0) || enc.N > 1 << 20 || enc.r > 32 || enc.p > 16 || !/^[0-9a-f]{32}$/.test(String(enc.keyCheck)))) {
    throw new BackupError('DAMAGED', 'the file is damaged: the header names an unknown or malformed encryption');
  }
  if (header.compression !== 'gzip') throw new BackupError('UNSUPPORTED_FORMAT', `compression ${JSON.stringify(header.compression)} is not supported by this build`);
  return { header, headerBytes };
}

/** What a failure of the decompression (or decryption) stream means for the file. */
function streamFailure(err: unknown, fileIntact: boolean | undefined): BackupError {
  if (err instanceof BackupError) return err;
  const e = err as NodeJS.ErrnoException;
  const msg = e?.message ?? String(err);
  if (fileIntact === false && (e?.code === 'Z_BUF_ERROR' || /unexpected end/i.test(msg))) return new BackupError('TRUNCATED', `the file is truncated (its compressed body ends early: ${msg})`, { cause: err });
  if (/unable to authenticate|auth/i.test(msg)) {
    return fileIntact === true
      ? new BackupError('BAD_PASSPHRASE', 'the encrypted backup does not authenticate with this passphrase', { cause: err })
      : new BackupError('CHECKSUM_MISMATCH', 'the encrypted backup does not authenticate and its file checksum does not match: the file is damaged or truncated', { cause: err });
  }
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end/i.test(msg)) return new BackupError('TRUNCATED', `the file is truncated (its compressed body ends early: ${msg})`, { cause: err });
  return new BackupError('DAMAGED', `the file is damaged: its compressed body does not decompress (${msg})`, { cause: err });
}

export interface ReadBackupOptions {
  /** Needed for an encrypted backup. */
  passphrase?: string;
  /** Refuse (OTHER_CONSORTIUM) unless the backup's chain ID is this one. */
  expectChainId?: string;
  onProgress?: (bytes: number, total: number) => void;
}

/**
 * Read a backup, checking it as it goes: yields its records, and returns the manifest once the
 * digest, every bucket's and file's checksum, the counts (and the GCM tag) all hold. A caller
 * that writes what it reads must discard everything if the generator throws.
 */
export async function* readBackup(src: ByteSource, opts: ReadBackupOptions = {}): AsyncGenerator<BackupRecord, BackupManifest, undefined> {
  const { header, headerBytes } = await readBackupHeader(src);
  if (opts.expectChainId !== undefined && header.chainId !== opts.expectChainId) {
    throw new BackupError('OTHER_CONSORTIUM', `the backup is of another consortium (chain ${header.chainId.slice(0, 16)}…, this one is ${opts.expectChainId.slice(0, 16)}…)`);
  }
  if (src.size < headerBytes.length + DIGEST_BYTES + (header.encryption ? TAG_BYTES : 0)) throw new BackupError('TRUNCATED', 'the file is truncated: it ends before its body');
  const storedFileHash = await src.read(src.size - DIGEST_BYTES, DIGEST_BYTES);
  let end = src.size - DIGEST_BYTES;
  let decipher: DecipherGCM | undefined;
  if (header.encryption) {
    if (opts.passphrase === undefined) throw new BackupError('PASSPHRASE_NEEDED', 'the backup is encrypted (it holds keys): give its passphrase');
    const key = await deriveKey(opts.passphrase, header.encryption);
    const check = Buffer.from(keyCheck(key), 'hex');
    if (!timingSafeEqual(check, Buffer.from(header.encryption.keyCheck, 'hex'))) throw new BackupError('BAD_PASSPHRASE', 'wrong passphrase for this encrypted backup');
    end -= TAG_BYTES;
    decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.encryption.iv, 'hex'));
    decipher.setAAD(headerBytes);
    decipher.setAuthTag(await src.read(end, TAG_BYTES));
  }
  const total = src.size;
  // The raw body, hashed as it is read: with the header and the tag it must give the file's last 32 bytes.
  const fileHash = createHash('sha256').update(headerBytes);
  let fileIntact: boolean | undefined;
  let rawRead = headerBytes.length;
  const rawBody = src.stream(headerBytes.length, end);
  const tagRange = header.encryption ? { start: end, length: TAG_BYTES } : undefined;
  const hashed = async function* (): AsyncGenerator<Uint8Array> {
    for await (const c of rawBody) {
      fileHash.update(c);
      rawRead += c.length;
      yield c;
    }
    if (tagRange) fileHash.update(await src.read(tagRange.start, tagRange.length));
    fileIntact = fileHash.digest().equals(storedFileHash);
  };
  const gunzip = createGunzip();
  const stages: NodeJS.ReadWriteStream[] = decipher ? [decipher, gunzip] : [gunzip];
  const flowing = pipeline([Readable.from(hashed()), ...stages] as unknown as [Readable, Writable]);
  flowing.catch(() => undefined); // the error also reaches the gunzip iteration below
  const plain = (async function* (): AsyncGenerator<Uint8Array> {
    try {
      for await (const c of gunzip as AsyncIterable<Buffer>) yield c;
      await flowing;
    } catch (err) {
      throw streamFailure(err, fileIntact);
    }
  })();
  const r = new ChunkReader(plain[Symbol.asyncIterator]());
  const digest = createHash('sha256').update(headerBytes);
  const buckets = new Map<number, { count: number; hash: Hash }>();
  const files: BackupManifest['files'] = {};
  let entries = 0;
  let lastKey: Buffer | undefined;
  let lastProgress = 0;
  const need = async (n: number, what: string): Promise<Buffer> => {
    const b = await r.take(n);
    if (!b) throw new BackupError('TRUNCATED', `the file is truncated: its content ends inside ${what}, ${r.consumed} bytes into it`);
    digest.update(b);
    return b;
  };
  let manifestJson: Buffer | undefined;
  while (!manifestJson) {
    const type = (await need(1, 'a record'))[0];
    if (type === REC_ENTRY) {
      const head = await need(2, 'an entry');
      const klen = head.readUInt16BE(0);
      const key = Buffer.from(await need(klen, 'an entry key'));
      const vlenB = await need(4, 'an entry');
      const vlen = vlenB.readUInt32BE(0);
      if (vlen > 64 * 1024 * 1024) throw new BackupError('DAMAGED', `the file is damaged: an entry claims a value of ${vlen} bytes`);
      const value = Buffer.from(await need(vlen, 'an entry value'));
      if (klen === 0 || (lastKey && Buffer.compare(lastKey, key) >= 0)) throw new BackupError('DAMAGED', `the file is damaged: database entries out of order at entry ${entries + 1}`);
      lastKey = key;
      const prefix = key[0] as number;
      let b = buckets.get(prefix);
      if (!b) {
        b = { count: 0, hash: createHash('sha256') };
        buckets.set(prefix, b);
      }
      b.count++;
      b.hash.update(head).update(key).update(vlenB).update(value);
      entries++;
      yield { type: 'entry', key, value };
    } else if (type === REC_FILE) {
      const nlen = (await need(2, 'a file record')).readUInt16BE(0);
      const name = (await need(nlen, 'a file name')).toString('utf8');
      if (nlen === 0 || name.includes('/') || name.startsWith('.')) throw new BackupError('DAMAGED', `the file is damaged: bad file name ${JSON.stringify(name)} in it`);
      const len = (await need(4, 'a file record')).readUInt32BE(0);
      if (len > MAX_FILE) throw new BackupError('DAMAGED', `the file is damaged: file ${name} claims ${len} bytes`);
      const data = Buffer.from(await need(len, `file ${name}`));
      files[name] = { bytes: len, sha256: createHash('sha256').update(data).digest('hex') };
      yield { type: 'file', name, data };
    } else if (type === REC_MANIFEST) {
      const len = (await need(4, 'the manifest')).readUInt32BE(0);
      if (len > MAX_MANIFEST) throw new BackupError('DAMAGED', `the file is damaged: the manifest claims ${len} bytes`);
      manifestJson = Buffer.from(await need(len, 'the manifest'));
    } else {
      throw new BackupError('DAMAGED', `unknown record type 0x${(type ?? 0).toString(16)} ${r.consumed - 1} bytes into the content (the file is damaged)`);
    }
    if (opts.onProgress && rawRead - lastProgress > 1 << 20) {
      lastProgress = rawRead;
      opts.onProgress(Math.min(rawRead, total), total);
    }
  }
  const expected = digest.digest();
  const stored = await r.take(32);
  if (!stored) throw new BackupError('TRUNCATED', 'the file is truncated: it ends before its final checksum');
  if (!(await r.atEnd())) throw new BackupError('DAMAGED', 'bytes follow the final checksum (the file is damaged or two files were joined)');
  if (fileIntact !== true) throw new BackupError('CHECKSUM_MISMATCH', "the file's SHA-256 (its last 32 bytes) does not match its content: the file is damaged");
  if (!expected.equals(stored)) throw new BackupError('CHECKSUM_MISMATCH', `the file's SHA-256 checksum does not match its content (expected ${toHex(stored)}, content hashes to ${toHex(expected)}): the file is damaged`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(manifestJson.toString('utf8')) as BackupManifest;
  } catch {
    throw new BackupError('DAMAGED', 'the file is damaged: the manifest is not valid JSON');
  }
  if (manifest.chainId !== header.chainId) throw new BackupError('DAMAGED', 'the file is damaged: the manifest and the header name different chains');
  if (manifest.entries !== entries) throw new BackupError('CHECKSUM_MISMATCH', `the manifest counts ${manifest.entries} entries, the file holds ${entries}`);
  const sums = new Map<BucketName, SectionSum>();
  for (const name of BUCKET_NAMES) {
    const got = buckets.get(BUCKETS[name]);
    sums.set(name, { count: got?.count ?? 0, sha256: got ? got.hash.digest('hex') : EMPTY_SHA256 });
  }
  checkBucketSums(manifest, sums);
  for (const prefix of buckets.keys()) if (!bucketByPrefix.has(prefix)) throw new BackupError('DAMAGED', `the file is damaged: entries of an unknown bucket ${bucketName(prefix)}`);
  for (const [name, f] of Object.entries(files)) {
    const want = manifest.files?.[name];
    if (!want || want.bytes !== f.bytes || want.sha256 !== f.sha256) throw new BackupError('CHECKSUM_MISMATCH', `file ${name} does not match the manifest`);
  }
  if (Object.keys(manifest.files ?? {}).length !== Object.keys(files).length) throw new BackupError('CHECKSUM_MISMATCH', 'the manifest lists files the backup does not hold');
  opts.onProgress?.(total, total);
  return manifest;
}

/** Run a reader to its end, discarding the records: verifies the whole file. */
export async function verifyBackup(src: ByteSource, opts: ReadBackupOptions = {}): Promise<BackupManifest> {
  const gen = readBackup(src, opts);
  for (;;) {
    const next = await gen.next();
    if (next.done) return next.value;
  }
}
