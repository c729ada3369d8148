/**
 * Token management over HTTP, done on the node's token file (DATA/tokens.json) exactly as
 * `tracechain token` does it (node/commands/token.ts): written whole under the lock file, seen by
 * the TokenService at its next request. The rules are api/token-admin.ts's.
 */
import { randomBytes } from 'node:crypto';
import { apiCreate, apiRevoke, apiRotate, TokenAdminError, tokenView, type TokenAdmin, type TokenView } from '../api/token-admin.js';
import type { TokenRecord } from '../api/tokens.js';
import { DataDir, FILES } from './data-dir.js';
import { legacyRecords, readTokenFile, TokenFileBusyError, updateTokenFile } from './token-file.js';

export class FileTokenAdmin implements TokenAdmin {
  private readonly file: string;

  constructor(private readonly modules: { dir: DataDir; clock: () => number; lastUsed: (name: string) => number | undefined }) {
    this.file = modules.dir.file(FILES.tokens);
  }

  async list(): Promise<TokenView[]> {
    const now = this.modules.clock();
    return (await readTokenFile(this.file)).map((r) => tokenView(r, now, this.modules.lastUsed(r.name)));
  }

  async create(spec: { name: string; scopes: TokenRecord['scopes']; expiresInMs?: number }): Promise<{ token: TokenView; secret: string }> {
    const { dir, clock } = this.modules;
    const now = clock();
    const reserved = new Set(legacyRecords(await dir.readTokenHashes(), await dir.readApiToken()).map((r) => r.name));
    const secret = newSecret();
    const records = await this.update((rs) => apiCreate(rs, spec, secret, now, reserved));
    return { token: this.view(records, spec.name, now), secret };
  }

  async rotate(name: string, graceMs: number): Promise<{ token: TokenView; secret: string; previousUntil: string }> {
    const now = this.modules.clock();
    const secret = newSecret();
    const records = await this.update((rs) => apiRotate(rs, name, secret, now, graceMs));
    return { token: this.view(records, name, now), secret, previousUntil: new Date(now + graceMs).toISOString() };
  }

  async revoke(name: string): Promise<TokenView> {
    const now = this.modules.clock();
    return this.view(await this.update((rs) => apiRevoke(rs, name, now)), name, now);
  }

  private async update(change: (records: TokenRecord[]) => TokenRecord[]): Promise<TokenRecord[]> {
    try {
      return await updateTokenFile(this.file, change);
    } catch (err) {
      if (err instanceof TokenFileBusyError) throw new TokenAdminError('TOKEN_FILE_BUSY', err.message);
      throw err;
    }
  }

  private view(records: readonly TokenRecord[], name: string, now: number): TokenView {
    const r = records.find((x) => x.name === name);
    if (r === undefined) throw new Error(`token ${name} missing from the file just written`);
    return tokenView(r, now, this.modules.lastUsed(name));
  }
}

function newSecret(): string {
  return `tc_${randomBytes(32).toString('base64url')}`;
}
