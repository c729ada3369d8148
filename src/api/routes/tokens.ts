/**
 * /admin/tokens: the node's client tokens over HTTP, for tokens with the admin scope, when the
 * node allows it (`api.tokenApi`; off: 409 TOKEN_API_OFF). The same operations as
 * `tracechain token` (api/token-admin.ts has the rules): list, create (the secret in the answer,
 * once), rotate with a grace period, revoke. Tokens holding `admin` stay CLI-only. Every write is
 * in the audit log with the token name it changed, never a secret.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { HttpProblem } from '../problem.js';
import { problems } from '../schemas.js';
import { SCOPES, type Scope } from '../scopes.js';
import { parseDuration } from '../tokens.js';
import { TokenAdminError, type TokenAdmin } from '../token-admin.js';

const tokenSchema = {
  $id: 'Token',
  type: 'object',
  required: ['name', 'scopes', 'status', 'created', 'expires', 'revoked', 'lastUsed'],
  properties: {
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['active', 'active (rotating)', 'expired', 'revoked'] },
    created: { type: ['string', 'null'] },
    expires: { type: ['string', 'null'] },
    revoked: { type: ['string', 'null'] },
    lastUsed: { type: ['string', 'null'] },
  },
} as const;

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'the client the token belongs to' } as const;
const DURATION = { type: 'string', pattern: '^[0-9]{1,6}[smhd]$', description: 'a whole number and s, m, h or d (90d, 12h)' } as const;

/** The admin's operation, with refusals as problems. */
async function run<T>(ctx: ApiContext, op: (admin: TokenAdmin) => Promise<T>): Promise<T> {
  const admin = ctx.tokenAdmin;
  if (admin === undefined) throw new HttpProblem('TOKEN_API_OFF', 'token management over HTTP is off on this node (api.tokenApi); use tracechain token on the node');
  try {
    return await op(admin);
  } catch (err) {
    if (err instanceof TokenAdminError) throw new HttpProblem(err.code, err.message);
    throw err;
  }
}

export async function tokenRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.addSchema(tokenSchema);
  const common = { tags: ['node'], security: [{ bearer: [] }] };

  app.get(
    '/admin/tokens',
    { config: { scope: 'admin' }, schema: { summary: "This node's client tokens (no secrets): name, scopes, status, created, expires, revoked, last use", ...common, response: { 200: { type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: { $ref: 'Token#' } } } }, ...problems(401, 403, 409) } } },
    async () => ({ tokens: await run(ctx, (a) => a.list()) }),
  );

  app.post<{ Body: { name: string; scopes: Scope[]; expires?: string } }>(
    '/admin/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Create a client token (not admin); the answer holds its secret, shown only now',
        ...common,
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: { name: NAME, scopes: { type: 'array', minItems: 1, maxItems: SCOPES.length, uniqueItems: true, items: { type: 'string', enum: [...SCOPES] } }, expires: DURATION },
        },
        response: { 201: { type: 'object', required: ['token', 'secret'], properties: { token: { $ref: 'Token#' }, secret: { type: 'string' } } }, ...problems(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const { name, scopes, expires } = req.body;
      const made = await run(ctx, (a) => a.create({ name, scopes, ...(expires !== undefined ? { expiresInMs: parseDuration(expires) } : {}) }));
      req.auditChange = { token: name, created: scopes };
      reply.code(201);
      return made;
    },
  );

  app.post<{ Params: { name: string }; Body: { grace?: string } | undefined }>(
    '/admin/tokens/:name/rotate',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "Give a client token a new secret (in the answer, once); the current one works for the grace period (default 24h)",
        ...common,
        params: { type: 'object', required: ['name'], properties: { name: NAME } },
        body: { type: 'object', additionalProperties: false, properties: { grace: DURATION } },
        response: { 200: { type: 'object', required: ['token', 'secret', 'previousUntil'], properties: { token: { $ref: 'Token#' }, secret: { type: 'string' }, previousUntil: { type: 'string' } } }, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const graceMs = parseDuration(req.body?.grace ?? '24h');
      const rotated = await run(ctx, (a) => a.rotate(req.params.name, graceMs));
      req.auditChange = { token: req.params.name, rotated: rotated.previousUntil };
      return rotated;
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/admin/tokens/:name',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "Revoke a client token: refused from the node's next request on",
        ...common,
        params: { type: 'object', required: ['name'], properties: { name: NAME } },
        response: { 200: { $ref: 'Token#' }, ...problems(401, 403, 404, 409) },
      },
    },
    async (req) => {
      const token = await run(ctx, (a) => a.revoke(req.params.name));
      req.auditChange = { token: req.params.name, revoked: token.revoked };
      return token;
    },
  );
}
