/**
 * The fastify server: hardening (body limit, request/connection timeouts, rate limits on write
 * routes, 503 under event-loop or heap pressure), problem-details errors, schemas, OpenAPI,
 * metrics, and the routes. Binds 127.0.0.1 unless told otherwise.
 */
import { getHeapStatistics } from 'node:v8';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { Logger } from 'pino';
import type { ApiContext } from './context.js';
import { HttpProblem, problemSchema, sendProblem } from './problem.js';
import { accessHook } from './auth.js';
import { AuthFailureLimiter } from './auth-failures.js';
import { corsHook } from './cors.js';
import { registerAuditTrail } from './audit-trail.js';
import { auditRoutes } from './routes/audit.js';
import { tokenRoutes } from './routes/tokens.js';
import { httpsOptions, loadTls, tlsEnabled } from './tls.js';
import { OPEN_READ_SCOPES, type RouteAccess } from './scopes.js';
import { blockRoutes, blockSchema } from './routes/blocks.js';
import { healthRoutes, healthSchema } from './routes/health.js';
import { captureRoutes, txRoutes, type WriteRouteDeps } from './routes/capture.js';
import { CaptureJobs, chainWhereabouts, MAX_CAPTURE_JOBS } from './capture-jobs.js';
import { eventRoutes, type ReadRouteDeps } from './routes/events.js';
import { traceRoutes } from './routes/trace.js';
import { metricsRoutes } from './routes/metrics.js';
import { docsRoutes } from './routes/docs.js';
import { peerRoutes } from './routes/peers.js';
import { adminRoutes } from './routes/admin.js';
import { explorerRoutes } from './routes/explorer.js';
import { governanceRoutes } from './routes/governance.js';
import { privateRoutes } from './routes/private.js';
import { queryRoutes } from './routes/queries.js';
import { verificationRoutes } from './routes/verification.js';
import { alertRoutes } from './routes/alerts.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { NodeMetrics } from './metrics.js';
import { LoadShedder } from './load-shedding.js';
import { Provenance } from './provenance.js';
import { CapturePool } from './capture-pool.js';
import { DEFAULT_QUERY_LIMITS } from './query.js';
import { resolveApiOptions, type ApiOptions } from './options.js';
import { addOptionsRoutes, watchRoutes } from './binding.js';

/** The API's version (OpenAPI info.version, GS1-Vendor-Version). */
export const API_VERSION = '1';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** @fastify/under-pressure per-route handler; returning nothing lets the request through. */
    pressureHandler?: (req: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined) => void;
  }
  interface FastifyInstance {
    /** Every registered route with its declared access (undefined: none declared, treated as admin). */
    accessTable: readonly RouteEntry[];
  }
}

export interface RouteEntry {
  method: string;
  url: string;
  /** Read when asked: a plugin's routes get their scope from declarePluginScope after this hook ran. */
  readonly declared: RouteAccess | undefined;
  /** The route needs a token even while reads are open (config.alwaysToken). */
  readonly alwaysToken: boolean;
}

export async function buildApi(options: ApiOptions, ctx: ApiContext, logger: Logger): Promise<FastifyInstance> {
  const opts = resolveApiOptions(options);
  const metrics = ctx.metrics ?? new NodeMetrics({ defaultMetrics: false });
  if (ctx.metrics === undefined) {
    metrics.bindChain(ctx.chain);
    const { status } = ctx;
    metrics.setSources({ peers: () => status.peers(), hashrate: () => status.hashrate(), storage: () => status.storage?.(), notify: () => ctx.queries?.stats() });
  }
  // Slow clients: on Node 20 a requestTimeout set after the server is built (as fastify does)
  // is never enforced, and timeouts are checked only every 30 s. Give both to the constructor
  // (fastify passes `http` to http.createServer only: over TLS they go with the https options).
  const serverTimeouts = { requestTimeout: opts.requestTimeoutMs, connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(opts.requestTimeoutMs / 2))) };
  const https = tlsEnabled(opts.tls) ? { ...httpsOptions(loadTls(opts.tls)), ...serverTimeouts } : undefined;
  const app = Fastify({
    ...(https ? { https } : {}),
    loggerInstance: logger.child({ module: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    requestTimeout: opts.requestTimeoutMs,
    connectionTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    maxRequestsPerSocket: 0,
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Router-level refusals (a malformed %-escape, an over-long parameter) are problem documents too.
    frameworkErrors: (err, req, reply) => sendProblem(reply, req, err, (p) => metrics.reject(p.code ?? `HTTP_${p.status}`, 'api')),
    ...(https ? {} : { http: serverTimeouts }),
    ajv: { customOptions: { allErrors: false, coerceTypes: 'array', removeAdditional: false, useDefaults: true } },
  });
  const resources = watchRoutes(app);
  app.addSchema(problemSchema);
  app.addSchema(blockSchema);
  app.addSchema(healthSchema);
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  app.setErrorHandler((err, req, reply) => sendProblem(reply, req, err, (p) => metrics.reject(p.code ?? `HTTP_${p.status}`, 'api')));
  app.setNotFoundHandler((req, reply) => sendProblem(reply, req, new HttpProblem('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
  // Every route declares its access (config.scope): shown in the OpenAPI document; a route that
  // declares none is closed (admin) and named here, and the route × scope test fails on it.
  const table: RouteEntry[] = [];
  const routes: { method: string; url: string; config: { scope?: RouteAccess; alwaysToken?: boolean }; schema: Record<string, unknown> }[] = [];
  app.decorate('accessTable', table);
  app.addHook('onRoute', (route) => {
    const config = (route.config ??= {});
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    for (const method of [route.method].flat()) {
      table.push({ method, url: route.url, get declared() { return config.scope; }, get alwaysToken() { return config.alwaysToken === true; } });
      routes.push({ method, url: route.url, config, schema });
    }
  });
  app.addHook('onReady', async () => {
    const undeclared: string[] = [];
    for (const r of routes) {
      if (r.config.scope === undefined && r.method !== 'HEAD') undeclared.push(`${r.method} ${r.url}`);
      const access: RouteAccess = r.config.scope ?? 'admin';
      if (r.schema['x-scope'] !== undefined) continue;
      r.schema['x-scope'] = access;
      if (access === 'public') continue;
      const openable = OPEN_READ_SCOPES.includes(access) && r.config.alwaysToken !== true;
      r.schema.security = openable && !opts.requireTokenForReads ? [{}, { bearer: [] }] : [{ bearer: [] }];
      const note = `Needs a token with the \`${access}\` scope${openable ? ' when api.requireTokenForReads is on (open otherwise)' : ''}.`;
      r.schema.description = typeof r.schema.description === 'string' ? `${r.schema.description}\n\n${note}` : note;
    }
    if (undeclared.length > 0) app.log.error({ routes: undeclared }, 'routes without a declared scope are closed to all but admin tokens: declare config.scope');
  });
  app.addHook('onRequest', corsHook(opts.cors));
  const failures = new AuthFailureLimiter({ max: opts.rateLimit.authFailMax, windowMs: opts.rateLimit.timeWindowMs, maxClients: 10_000 }, { clock: ctx.clock ?? Date.now });
  app.addHook('onRequest', accessHook(ctx, { requireTokenForReads: opts.requireTokenForReads, failures }));
  if (ctx.audit !== undefined) {
    const failed = metrics.reject.bind(metrics);
    registerAuditTrail(app, ctx.audit, (err) => {
      failed('AUDIT_WRITE_FAILED', 'api');
      app.log.error({ err: err.message }, 'audit record not written');
    });
  }
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe({ route: req.routeOptions.url ?? 'unmatched', method: req.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'tracechain node API',
        version: API_VERSION,
        description:
          'Capture GS1 EPCIS 2.0 events onto a permissioned proof-of-work chain, and answer provenance questions with proofs anyone can check. Errors are RFC 9457 problem details.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token (tracechain token create; the dev node\'s all-scopes token is DATA/api-token). Each operation names the scope it needs in x-scope: read, capture, subscribe, verify, admin or private.',
          },
        },
      },
      tags: [
        { name: 'capture', description: 'Write routes (bearer token)' },
        { name: 'provenance', description: 'Events and txs with merkle proofs' },
        { name: 'query', description: 'EPCIS 2.0 query' },
        { name: 'verify', description: 'Item status' },
        { name: 'blocks', description: 'Blocks and headers' },
        { name: 'node', description: 'Health, metrics, this document' },
        { name: 'governance', description: 'Members and governance proposals (docs/governance.md)' },
        { name: 'alerts', description: 'Alerts with a lifecycle, undo of a dispense (docs/alerts.md)' },
      ],
    },
  });
  const pressureLimits = { maxEventLoopDelayMs: opts.maxEventLoopDelayMs, maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * opts.maxHeapFraction) };
  const shedder = new LoadShedder({ limits: pressureLimits }, { log: logger.child({ module: 'load-shedding' }), onShed: (measure) => metrics.shed(measure) });
  app.addHook('onClose', async () => shedder.close());
  // under-pressure watches the heap; the loop delay is the shedder's own probe (load-shedding.ts).
  await app.register(underPressure, {
    maxEventLoopDelay: 0,
    maxHeapUsedBytes: pressureLimits.maxHeapUsedBytes,
    pressureHandler: shedder.handler,
    retryAfter: 1,
    sampleInterval: 500,
  });
  app.addHook('onRequest', async (req) => {
    // A route with its own pressure handler (/health, /metrics: they let every request through) is not shed.
    if (req.routeOptions.config.pressureHandler !== undefined) return;
    const problem = shedder.checkLoop();
    if (problem !== undefined) throw problem;
  });
  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimit.readMax,
    timeWindow: opts.rateLimit.timeWindowMs,
    cache: 10_000,
    errorResponseBuilder: (_req, context) =>
      new HttpProblem('RATE_LIMITED', `at most ${context.max} requests per ${context.after} from one client; retry later`),
  });

  let pool: CapturePool | undefined;
  if (ctx.signer !== undefined) {
    pool = await CapturePool.start(
      { workers: opts.captureWorkers, maxQueue: opts.captureQueue },
      {
        member: ctx.signer.member,
        secretKey: ctx.signer.secretKey,
        chainId: ctx.chain.chainId,
        maxTxBytes: ctx.chain.params.maxTxBytes,
        maxEventsPerTx: ctx.chain.params.maxEventsPerTx,
      },
      logger,
    );
    const p = pool;
    app.addHook('onClose', async () => p.close());
  }
  const provenance = new Provenance(ctx.chain, { blockCacheBytes: opts.blockCacheBytes, proofCacheBytes: opts.proofCacheBytes });
  app.addHook('onClose', async () => provenance.close());
  metrics.setSources({ proofCaches: () => provenance.cacheStats() });
  const writeDeps: WriteRouteDeps = {
    ctx,
    pool,
    provenance,
    jobs: new CaptureJobs({ maxJobs: MAX_CAPTURE_JOBS }, { whereabouts: chainWhereabouts(ctx.chain), clock: ctx.clock ?? Date.now }),
    rateLimit: { max: opts.rateLimit.writeMax, timeWindowMs: opts.rateLimit.timeWindowMs },
    requireTokenForReads: opts.requireTokenForReads,
  };
  const readDeps: ReadRouteDeps = {
    ctx,
    provenance,
    requireTokenForReads: opts.requireTokenForReads,
    queryLimits: { ...DEFAULT_QUERY_LIMITS, scanBudget: opts.queryScanBudget },
    maxTraceEvents: opts.maxTraceEvents,
    traceBytesBudget: opts.traceBytesBudget,
  };

  await app.register(async (scope) => healthRoutes(scope, ctx));
  await app.register(async (scope) => blockRoutes(scope, ctx));
  await app.register(async (scope) => captureRoutes(scope, writeDeps));
  await app.register(async (scope) => txRoutes(scope, writeDeps));
  await app.register(async (scope) => eventRoutes(scope, readDeps));
  await app.register(async (scope) => traceRoutes(scope, readDeps));
  await app.register(async (scope) => metricsRoutes(scope, metrics));
  await app.register(async (scope) => docsRoutes(scope));
  await app.register(async (scope) => peerRoutes(scope, ctx));
  await app.register(async (scope) => adminRoutes(scope, ctx));
  await app.register(async (scope) => auditRoutes(scope, ctx));
  await app.register(async (scope) => tokenRoutes(scope, ctx));
  await app.register(async (scope) => explorerRoutes(scope, ctx));
  await app.register(async (scope) => governanceRoutes(scope, ctx));
  await app.register(async (scope) => privateRoutes(scope, { ctx, provenance }));
  await app.register(async (scope) => verificationRoutes(scope, ctx));
  const queries = ctx.queries;
  if (queries !== undefined) await app.register(async (scope) => queryRoutes(scope, readDeps, queries));
  await app.register(async (scope) => alertRoutes(scope, writeDeps));
  addOptionsRoutes(app, resources, { captureLimit: ctx.chain.params.maxEventsPerTx, captureFileSizeLimit: opts.bodyLimit, vendorVersion: `tracechain-api-${API_VERSION}` });
  return app;
}
