/**
 * The fastify server: hardening (body limit, timeouts), problem-details errors, schemas,
 * and the routes. Binds 127.0.0.1 unless told otherwise.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import '@fastify/swagger';
import type { Logger } from 'pino';
import type { ApiContext } from './context.js';
import { HttpProblem, problemSchema, sendProblem } from './problem.js';
import { blockRoutes, blockSchema } from './routes/blocks.js';
import { healthRoutes, healthSchema } from './routes/health.js';

export interface ApiOptions {
  host: string;
  port: number;
  bodyLimit: number;
  requestTimeoutMs: number;
}

export const DEFAULT_API_OPTIONS: ApiOptions = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimit: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
};

export async function buildApi(opts: ApiOptions, ctx: ApiContext, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger.child({ module: 'api' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: opts.bodyLimit,
    requestTimeout: opts.requestTimeoutMs,
    connectionTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    maxParamLength: 2048,
    return503OnClosing: true,
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
  });
  app.addSchema(problemSchema);
  app.addSchema(blockSchema);
  app.addSchema(healthSchema);
  app.setErrorHandler((err, req, reply) => sendProblem(reply, req, err));
  app.setNotFoundHandler((req, reply) => sendProblem(reply, req, new HttpProblem(404, 'NOT_FOUND', 'Not found', `no route ${req.method} ${req.url.split('?')[0]}`)));
  await app.register(async (scope) => healthRoutes(scope, ctx));
  await app.register(async (scope) => blockRoutes(scope, ctx));
  return app;
}
