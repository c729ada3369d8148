/**
 * A small HTTP client of the node API for the CLI commands (capture, trace, verify,
 * verify-proof) and the benches: base URL, bearer token, problem details turned into readable
 * errors, and a timeout on every request.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_API = 'http://127.0.0.1:8080';

export interface ClientFlags {
  api?: string;
  token?: string;
  tokenFile?: string;
  data?: string;
  json?: boolean;
  timeout?: number;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { path: string; message: string; code?: string }[];
  duplicates?: { eventId: string; txId: string; block: { hash: string; height: number } | null }[];
  rule?: string;
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The base URL: --api as given, `http://` added to a bare host:port. */
export function apiBase(api: string | undefined): string {
  const a = (api ?? process.env.TRACECHAIN_API ?? DEFAULT_API).replace(/\/+$/, '');
  return /^https?:\/\//.test(a) ? a : `http://${a}`;
}

/** The token: --token, else --token-file, else TRACECHAIN_TOKEN, else DATA/api-token when --data is given. */
export async function resolveToken(flags: ClientFlags): Promise<string | undefined> {
  if (flags.token !== undefined) return flags.token.trim();
  const file = flags.tokenFile ?? (flags.data !== undefined ? join(flags.data, 'api-token') : undefined);
  if (file !== undefined) {
    try {
      return (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new Error(`cannot read the API token from ${file}: ${(err as Error).message}`);
    }
  }
  return process.env.TRACECHAIN_TOKEN?.trim() || undefined;
}

export function describeProblem(status: number, p: Problem | undefined, fallback: string): string {
  if (p === undefined) return `HTTP ${status}: ${fallback}`;
  const lines = [`HTTP ${status} ${p.title ?? ''}${p.code !== undefined ? ` [${p.code}]` : ''}: ${p.detail ?? fallback}`];
  for (const e of (p.errors ?? []).slice(0, 50)) lines.push(`  - ${e.path || '/'}: ${e.message}`);
  if ((p.errors?.length ?? 0) > 50) lines.push(`  … and ${(p.errors?.length ?? 0) - 50} more`);
  for (const d of p.duplicates ?? []) {
    lines.push(`  - ${d.eventId} is already in tx ${d.txId} ${d.block ? `(block ${d.block.height} ${d.block.hash})` : '(pending in the mempool)'}`);
  }
  return lines.join('\n');
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token?: string,
    private readonly timeoutMs = 30_000,
  ) {}

  static async fromFlags(flags: ClientFlags): Promise<ApiClient> {
    return new ApiClient(apiBase(flags.api), await resolveToken(flags), flags.timeout ?? 30_000);
  }

  async request<T>(method: string, path: string, body?: { data: string | Uint8Array; contentType: string }): Promise<{ status: number; headers: Headers; json: T }> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = body.contentType;
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body: body?.data, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(0, undefined, `cannot reach the node at ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const p = typeof json === 'object' && json !== null ? (json as Problem) : undefined;
      throw new ApiError(res.status, p, describeProblem(res.status, p, text.slice(0, 200) || res.statusText));
    }
    return { status: res.status, headers: res.headers, json: json as T };
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path).then((r) => r.json);
  }
}

/** Read FILE, or standard input for `-`. */
export async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Run a command body; ApiError and other failures become a message on stderr and exit code 1. */
export async function runClientCommand(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    process.stderr.write(`tracechain ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
