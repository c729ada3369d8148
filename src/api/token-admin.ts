/**
 * Token management over HTTP (`/admin/tokens`, routes/tokens.ts): what the routes need from the
 * node, and the rules, pure (the clock and the secret are passed in). The node implements
 * TokenAdmin over its token file (node/token-admin.ts), as `tracechain token` does.
 *
 * Off unless `api.tokenApi` is set: with it, an `admin` token can make, rotate and revoke client
 * tokens, which widens what a stolen admin token can do (docs/security.md). Even then, tokens
 * that hold `admin` are made, rotated and revoked only with the CLI on the node's host: an admin
 * token cannot mint another admin token, nor lock the operator out.
 */
import { addToken, revokeToken, rotateToken, TOKEN_NAME, type TokenRecord } from './tokens.js';
import type { Scope } from './scopes.js';
import type { ApiProblemCode } from './problem.js';

/** A token as the API shows it: never a secret or a hash. */
export interface TokenView {
  name: string;
  scopes: Scope[];
  status: 'active' | 'active (rotating)' | 'expired' | 'revoked';
  created: string | null;
  expires: string | null;
  revoked: string | null;
  lastUsed: string | null;
}

export interface TokenAdmin {
  list(): Promise<TokenView[]>;
  /** A new token; its secret is returned once, never stored. */
  create(spec: { name: string; scopes: Scope[]; expiresInMs?: number }): Promise<{ token: TokenView; secret: string }>;
  /** A new secret; the current ones work `graceMs` more. */
  rotate(name: string, graceMs: number): Promise<{ token: TokenView; secret: string; previousUntil: string }>;
  revoke(name: string): Promise<TokenView>;
}

/** A refusal with its problem code (mapped to HTTP by the routes). */
export class TokenAdminError extends Error {
  constructor(
    readonly code: Extract<ApiProblemCode, 'TOKEN_EXISTS' | 'UNKNOWN_TOKEN' | 'TOKEN_API_ADMIN' | 'TOKEN_ALREADY_REVOKED' | 'BAD_TOKEN_SPEC' | 'TOKEN_FILE_BUSY'>,
    message: string,
  ) {
    super(message);
    this.name = 'TokenAdminError';
  }
}

const iso = (ms: number | undefined): string | null => (ms === undefined || ms === 0 ? null : new Date(ms).toISOString());

export function tokenView(r: TokenRecord, now: number, lastUsed: number | undefined): TokenView {
  const status: TokenView['status'] =
    r.revoked !== undefined ? 'revoked' : r.expires !== undefined && r.expires <= now ? 'expired' : r.secrets.some((s) => s.notAfter !== undefined && s.notAfter > now) ? 'active (rotating)' : 'active';
  return { name: r.name, scopes: [...r.scopes], status, created: iso(r.created), expires: iso(r.expires), revoked: iso(r.revoked), lastUsed: iso(lastUsed) };
}

/**
 * The token file after an API create: refused for a bad or taken name (`reserved`: the node's
 * own token names, kept outside the file), or for the admin scope.
 */
export function apiCreate(records: readonly TokenRecord[], spec: { name: string; scopes: Scope[]; expiresInMs?: number }, secret: string, now: number, reserved: ReadonlySet<string>): TokenRecord[] {
  if (!TOKEN_NAME.test(spec.name)) throw new TokenAdminError('BAD_TOKEN_SPEC', `bad token name "${spec.name}": letters, digits, . _ - (at most 64), starting with a letter or digit`);
  if (spec.scopes.length === 0) throw new TokenAdminError('BAD_TOKEN_SPEC', 'a token needs at least one scope');
  if (spec.scopes.includes('admin')) throw new TokenAdminError('TOKEN_API_ADMIN', 'tokens holding admin are made only with tracechain token create on the node');
  if (reserved.has(spec.name) || records.some((r) => r.name === spec.name)) throw new TokenAdminError('TOKEN_EXISTS', `a token named ${spec.name} exists already (rotate or revoke it)`);
  return addToken(records, spec, secret, now);
}

function adminFree(records: readonly TokenRecord[], name: string, what: string): TokenRecord {
  const r = records.find((x) => x.name === name);
  if (r === undefined) throw new TokenAdminError('UNKNOWN_TOKEN', `no token named ${name} in the token file`);
  if (r.scopes.includes('admin')) throw new TokenAdminError('TOKEN_API_ADMIN', `token ${name} holds admin: ${what} it with tracechain token on the node`);
  if (r.revoked !== undefined) throw new TokenAdminError('TOKEN_ALREADY_REVOKED', `token ${name} was revoked already`);
  return r;
}

export function apiRotate(records: readonly TokenRecord[], name: string, secret: string, now: number, graceMs: number): TokenRecord[] {
  adminFree(records, name, 'rotate');
  return rotateToken(records, name, secret, now, graceMs);
}

export function apiRevoke(records: readonly TokenRecord[], name: string, now: number): TokenRecord[] {
  adminFree(records, name, 'revoke');
  return revokeToken(records, name, now);
}
