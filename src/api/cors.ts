/**
 * Cross-origin access. A browser on another origin gets nothing unless `api.cors.origins` lists
 * its origin; listed origins may read (routes of the read and verify scopes), and write only when
 * `api.cors.writes` is on. A cross-origin write from an origin not allowed to write is refused
 * (403 CORS_REFUSED) before it is looked at, and writes always need a token anyway: a browser
 * can only send one cross-origin after a preflight this hook answered.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { HttpProblem } from './problem.js';
import { routeAccess } from './auth.js';
import { OPEN_READ_SCOPES } from './scopes.js';

export interface CorsOptions {
  /** Allowed origins (`https://dashboard.hospital.example`), or `*` for any. Empty: none. */
  origins: string[];
  /** Listed origins may also call write routes (with a token). */
  writes: boolean;
}

const READ_METHODS = ['GET', 'HEAD'];
const EXPOSED = 'location, retry-after, gs1-next-page-token, link, content-type';

/** Other than the origin the request was sent to (its Host)? */
function crossOrigin(req: FastifyRequest, origin: string): boolean {
  try {
    const o = new URL(origin);
    // The Host header read with the origin's scheme, so default ports compare equal (`:443` or none).
    return req.headers.host === undefined || new URL(`${o.protocol}//${req.headers.host}`).host !== o.host;
  } catch {
    return true;
  }
}

function allowed(opts: CorsOptions, origin: string): boolean {
  return opts.origins.includes('*') || opts.origins.includes(origin);
}

function allowHeaders(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'origin');
  reply.header('access-control-expose-headers', EXPOSED);
}

export function corsHook(opts: CorsOptions): onRequestHookHandler {
  return async (req, reply) => {
    const origin = req.headers.origin;
    if (origin === undefined || !crossOrigin(req, origin)) return;
    const requested = req.headers['access-control-request-method'];
    const preflight = req.method === 'OPTIONS' && typeof requested === 'string';
    const method = preflight ? requested.toUpperCase() : req.method;
    const isRead = READ_METHODS.includes(method);
    const mayCall = allowed(opts, origin) && (isRead || opts.writes);
    if (preflight) {
      if (!mayCall) throw new HttpProblem('CORS_REFUSED', `origin ${origin} may not send ${method} requests to this node (api.cors)`);
      allowHeaders(reply, origin);
      reply.header('access-control-allow-methods', opts.writes ? 'GET, HEAD, POST, PUT, DELETE' : 'GET, HEAD');
      reply.header('access-control-allow-headers', 'authorization, content-type, accept');
      reply.header('access-control-max-age', '600');
      reply.code(204).send();
      return reply;
    }
    if (!isRead && !mayCall) throw new HttpProblem('CORS_REFUSED', `origin ${origin} may not send ${method} requests to this node (api.cors)`);
    // Reads of a non-read scope (admin's GETs) are not shared with other origins unless writes are.
    const access = req.is404 ? 'public' : routeAccess(req);
    const readScope = access === 'public' || OPEN_READ_SCOPES.includes(access);
    if (mayCall && (readScope || opts.writes)) allowHeaders(reply, origin);
    return undefined;
  };
}
