/**
 * `tracechain token create|list|revoke|rotate --data DIR`: the node's API tokens
 * (DATA/tokens.json, hashes only). Works while the node runs: the node sees a change at its next
 * request. `create` and `rotate` print the secret once; it is not stored anywhere.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { addToken, parseDuration, revokeToken, rotateToken, type TokenRecord } from '../../api/tokens.js';
import { parseScopes } from '../../api/scopes.js';
import { DataDir, FILES } from '../data-dir.js';
import { legacyRecords, readLastUsed, readTokenFile, updateTokenFile } from '../token-file.js';

export interface TokenFlags {
  data: string;
  name?: string;
  scope?: string;
  expires?: string;
  grace?: string;
  cert?: string;
  json?: boolean;
}

export class TokenCommandError extends Error {}

function newSecret(): string {
  return `tc_${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of a PEM client certificate's DER (what the node compares under mTLS). */
export async function certFingerprint(path: string): Promise<string> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(await readFile(path));
  } catch (err) {
    throw new TokenCommandError(`${path} is not a readable PEM certificate: ${(err as Error).message}`);
  }
  return createHash('sha256').update(cert.raw).digest('hex');
}

function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

function status(r: TokenRecord, now: number): string {
  if (r.revoked !== undefined) return 'revoked';
  if (r.expires !== undefined && r.expires <= now) return 'expired';
  return r.secrets.some((s) => s.notAfter !== undefined && s.notAfter > now) ? 'active (rotating)' : 'active';
}

export async function tokenCommand(action: string, flags: TokenFlags, out: NodeJS.WritableStream, clock: () => number = Date.now): Promise<number> {
  const dir = new DataDir(flags.data);
  const file = dir.file(FILES.tokens);
  const now = clock();
  const needName = (): string => {
    if (flags.name === undefined || flags.name === '') throw new TokenCommandError(`token ${action} needs a name`);
    return flags.name;
  };
  switch (action) {
    case 'create': {
      const name = needName();
      if (flags.scope === undefined) throw new TokenCommandError('token create needs --scope (some of read, capture, subscribe, verify, admin, private, comma-separated)');
      let scopes;
      let expiresInMs: number | undefined;
      try {
        scopes = parseScopes(flags.scope);
        expiresInMs = flags.expires !== undefined ? parseDuration(flags.expires) : undefined;
      } catch (err) {
        throw new TokenCommandError((err as Error).message);
      }
      if (legacyRecords(await dir.readTokenHashes(), await dir.readApiToken()).some((r) => r.name === name)) throw new TokenCommandError(`the name ${name} is taken by the node's own token`);
      const clientCertSha256 = flags.cert !== undefined ? await certFingerprint(flags.cert) : undefined;
      const secret = newSecret();
      await dir.ensure();
      await updateTokenFile(file, (records) => addToken(records, { name, scopes, ...(expiresInMs !== undefined ? { expiresInMs } : {}), ...(clientCertSha256 ? { clientCertSha256 } : {}) }, secret, now));
      if (flags.json) out.write(JSON.stringify({ name, scopes, secret, expires: expiresInMs !== undefined ? iso(now + expiresInMs) : null }) + '\n');
      else out.write(`${secret}\n`);
      process.stderr.write(`token ${name} (${scopes.join(', ')}) created${expiresInMs !== undefined ? `, expires ${iso(now + expiresInMs)}` : ''}; the secret above is shown only now\n`);
      return 0;
    }
    case 'rotate': {
      const name = needName();
      let graceMs: number;
      try {
        graceMs = parseDuration(flags.grace ?? '24h');
      } catch (err) {
        throw new TokenCommandError((err as Error).message);
      }
      const secret = newSecret();
      await updateTokenFile(file, (records) => rotateToken(records, name, secret, now, graceMs));
      if (flags.json) out.write(JSON.stringify({ name, secret, oldSecretUntil: iso(now + graceMs) }) + '\n');
      else out.write(`${secret}\n`);
      process.stderr.write(`token ${name} rotated; the previous secret works until ${iso(now + graceMs)}\n`);
      return 0;
    }
    case 'revoke': {
      const name = needName();
      await updateTokenFile(file, (records) => revokeToken(records, name, now));
      process.stderr.write(`token ${name} revoked: refused from the node's next request on\n`);
      return 0;
    }
    case 'list': {
      const records = [...legacyRecords(await dir.readTokenHashes(), await dir.readApiToken()), ...(await readTokenFile(file))];
      const used = await readLastUsed(dir.file(FILES.tokensUsed));
      const rows = records.map((r) => ({
        name: r.name,
        scopes: r.scopes,
        status: status(r, now),
        created: r.created === 0 ? null : iso(r.created),
        expires: r.expires === undefined ? null : iso(r.expires),
        lastUsed: used[r.name] === undefined ? null : iso(used[r.name]),
        ...(r.clientCertSha256 !== undefined ? { clientCertSha256: r.clientCertSha256 } : {}),
      }));
      if (flags.json) {
        out.write(JSON.stringify(rows) + '\n');
        return 0;
      }
      const table = [['name', 'scopes', 'status', 'created', 'expires', 'last used'], ...rows.map((r) => [r.name, r.scopes.join(','), r.status, r.created ?? '-', r.expires ?? '-', r.lastUsed ?? '-'])];
      const widths = (table[0] as string[]).map((_, i) => Math.max(...table.map((row) => (row[i] as string).length)));
      for (const row of table) out.write(row.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd() + '\n');
      return 0;
    }
    default:
      throw new TokenCommandError(`unknown token action "${action}"; choose create, list, revoke or rotate`);
  }
}
