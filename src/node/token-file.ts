/**
 * The node's token file, DATA/tokens.json (hashes only, never a secret), written by `tracechain
 * token ...` while the node may be running: each change is written to a temporary file, fsynced
 * and renamed over the old one (a reader sees the old file or the new one, never half), under a
 * lock file so two CLI runs cannot lose each other's change. The node re-reads it when its
 * (inode, size, mtime) changes, checked at every authenticated request, so a revocation holds
 * from the next request on. Last-use times live apart (DATA/tokens-used.json, written by the
 * node only), so the node never rewrites the file the operator edits.
 *
 * DATA/api-tokens.sha256 (one hash per line, the format before named tokens) is still read:
 * each line is an all-scopes token, named `node` when it is DATA/api-token's hash.
 */
import { closeSync, fsyncSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkTokenRecords, hashSecret, type TokenRecord } from '../api/tokens.js';
import { SCOPES } from '../api/scopes.js';

export interface TokenFileContent {
  version: 1;
  tokens: TokenRecord[];
}

/** Parse a token file's text; throws naming the file and the problem. */
export function parseTokenFile(text: string, path: string): TokenRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const o = parsed as Partial<TokenFileContent> | null;
  if (typeof o !== 'object' || o === null || o.version !== 1) throw new Error(`${path}: expected {"version": 1, "tokens": [...]}`);
  try {
    return checkTokenRecords(o.tokens);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/** The records of the file (none when it does not exist). */
export async function readTokenFile(path: string): Promise<TokenRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseTokenFile(text, path);
}

/** Synchronous read for the request path (the file is small; read only when it changed). */
export function readTokenFileSync(path: string): TokenRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseTokenFile(text, path);
}

/** Legacy hash lines as all-scopes tokens (`node` for DATA/api-token's own hash). */
export function legacyRecords(hashes: readonly string[], nodeToken: string | undefined): TokenRecord[] {
  const own = nodeToken !== undefined ? hashSecret(nodeToken) : undefined;
  return hashes.map((h) => ({ name: h === own ? 'node' : `legacy-${h.slice(0, 8)}`, scopes: [...SCOPES], created: 0, secrets: [{ sha256: h, created: 0 }] }));
}

/** Another writer holds the token file's lock. */
export class TokenFileBusyError extends Error {
  override readonly name = 'TokenFileBusyError';
}

/** Apply `change` to the file's records and write the result atomically, under the lock file. */
export async function updateTokenFile(path: string, change: (records: TokenRecord[]) => TokenRecord[]): Promise<TokenRecord[]> {
  const lock = `${path}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new TokenFileBusyError(`${lock} exists: another token command is running (delete the file if none is)`);
    throw err;
  }
  closeSync(fd);
  try {
    const next = change(await readTokenFile(path));
    await writeAtomic(path, JSON.stringify({ version: 1, tokens: next } satisfies TokenFileContent, null, 2) + '\n');
    return next;
  } finally {
    await rm(lock, { force: true });
  }
}

/** Write a file whole: temporary file, fsync, rename, fsync of the directory. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  const fh = await open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

/** Last-use times written by the node (name → ms). */
export async function readLastUsed(path: string): Promise<Record<string, number>> {
  try {
    const o = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (typeof o !== 'object' || o === null) return {};
    return Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => typeof e[1] === 'number'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** A file's identity for change detection: inode, size, mtime (absent: 'none'). */
export function fileStamp(path: string): string {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw err;
  }
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}
