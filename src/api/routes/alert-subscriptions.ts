/**
 * Alert subscriptions (docs/notifications.md "Alert subscriptions"): webhooks that are sent the
 * alerts raised and their status changes, as named-query subscriptions are sent events, and the
 * same sequence as a WebSocket stream at GET /alerts/events. Registered with the /queries routes
 * (the notification service and its WebSocket plugin). Managing subscriptions needs the
 * `subscribe` scope; the stream is a read.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AlertFilterInput, AlertSubscriptionInput, QueryService } from '../notify-port.js';
import { HttpProblem } from '../problem.js';
import { problems } from '../schemas.js';
import { serveStream } from '../ws-stream.js';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } };

const filterProperties = {
  owner: { type: 'string', minLength: 1, maxLength: 200, description: 'The owner (manufacturer): key ID or name. "New alerts on my products": owner = me' },
  party: { type: 'string', minLength: 1, maxLength: 200, description: 'A member involved (holder, custodian, submitter): key ID or name. "Recalls touching what I hold": party = me, codes = [RECALL]' },
  gtin: { type: 'string', maxLength: 14, description: 'With lot: alerts about this lot' },
  lot: { type: 'string', maxLength: 20 },
} as const;

const subscriptionBody = {
  type: 'object',
  required: ['dest'],
  additionalProperties: false,
  properties: {
    dest: { type: 'string', maxLength: 2048, description: 'https URL (plain http to loopback, or where notify.allowHttp allows)' },
    signatureToken: { type: 'string', maxLength: 1024, description: 'Your secret (16+ characters): each delivery carries GS1-Signature: sha256=HMAC-SHA256(secret, body) in hex' },
    secret: { type: 'string', maxLength: 1024, description: 'Alias of signatureToken' },
    ...filterProperties,
    codes: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 64 }, description: 'Alert codes, any of them (RECALL, DISPENSED_TWICE, …)' },
    events: { type: 'array', maxItems: 2, items: { type: 'string', maxLength: 16 }, description: 'raised, status (lifecycle changes); default both' },
    initialRecordTime: { type: 'string', maxLength: 64, description: 'Alerts of blocks from this time on (default: now)' },
    confirmations: { type: 'integer', minimum: 1, maximum: 10_000, description: 'Confirmations before delivery (default: the finality depth)' },
  },
};

const streamQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...filterProperties,
    codes: { type: 'string', maxLength: 2000, description: 'Comma-separated alert codes' },
    events: { type: 'string', maxLength: 40, description: 'Comma-separated: raised, status' },
    initialRecordTime: { type: 'string', maxLength: 64 },
    confirmations: { type: 'integer', minimum: 1, maximum: 10_000 },
  },
};

function notFound(id: string): HttpProblem {
  return new HttpProblem('SUBSCRIPTION_NOT_FOUND', `no alert subscription ${JSON.stringify(id)} (GET /alerts/subscriptions lists them)`);
}

function json(reply: FastifyReply, body: unknown, status = 200): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

type StreamQuery = Omit<AlertFilterInput, 'codes' | 'events'> & { codes?: string; events?: string; initialRecordTime?: string; confirmations?: number };

function streamOptions(q: StreamQuery): AlertFilterInput & { initialRecordTime?: string; confirmations?: number } {
  const { codes, events, ...rest } = q;
  const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { ...rest, ...(codes !== undefined ? { codes: list(codes) } : {}), ...(events !== undefined ? { events: list(events) } : {}) };
}

export async function alertSubscriptionRoutes(app: FastifyInstance, service: QueryService): Promise<void> {
  app.get('/alerts/subscriptions', { config: { scope: 'subscribe' }, schema: { summary: 'The alert subscriptions; secrets shown by their last 4 characters', tags: ['alerts'], response: problems(401, 403) } }, async (_req, reply) =>
    json(reply, service.listAlertSubscriptions()),
  );

  app.post<{ Body: AlertSubscriptionInput & { secret?: string } }>(
    '/alerts/subscriptions',
    {
      config: { scope: 'subscribe' },
      schema: {
        summary: 'Subscribe a webhook to alerts: those raised and their status changes, filtered by owner, party, lot, codes',
        description: 'Each delivery is a POST of an AlertNotification (the alert as it stood after its block, the changes of that block, the block) signed in GS1-Signature, with a Tracechain-Delivery-Id that is the same on every retry. docs/notifications.md.',
        tags: ['alerts'],
        body: subscriptionBody,
        response: problems(400, 401, 403, 409),
      },
    },
    async (req, reply) => {
      const { secret, ...rest } = req.body;
      const view = await service.subscribeAlerts({ ...rest, signatureToken: req.body.signatureToken ?? secret ?? '' });
      reply.header('location', `/alerts/subscriptions/${view.subscriptionID}`);
      return json(reply, view, 201);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/alerts/subscriptions/:id',
    { config: { scope: 'subscribe' }, schema: { summary: 'One alert subscription: its cursor, pending delivery, and status (paused with the reason)', tags: ['alerts'], params: idParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      const view = service.getAlertSubscription(req.params.id);
      if (view === undefined) throw notFound(req.params.id);
      return json(reply, view);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/alerts/subscriptions/:id',
    { config: { scope: 'subscribe' }, schema: { summary: 'End an alert subscription', tags: ['alerts'], params: idParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      if (!(await service.unsubscribeAlerts(req.params.id))) throw notFound(req.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { id: string } }>(
    '/alerts/subscriptions/:id/resume',
    { config: { scope: 'subscribe' }, schema: { summary: 'Resume a paused alert subscription from its cursor', tags: ['alerts'], params: idParam, response: problems(401, 403, 404) } },
    async (req, reply) => {
      const view = await service.resumeAlerts(req.params.id);
      if (view === undefined) throw notFound(req.params.id);
      return json(reply, view);
    },
  );

  app.route<{ Querystring: StreamQuery }>({
    method: 'GET',
    url: '/alerts/events',
    config: { scope: 'read' },
    schema: {
      summary: 'WebSocket: the alerts raised and their status changes as they get their confirmations (the sequence an alert subscription is sent)',
      description: 'Filters as POST /alerts/subscriptions (codes and events comma-separated). Without a WebSocket upgrade: 426 WEBSOCKET_REQUIRED.',
      tags: ['alerts'],
      querystring: streamQuerystring,
      response: problems(400, 401, 403, 426),
    },
    handler: async () => {
      throw new HttpProblem('WEBSOCKET_REQUIRED', 'GET /alerts/events streams over a WebSocket: connect with an upgrade (GET /alerts lists alerts)');
    },
    wsHandler: (socket, req) => serveStream(socket, req, (sink) => service.openAlertStream(streamOptions(req.query), sink)),
  });
}
