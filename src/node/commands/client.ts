/**
 * A small HTTP client of the node API for the CLI commands (capture, trace, verify,
 * verify-proof) and the benches: base URL, bearer token, problem details turned into readable
 * errors, and a timeout on every request.
 */
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';

export const DEFAULT_API = 'http://127.0.0.1:8080';

export interface ClientFlags {
  api?: string;
  token?: string;
  tokenFile?: string;
  data?: string;
  json?: boolean;
  timeout?: number;
  /** PEM file of the CA (or the self-signed certificate) to trust for an https:// node ($TRACECHAIN_CA). */
  ca?: string;
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
    /** Trusted CA certificates (PEM) for https:// (absent: the system's). */
    private readonly ca?: Buffer,
  ) {}

  static async fromFlags(flags: ClientFlags): Promise<ApiClient> {
    const caFile = flags.ca ?? (process.env.TRACECHAIN_CA || undefined);
    let ca: Buffer | undefined;
    if (caFile !== undefined) {
      try {
        ca = await readFile(caFile);
      } catch (err) {
        throw new Error(`cannot read the CA certificate ${caFile}: ${(err as Error).message}`);
      }
    }
    return new ApiClient(apiBase(flags.api), await resolveToken(flags), flags.timeout ?? 30_000, ca);
  }

  /** One request over node:https trusting `ca` (fetch cannot be given a CA without a dispatcher). */
  private viaHttps(method: string, url: string, headers: Record<string, string>, body: string | Uint8Array | undefined, ca: Buffer): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, ca, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve(new Response(res.statusCode === 204 || res.statusCode === 304 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(Object.assign(new Error(err.message), { cause: err })));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async request<T>(method: string, path: string, body?: { data: string | Uint8Array; contentType: string }): Promise<{ status: number; headers: Headers; json: T }> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = body.contentType;
    let res: Response;
    try {
      res =
        this.ca !== undefined && this.base.startsWith('https:')
          ? await this.viaHttps(method, this.base + path, headers, body?.data, this.ca)
          : await fetch(this.base + path, { method, headers, body: body?.data, signal: AbortSignal.timeout(this.timeoutMs) });
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
