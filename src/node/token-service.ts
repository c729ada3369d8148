/**
 * The node's view of its API tokens: DATA/tokens.json (named, scoped tokens) plus the legacy
 * DATA/api-tokens.sha256 lines, looked up by TokenRegistry. Both files' (inode, size, mtime) are
 * checked at every authenticated request and re-read when they changed, so `tracechain token
 * revoke` holds from the node's next request on, without a restart or a signal. Last-use times
 * are flushed to DATA/tokens-used.json every few seconds and at stop.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { TokenRegistry, type AuthOutcome, type TokenRecord } from '../api/tokens.js';
import { fileStamp, legacyRecords, readTokenFileSync, writeAtomic } from './token-file.js';
import { FILES, type DataDir } from './data-dir.js';
import { isHex } from '../common/bytes.js';

export class TokenService {
  private registry: TokenRegistry;
  private stamp = '';
  private readonly used = new Map<string, number>();
  private flushedUse = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly opts: { flushMs: number },
    private readonly modules: { dir: DataDir; clock: () => number; logger: Logger },
  ) {
    this.log = modules.logger.child({ module: 'tokens' });
    this.registry = new TokenRegistry([], modules.clock, this.used);
  }

  /** Read the files now; throws if tokens.json is malformed (the node must not start on a bad file). */
  start(): void {
    this.reload('start', true);
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs);
    this.timer.unref();
  }

  get size(): number {
    return this.registry.size;
  }

  /** When the token was last used (ms since the epoch), as this process saw it; undefined: not since start. */
  lastUsed(name: string): number | undefined {
    return this.used.get(name);
  }

  authenticate(secret: string): AuthOutcome {
    this.refresh();
    return this.registry.authenticate(secret);
  }

  authenticateCert(sha256: string): AuthOutcome {
    this.refresh();
    return this.registry.authenticateCert(sha256);
  }

  /** Re-read the files (SIGHUP); returns the number of tokens. */
  reload(reason: string, throwOnError = false): number {
    const { dir } = this.modules;
    try {
      const stamp = this.currentStamp();
      const records: TokenRecord[] = [...legacyRecords(this.readLegacy(), this.readNodeToken()), ...readTokenFileSync(dir.file(FILES.tokens))];
      const before = this.registry.records;
      this.registry = new TokenRegistry(records, this.modules.clock, this.used);
      this.stamp = stamp;
      const gone = before.filter((r) => !records.some((n) => n.name === r.name && n.revoked === undefined)).length;
      const revoked = records.filter((r) => r.revoked !== undefined && before.some((b) => b.name === r.name && b.revoked === undefined)).length;
      this.log.info({ reason, tokens: records.length, revoked: revoked + gone }, 'API tokens reloaded');
    } catch (err) {
      if (throwOnError) throw err;
      // Keep serving with the tokens as they were; say so once per change of the files.
      this.stamp = this.currentStamp();
      this.log.error({ err: (err as Error).message, reason }, 'API tokens not reloaded: a token file could not be read; the previous tokens stay in force');
    }
    return this.registry.size;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private refresh(): void {
    if (this.currentStamp() !== this.stamp) this.reload('file changed');
  }

  private currentStamp(): string {
    const { dir } = this.modules;
    return `${fileStamp(dir.file(FILES.tokens))}|${fileStamp(dir.file(FILES.apiTokenHashes))}`;
  }

  private readLegacy(): string[] {
    try {
      return readFileSync(this.modules.dir.file(FILES.apiTokenHashes), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => isHex(l, 32));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private readNodeToken(): string | undefined {
    try {
      return readFileSync(this.modules.dir.file(FILES.apiToken), 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async flush(): Promise<void> {
    let newest = 0;
    for (const t of this.used.values()) newest = Math.max(newest, t);
    if (newest <= this.flushedUse) return;
    try {
      await writeAtomic(this.modules.dir.file(FILES.tokensUsed), JSON.stringify(Object.fromEntries(this.used)) + '\n');
      this.flushedUse = newest;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'token last-use times not saved; will retry');
    }
  }
}
