/**
 * Authentication and scopes: the one onRequest hook that enforces every route's declared access
 * (`config: { scope }`, api/scopes.ts). A route that declares none is treated as `admin` (closed
 * by default) and reported by the server at start-up; the route × scope test fails on it.
 *
 * - `public` routes (health, the explorer page) never look at credentials.
 * - `read` and `verify` routes are open while `requireTokenForReads` is off (a token sent there
 *   is not looked at) unless they declare `alwaysToken`; otherwise, like every other scope, they
 *   need a token holding the scope.
 * - Routes declaring `alwaysToken` (verification requests) also take a member's signature
 *   (api/member-signature.ts) in place of a token: the member gets the `verify` scope.
 * - No credentials: 401 UNAUTHENTICATED. An unknown, expired, revoked or rotated-out token: 401
 *   naming the reason. A token without the scope: 403 MISSING_SCOPE naming the scope.
 *
 * Checked in onRequest, before the body is read, so an unauthenticated client cannot make the
 * node parse (or buffer) a large body. A verified client certificate (mTLS) bound to a token
 * counts as that token when no bearer token is sent.
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ApiContext } from './context.js';
import { HttpProblem } from './problem.js';
import { grants, OPEN_READ_SCOPES, type RouteAccess, type Scope } from './scopes.js';
import type { AuthOutcome } from './tokens.js';
import { memberSigner } from './member-signature.js';
import type { AuthFailureLimiter } from './auth-failures.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs (api/scopes.ts); undeclared routes are treated as `admin`. */
    scope?: RouteAccess;
    /**
     * A `read` or `verify` route that needs a token even while api.requireTokenForReads is off
     * (the verification requests of GET /01/{gtin}/10/{lot}/21/{serial}: each is answered to a
     * known requester).
     */
    alwaysToken?: boolean;
  }
  interface FastifyRequest {
    /** The authenticated client, once the access hook has run (undefined: anonymous). */
    principal?: Principal;
  }
}

export interface Principal {
  name: string;
  scopes: Scope[];
  via: 'bearer' | 'cert' | 'member';
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Declare the scope of routes a third-party plugin registers (they take no route options of
 * ours): call in the plugin's encapsulating scope before registering it.
 */
export function declarePluginScope(app: FastifyInstance, scope: RouteAccess): void {
  app.addHook('onRoute', (route) => {
    route.config ??= {};
    route.config.scope ??= scope;
  });
}

/** The scope a route needs as declared (undeclared: `admin`). */
export function routeAccess(req: FastifyRequest): RouteAccess {
  return req.routeOptions.config?.scope ?? 'admin';
}

/** The presented bearer token, or undefined when the header is absent; throws 401 when malformed. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined || h === '') return undefined;
  const m = BEARER.exec(h);
  if (m === null) throw new HttpProblem('BAD_AUTHORIZATION', 'the Authorization header must be "Bearer <token>"');
  return m[1] as string;
}

function refused(outcome: Exclude<AuthOutcome, { ok: true }>): HttpProblem {
  switch (outcome.reason) {
    case 'unknown':
      return new HttpProblem('BAD_TOKEN', 'the API token is not accepted by this node');
    case 'expired':
      return new HttpProblem('TOKEN_EXPIRED', `the API token ${outcome.name} expired at ${new Date(outcome.at).toISOString()}`, { token: outcome.name, reason: 'expired' });
    case 'revoked':
      return new HttpProblem('TOKEN_REVOKED', `the API token ${outcome.name} was revoked at ${new Date(outcome.at).toISOString()}`, { token: outcome.name, reason: 'revoked' });
    case 'rotated':
      return new HttpProblem('TOKEN_REVOKED', `this secret of the API token ${outcome.name} was rotated out at ${new Date(outcome.at).toISOString()}; use the new one`, {
        token: outcome.name,
        reason: 'rotated',
      });
  }
}

/** SHA-256 of the verified client certificate of a TLS request (undefined: none, or not verified). */
export function clientCertSha256(req: FastifyRequest): string | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (cert === null || cert.raw === undefined) return undefined;
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** Who the request is (bearer token first, then a client certificate); throws 401 on a refused credential. */
export function identify(ctx: ApiContext, req: FastifyRequest): Principal | undefined {
  const token = bearerToken(req);
  if (token !== undefined) {
    const outcome = ctx.authenticate(token);
    if (!outcome.ok) throw refused(outcome);
    return { name: outcome.name, scopes: outcome.scopes, via: 'bearer' };
  }
  if (ctx.authenticateCert === undefined) return undefined;
  const cert = clientCertSha256(req);
  if (cert === undefined) return undefined;
  const outcome = ctx.authenticateCert(cert);
  if (!outcome.ok) {
    if (outcome.reason === 'unknown') return undefined;
    throw refused(outcome);
  }
  return { name: outcome.name, scopes: outcome.scopes, via: 'cert' };
}

/** A member-signed request's principal (`verify` only), or undefined when it is not signed; 401 on a refused signature. */
function memberPrincipal(ctx: ApiContext, req: FastifyRequest): Principal | undefined {
  const signer = memberSigner(ctx.chain.registry, req, (ctx.clock ?? Date.now)());
  return signer === undefined ? undefined : { name: signer.name, scopes: ['verify'], via: 'member' };
}

/**
 * The root onRequest hook: every route's declared access, enforced. With `failures`, an address
 * whose requests were refused a 401 too often in its window gets 429 (with Retry-After) for what
 * needs authentication, until the window ends (api/auth-failures.ts).
 */
export function accessHook(ctx: ApiContext, opts: { requireTokenForReads: boolean; failures?: AuthFailureLimiter }): onRequestHookHandler {
  return async (req, reply) => {
    if (req.is404) return;
    const access = routeAccess(req);
    if (access === 'public') return;
    const open = !opts.requireTokenForReads && OPEN_READ_SCOPES.includes(access) && req.routeOptions.config?.alwaysToken !== true;
    if (open) return;
    const failures = opts.failures;
    if (failures !== undefined) {
      const waitMs = failures.blockedFor(req.ip);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        reply.header('retry-after', String(seconds));
        throw new HttpProblem('RATE_LIMITED', `too many refused authentications from ${req.ip}; retry in ${seconds} s`);
      }
    }
    let who: Principal | undefined;
    try {
      // Routes that always need a token (verification requests) also take a member's signature.
      const alwaysToken = req.routeOptions.config?.alwaysToken === true;
      who = identify(ctx, req) ?? (alwaysToken ? memberPrincipal(ctx, req) : undefined);
      if (who === undefined) {
        reply.header('www-authenticate', 'Bearer realm="tracechain"');
        throw new HttpProblem('UNAUTHENTICATED', `this route needs an API token with the ${access} scope: send "Authorization: Bearer <token>"`, { scope: access });
      }
    } catch (err) {
      // Count the refusal against the address, and answer it as it is.
      if (failures !== undefined && err instanceof HttpProblem && err.status === 401) failures.refused(req.ip);
      throw err;
    }
    req.principal = who;
    if (!grants(who.scopes, access)) {
      throw new HttpProblem('MISSING_SCOPE', `the API token ${who.name} lacks the ${access} scope this route needs (it holds: ${who.scopes.join(', ')})`, { scope: access });
    }
  };
}

/**
 * A key identifying the client for rate limits: the authenticated token's name (so a rotation or
 * a client certificate keeps the same budget), else the remote address. (Never a token that was
 * not checked: a client could send a new made-up one with each request for a fresh budget.)
 */
export function clientKey(req: FastifyRequest): string {
  if (req.principal !== undefined) return `n:${req.principal.name}`;
  return `ip:${req.ip}`;
}
