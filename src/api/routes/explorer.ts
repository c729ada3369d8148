/**
 * The explorer page: GET / (index.html) and GET /explorer/<file> (its scripts, styles, icon),
 * static files from the package's assets/explorer/, read once at start and served from memory
 * (so no request can name a path on disk), plus GET /explorer/consortium.json (the members at
 * the tip, by every key each holds or held: names and roles for the page's "who"). Open even when reads need the
 * token: the page asks for the token itself. The HTML carries a strict Content-Security-Policy
 * (scripts, styles and fetches from this origin only).
 *
 * assets/ sits at the package root, beside src/ and dist/, so it is found by walking up from
 * this module: src/api/routes/ when run from the sources (tests), dist/src/api/routes/ when
 * compiled. $TRACECHAIN_EXPLORER_DIR points elsewhere (a customised page).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.js';
import { HttpProblem } from '../problem.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The explorer's directory: $TRACECHAIN_EXPLORER_DIR, else assets/explorer above this module. */
export function explorerDir(moduleUrl: string = import.meta.url, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env.TRACECHAIN_EXPLORER_DIR;
  if (override !== undefined && override !== '') return existsSync(join(override, 'index.html')) ? override : undefined;
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'assets', 'explorer');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/** Every servable file of the directory (one level; type by extension; .d.ts, tsconfig and dotfiles left out). */
export function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type === undefined || name.startsWith('.') || name.endsWith('.d.ts') || name.startsWith('tsconfig')) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const body = readFileSync(path);
    out.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return out;
}

function send(req: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header('cache-control', 'no-cache').header('etag', asset.etag).header('x-content-type-options', 'nosniff');
  if (asset.type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
  if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

/**
 * GET / for a client of the EPCIS REST binding (Accept: application/json or ld+json before
 * text/html): the binding's collection of top-level resources this node serves, and `queries`
 * where the node serves named queries. The binding's others (epcs, bizSteps, bizLocations,
 * readPoints, dispositions) are not served as lists yet (docs/api.md), so they are not listed.
 */
export const TOP_LEVEL_RESOURCES = { '@context': 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', type: 'Collection', member: ['capture', 'events', 'eventTypes'] };

/** Whether Accept names a JSON type before HTML (a browser names text/html first; no Accept is the page). */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const types = accept.split(',').map((t) => (t.split(';')[0] ?? '').trim().toLowerCase());
  const json = types.findIndex((t) => t === 'application/json' || t === 'application/ld+json');
  if (json < 0) return false;
  const html = types.findIndex((t) => t === 'text/html');
  return html < 0 || json < html;
}

export async function explorerRoutes(app: FastifyInstance, ctx: ApiContext, opts: { dir?: string } = {}): Promise<void> {
  const dir = opts.dir ?? explorerDir();
  const assets = dir !== undefined ? loadAssets(dir) : new Map<string, Asset>();
  if (dir === undefined) app.log.warn('explorer assets not found (assets/explorer); GET / answers 404');
  const common = { config: { scope: 'public' as const }, schema: { hide: true } };

  app.get('/', common, async (req, reply) => {
    if (prefersJson(req.headers.accept)) {
      // Named queries are served when the node runs its notification service (ApiContext.queries).
      const resources = ctx.queries === undefined ? TOP_LEVEL_RESOURCES : { ...TOP_LEVEL_RESOURCES, member: [...TOP_LEVEL_RESOURCES.member, 'queries'] };
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(resources));
    }
    const index = assets.get('index.html');
    if (index === undefined) throw new HttpProblem('NOT_FOUND', 'the explorer page is not installed (assets/explorer/index.html)');
    return send(req, reply, index);
  });

  app.get<{ Params: { file: string } }>('/explorer/:file', common, async (req, reply) => {
    const asset = assets.get(req.params.file);
    if (asset === undefined) throw new HttpProblem('NOT_FOUND', `no explorer file ${req.params.file}`);
    return send(req, reply, asset);
  });

  // Public facts of the registry at the tip (no keys but public ones): lets the page name a tx's
  // submitter or a block's sealer by any key a member holds or held (docs/governance.md).
  const { chain } = ctx;
  const consortium = (): string =>
    JSON.stringify({
      chainId: chain.chainId,
      name: chain.genesis.name,
      blockIntervalMs: chain.params.blockIntervalMs,
      self: ctx.signer !== undefined ? { id: ctx.signer.member.id, name: ctx.signer.member.name, role: ctx.signer.member.role } : null,
      members: chain.registry.all.flatMap((m) => m.keys.map((id) => ({ id, member: m.id, name: m.name, role: m.role, status: m.status, canSeal: m.canSeal, gs1CompanyPrefixes: m.gs1CompanyPrefixes }))),
    });
  app.get('/explorer/consortium.json', { config: { scope: 'read' }, schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(consortium()));
}
