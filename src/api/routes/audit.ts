/** GET /audit: the audit log of write requests (who did what), for tokens with the admin scope. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { HttpProblem } from '../problem.js';
import { problems } from '../schemas.js';

const auditPageSchema = {
  $id: 'AuditPage',
  type: 'object',
  required: ['entries', 'next'],
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['seq', 'time', 'token', 'via', 'remote', 'method', 'route', 'path', 'status'],
        properties: {
          seq: { type: 'integer' },
          time: { type: 'string' },
          token: { type: ['string', 'null'] },
          via: { type: 'string' },
          remote: { type: 'string' },
          method: { type: 'string' },
          route: { type: 'string' },
          path: { type: 'string' },
          status: { type: 'integer' },
          code: { type: 'string' },
          txId: { type: 'string' },
          change: { type: 'object', additionalProperties: true },
          location: { type: 'string' },
        },
      },
    },
    next: { type: ['integer', 'null'], description: 'pass as `after` for the next page; null: no more entries yet' },
  },
} as const;

export async function auditRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.addSchema(auditPageSchema);
  app.get<{ Querystring: { token?: string; since?: string; after?: number; limit: number } }>(
    '/audit',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Write requests (capture, governance, subscriptions, admin) with the token name, remote address, status and resulting tx ID or change; oldest first',
        tags: ['node'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            token: { type: 'string', maxLength: 64, description: 'only this token name' },
            since: { type: 'string', maxLength: 40, description: 'only entries at or after this time (ISO 8601 or ms since the epoch)' },
            after: { type: 'integer', minimum: 0, description: 'only entries after this seq (the previous page\'s next)' },
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1_000 },
          },
        },
        response: { 200: { $ref: 'AuditPage#' }, ...problems(400, 401, 403, 409) },
      },
    },
    async (req) => {
      if (ctx.audit === undefined) throw new HttpProblem('AUDIT_UNAVAILABLE', 'this node keeps no audit log');
      let since: number | undefined;
      if (req.query.since !== undefined) {
        since = /^[0-9]+$/.test(req.query.since) ? Number(req.query.since) : Date.parse(req.query.since);
        if (!Number.isFinite(since)) throw new HttpProblem('QUERY_PARAMETER', `since: "${req.query.since}" is not an ISO 8601 time or ms since the epoch`);
      }
      return ctx.audit.read({
        limit: req.query.limit,
        ...(req.query.token !== undefined ? { token: req.query.token } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(req.query.after !== undefined ? { after: req.query.after } : {}),
      });
    },
  );
}
