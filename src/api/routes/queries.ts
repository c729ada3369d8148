/**
 * The binding's named queries and subscriptions: POST/GET /queries, GET/DELETE /queries/{name},
 * GET /queries/{name}/events (the stored query run by the /events engine, or, with a WebSocket
 * upgrade, its events streamed as they get their confirmations), and the webhook subscriptions
 * /queries/{name}/subscriptions[/{id}]. Registered only when the node runs a notification
 * service (ApiContext.queries). Managing queries and subscriptions needs the `subscribe` scope;
 * reading a query and its events is a read.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import websocket from '@fastify/websocket';
import type { QueryService, SubscriptionInput } from '../notify-port.js';
import { HttpProblem } from '../problem.js';
import { problems } from '../schemas.js';
import { serveStream } from '../ws-stream.js';
import { answerEventsQuery, type ReadRouteDeps } from './events.js';
import type { RawQuery } from '../query.js';
import { alertSubscriptionRoutes } from './alert-subscriptions.js';

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 128 } } };
const subParam = { type: 'object', required: ['name', 'id'], properties: { name: { type: 'string', maxLength: 128 }, id: { type: 'string', maxLength: 64 } } };

const scheduleSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'].map((k) => [k, { type: 'string', maxLength: 200 }])),
};

const queryDefinition = {
  type: 'object',
  required: ['name', 'query'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128 },
    query: { type: 'object', description: 'GET /events parameters: each a string or a list of strings (docs/api.md lists them)' },
  },
};

const subscriptionBody = {
  type: 'object',
  required: ['dest'],
  additionalProperties: false,
  properties: {
    dest: { type: 'string', maxLength: 2048, description: 'https URL (plain http to loopback, or where notify.allowHttp allows)' },
    signatureToken: { type: 'string', maxLength: 1024, description: 'Your secret (16+ characters): each delivery carries GS1-Signature: sha256=HMAC-SHA256(secret, body) in hex' },
    secret: { type: 'string', maxLength: 1024, description: 'Alias of signatureToken' },
    stream: { type: 'boolean' },
    schedule: scheduleSchema,
    reportIfEmpty: { type: 'boolean' },
    initialRecordTime: { type: 'string', maxLength: 64 },
    confirmations: { type: 'integer', minimum: 1, maximum: 10_000, description: 'Confirmations before delivery (default: the finality depth)' },
  },
};

const streamQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    initialRecordTime: { type: 'string', maxLength: 64 },
    confirmations: { type: 'integer', minimum: 1, maximum: 10_000 },
    perPage: { type: 'integer', minimum: 1, maximum: 1000 },
    nextPageToken: { type: 'string', maxLength: 512 },
  },
};

function notFound(name: string): HttpProblem {
  return new HttpProblem('QUERY_NOT_FOUND', `no named query ${JSON.stringify(name)} (GET /queries lists them)`);
}

function subNotFound(name: string, id: string): HttpProblem {
  return new HttpProblem('SUBSCRIPTION_NOT_FOUND', `no subscription ${JSON.stringify(id)} of query ${JSON.stringify(name)}`);
}

function json(reply: FastifyReply, body: unknown, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

export async function queryRoutes(app: FastifyInstance, deps: ReadRouteDeps, service: QueryService): Promise<void> {
  await app.register(websocket, { options: { maxPayload: 4096 } });

  app.get('/queries', { config: { scope: 'read' }, schema: { summary: 'The named queries (binding)', tags: ['query'], response: problems(401, 403) } }, async (_req, reply) =>
    json(reply, await service.listQueries()),
  );

  app.post<{ Body: { name: string; query: Record<string, unknown> } }>(
    '/queries',
    { config: { scope: 'subscribe' }, schema: { summary: 'Create a named query (binding)', tags: ['query'], body: queryDefinition, response: problems(400, 401, 403, 409) } },
    async (req, reply) => {
      const q = await service.createQuery(req.body.name, req.body.query);
      reply.header('location', `/queries/${encodeURIComponent(q.name)}`);
      return json(reply, q, 201);
    },
  );

  app.get<{ Params: { name: string } }>(
    '/queries/:name',
    { config: { scope: 'read' }, schema: { summary: 'One named query (binding)', tags: ['query'], params: nameParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      const q = await service.getQuery(req.params.name);
      if (q === undefined) throw notFound(req.params.name);
      return json(reply, q);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/queries/:name',
    { config: { scope: 'subscribe' }, schema: { summary: 'Delete a named query and its subscriptions (binding)', tags: ['query'], params: nameParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      if (!(await service.deleteQuery(req.params.name))) throw notFound(req.params.name);
      return reply.code(204).send();
    },
  );

  app.route<{ Params: { name: string }; Querystring: { initialRecordTime?: string; confirmations?: number; perPage?: number; nextPageToken?: string } }>({
    method: 'GET',
    url: '/queries/:name/events',
    config: { scope: 'read' },
    schema: {
      summary: "The named query's events, paged as GET /events; with a WebSocket upgrade, its events as they get their confirmations (binding)",
      description: 'WebSocket: one EPCISQueryDocument per event, in chain order, from initialRecordTime (default now), after `confirmations` (default the finality depth): the same sequence a stream subscription delivers.',
      tags: ['query'],
      params: nameParam,
      querystring: streamQuerystring,
      response: problems(400, 401, 403, 404),
    },
    handler: async (req, reply) => {
      const q = await service.getQuery(req.params.name);
      if (q === undefined) throw notFound(req.params.name);
      const raw: RawQuery = { ...(q.query as RawQuery) };
      if (req.query.perPage !== undefined) raw.perPage = req.query.perPage;
      if (req.query.nextPageToken !== undefined) raw.nextPageToken = req.query.nextPageToken;
      return answerEventsQuery(deps, req, reply, raw);
    },
    wsHandler: (socket, req) =>
      serveStream(socket, req, (sink) =>
        service.openStream(
          req.params.name,
          { ...(req.query.initialRecordTime !== undefined ? { initialRecordTime: req.query.initialRecordTime } : {}), ...(req.query.confirmations !== undefined ? { confirmations: req.query.confirmations } : {}) },
          sink,
        ),
      ),
  });

  app.get<{ Params: { name: string } }>(
    '/queries/:name/subscriptions',
    { config: { scope: 'subscribe' }, schema: { summary: "The named query's subscriptions (binding); secrets shown by their last 4 characters", tags: ['query'], params: nameParam, response: problems(401, 403, 404) } },
    async (req, reply) => json(reply, await service.listSubscriptions(req.params.name)),
  );

  app.post<{ Params: { name: string }; Body: SubscriptionInput & { secret?: string } }>(
    '/queries/:name/subscriptions',
    {
      config: { scope: 'subscribe' },
      schema: {
        summary: 'Subscribe a webhook to a named query (binding): stream, or a schedule',
        description: 'Deliveries are POSTs of an EPCISQueryDocument signed in GS1-Signature (sha256=<hex HMAC-SHA256 of the body under signatureToken>), each with a Tracechain-Delivery-Id that is the same on every retry. docs/notifications.md.',
        tags: ['query'],
        params: nameParam,
        body: subscriptionBody,
        response: problems(400, 401, 403, 404, 409),
      },
    },
    async (req, reply) => {
      const { secret, ...rest } = req.body;
      const input: SubscriptionInput = { ...rest, signatureToken: req.body.signatureToken ?? secret ?? '' };
      const view = await service.subscribe(req.params.name, input);
      reply.header('location', `/queries/${encodeURIComponent(req.params.name)}/subscriptions/${view.subscriptionID}`);
      return json(reply, view, 201);
    },
  );

  app.get<{ Params: { name: string; id: string } }>(
    '/queries/:name/subscriptions/:id',
    { config: { scope: 'subscribe' }, schema: { summary: 'One subscription: its cursor, pending delivery, and status (paused with the reason)', tags: ['query'], params: subParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      const view = await service.getSubscription(req.params.name, req.params.id);
      if (view === undefined) throw subNotFound(req.params.name, req.params.id);
      return json(reply, view);
    },
  );

  app.delete<{ Params: { name: string; id: string } }>(
    '/queries/:name/subscriptions/:id',
    { config: { scope: 'subscribe' }, schema: { summary: 'Unsubscribe (binding)', tags: ['query'], params: subParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      if (!(await service.unsubscribe(req.params.name, req.params.id))) throw subNotFound(req.params.name, req.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { name: string; id: string } }>(
    '/queries/:name/subscriptions/:id/resume',
    { config: { scope: 'subscribe' }, schema: { summary: 'Resume a paused subscription from its cursor', tags: ['query'], params: subParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      const view = await service.resume(req.params.name, req.params.id);
      if (view === undefined) throw subNotFound(req.params.name, req.params.id);
      return json(reply, view);
    },
  );

  // Alert subscriptions and the alert stream: the same service, the same WebSocket plugin.
  await alertSubscriptionRoutes(app, service);
}
