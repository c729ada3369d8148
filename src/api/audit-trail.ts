/**
 * The audit trail of write requests: one onSend hook records every request to a route whose
 * scope is not a read (capture, subscribe, admin, and whatever later routes declare so), refused
 * or not, with the token name, the remote address, the status and what it changed (`txId` for a
 * capture). The answer leaves only after its record was handed to the log, so a 202's tx ID can
 * always be led back to the client that sent it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditSink } from './context.js';
import { OPEN_READ_SCOPES } from './scopes.js';
import { routeAccess } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a write route: what it changed (`{txId, events}`, `{blocked}`); recorded in the audit log. */
    auditChange?: Record<string, unknown>;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Is this request audited: a matched route of a non-read scope, by a method that may change something. */
export function isAudited(req: FastifyRequest): boolean {
  if (req.is404 || READ_METHODS.has(req.method)) return false;
  const access = routeAccess(req);
  return access !== 'public' && !OPEN_READ_SCOPES.includes(access);
}

export function registerAuditTrail(app: FastifyInstance, sink: AuditSink, onFailure: (err: Error) => void): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!isAudited(req)) return payload;
    const change = req.auditChange;
    const txId = typeof change?.txId === 'string' ? change.txId : undefined;
    let code: string | undefined;
    if (reply.statusCode >= 400 && typeof payload === 'string' && payload.length < 65_536) {
      const m = /"code":"([A-Z0-9_]+)"/.exec(payload);
      if (m !== null) code = m[1];
    }
    const location = reply.getHeader('location');
    try {
      await sink.append({
        time: new Date().toISOString(),
        token: req.principal?.name ?? null,
        via: req.principal?.via ?? 'none',
        remote: req.ip,
        method: req.method,
        route: req.routeOptions.url ?? req.url.split('?')[0] ?? '',
        path: req.url.split('?')[0] ?? '',
        status: reply.statusCode,
        ...(code !== undefined ? { code } : {}),
        ...(txId !== undefined ? { txId } : {}),
        ...(change !== undefined ? { change } : {}),
        ...(typeof location === 'string' ? { location } : {}),
      });
    } catch (err) {
      onFailure(err as Error);
    }
    return payload;
  });
}
