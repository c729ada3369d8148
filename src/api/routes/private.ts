/**
 * Private events' bodies (docs/confidentiality.md): GET /private/{commitment} answers the event's
 * chain entry (its projection, block and merkle proof to the commitment) with the revealed body
 * and salt when this node holds them, so `tracechain verify-proof` can check the whole chain of
 * evidence. A node holds a body only when its member is entitled to it (the submitter, the
 * members named as source or destination parties, the regulators); any other node answers 403.
 * GET /private?eventId= finds the same answer by the event's CBV 2.0 event ID.
 */
import type { FastifyInstance } from 'fastify';
import type { JsonObject } from '../../common/json.js';
import { eventIdOf } from '../../trace/document.js';
import { checkReveal, commitmentId, isProjection } from '../../trace/private-event.js';
import type { ApiContext } from '../context.js';
import { HttpProblem, storeDamaged } from '../problem.js';
import type { Provenance } from '../provenance.js';
import { problems } from '../schemas.js';
import { sendJson } from './events.js';

export async function privateRoutes(app: FastifyInstance, deps: { ctx: ApiContext; provenance: Provenance }): Promise<void> {
  const { ctx, provenance } = deps;

  /** The chain entry of a private event with the body and salt this node holds. */
  const answer = async (commitment: string): Promise<Record<string, unknown>> => {
    const privacy = ctx.privacy;
    if (privacy === undefined) throw new HttpProblem('NO_PRIVATE_STORE', 'this node keeps no private bodies');
    const entry = await provenance.eventById(commitmentId(commitment));
    if (entry === undefined) throw new HttpProblem('EVENT_NOT_FOUND', `no private event with commitment ${commitment} on the main chain or in the mempool`);
    if (!isProjection(entry.event)) throw new HttpProblem('NOT_PRIVATE', `event ${entry.eventId} is a public event: GET /events/{eventId}/proof`);
    const held = await privacy.bodies.get(commitment);
    if (held === undefined) {
      throw new HttpProblem('NOT_ENTITLED', `this node's member is not entitled to the body of private event ${commitment} (or has not received it yet): only the parties to the trade and the regulators hold it`);
    }
    if (held.purged) return { ...entry, body: null, bodyPurged: true };
    const event = JSON.parse(held.eventText) as JsonObject;
    // Every stored body was checked against its commitment; a mismatch now is damage.
    const check = checkReveal({ event, salt: held.salt }, commitment, entry.event);
    if (!check.ok) throw storeDamaged(`the stored body of ${commitment} does not open its commitment: ${check.message}`);
    return { ...entry, body: { eventId: eventIdOf(event), event, salt: held.salt } };
  };

  app.get<{ Querystring: { eventId: string } }>(
    '/private',
    {
      config: { scope: 'private' },
      schema: {
        summary: 'A private event this node holds the body of, found by its CBV 2.0 event ID (its identity for the entitled); answered as GET /private/{commitment}',
        tags: ['provenance'],
        querystring: { type: 'object', required: ['eventId'], additionalProperties: false, properties: { eventId: { type: 'string', minLength: 1, maxLength: 512 } } },
        response: { 200: { type: 'object', additionalProperties: true }, ...problems(400, 401, 403, 404, 503) },
      },
    },
    async (req, reply) => {
      if (ctx.privacy === undefined) throw new HttpProblem('NO_PRIVATE_STORE', 'this node keeps no private bodies');
      const [commitment] = await ctx.privacy.bodies.commitmentsOfEvents([req.query.eventId]);
      if (commitment === undefined) {
        throw new HttpProblem('NOT_ENTITLED', `this node holds no private body with event ID ${req.query.eventId.slice(0, 120)} (a public event is at GET /events/{eventId}/proof)`);
      }
      return sendJson(reply, await answer(commitment));
    },
  );

  app.get<{ Params: { commitment: string } }>(
    '/private/:commitment',
    {
      config: { scope: 'private' },
      schema: {
        summary: 'A private event: its projection, block and merkle proof to its commitment, and the body and salt when this node is entitled to them',
        description:
          'body is {eventId (CBV 2.0), event, salt}; after the retention period body is null and bodyPurged true. A node whose member is not entitled to the body (it never received it) answers 403 NOT_ENTITLED.',
        tags: ['provenance'],
        params: { type: 'object', required: ['commitment'], properties: { commitment: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
        response: { 200: { type: 'object', additionalProperties: true }, ...problems(400, 401, 403, 404, 503) },
      },
    },
    async (req, reply) => sendJson(reply, await answer(req.params.commitment)),
  );
}
