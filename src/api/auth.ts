/**
 * Bearer-token authentication. Write routes always need a token; read routes only when the node
 * is configured so (`requireTokenForReads`). A missing or malformed Authorization header is 401
 * (with WWW-Authenticate); a well-formed token the node does not accept is 403. Checked in
 * onRequest, before the body is read, so an unauthenticated client cannot make the node parse
 * (or buffer) a large body.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ApiContext } from './context.js';
import { HttpProblem } from './problem.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The presented bearer token, or undefined when the header is absent; throws 401 when malformed. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined || h === '') return undefined;
  const m = BEARER.exec(h);
  if (m === null) throw new HttpProblem('BAD_AUTHORIZATION', 'the Authorization header must be "Bearer <token>"');
  return m[1] as string;
}

export function checkBearer(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply): void {
  const token = bearerToken(req);
  if (token === undefined) {
    reply.header('www-authenticate', 'Bearer realm="tracechain"');
    throw new HttpProblem('UNAUTHENTICATED', 'this route needs an API token: send "Authorization: Bearer <token>"');
  }
  if (!ctx.checkToken(token)) {
    throw new HttpProblem('BAD_TOKEN', 'the API token is not accepted by this node');
  }
}

/** onRequest hook for routes that always need the token. */
export function requireToken(ctx: ApiContext): onRequestHookHandler {
  return async (req, reply) => {
    checkBearer(ctx, req, reply);
  };
}

/**
 * Root onRequest hook: when reads are configured to need the token, every GET/HEAD route does,
 * except those marked `config: { public: true }` (/health). Write routes check it themselves.
 */
export function readAccess(ctx: ApiContext, required: boolean): onRequestHookHandler {
  return async (req, reply) => {
    if (!required || (req.method !== 'GET' && req.method !== 'HEAD') || req.routeOptions.config.public === true) return;
    checkBearer(ctx, req, reply);
  };
}

/** A key identifying the client for rate limits: the token's prefix when one is sent, else the IP. */
export function clientKey(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (h !== undefined) {
    const m = BEARER.exec(h);
    if (m !== null) return `t:${(m[1] as string).slice(0, 16)}`;
  }
  return `ip:${req.ip}`;
}
