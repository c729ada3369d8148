/**
 * Write routes: POST /capture (an EPCIS 2.0 document; the node validates it, signs one tx with
 * its member key and admits it) and POST /txs (a tx signed elsewhere, fully verified), plus
 * GET /txs/:id. Both writes need a token with the capture scope and are rate limited per client.
 */
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type {} from '@fastify/rate-limit';
import { fromHex, utf8 } from '../../common/bytes.js';
import { checkTxShape } from '../../chain/tx.js';
import type { SignedTx } from '../../chain/types.js';
import type { CaptureFormat, CaptureMode } from '../capture-core.js';
import { TxError, type DuplicateEvent } from '../../common/errors.js';
import { commitmentId } from '../../trace/private-event.js';
import type { CapturePool } from '../capture-pool.js';
import type { ApiContext, PrivacyContext } from '../context.js';
import { clientKey } from '../auth.js';
import { HttpProblem, RelayedProblem, storeUnwritable } from '../problem.js';
import type { Provenance } from '../provenance.js';
import { problems } from '../schemas.js';
import { sendJson } from './events.js';

export interface WriteRouteDeps {
  ctx: ApiContext;
  pool: CapturePool | undefined;
  provenance: Provenance;
  rateLimit: { max: number; timeWindowMs: number };
  requireTokenForReads: boolean;
}

export const CAPTURE_JSON_TYPES = ['application/json', 'application/ld+json'];
export const CAPTURE_XML_TYPES = ['application/xml', 'text/xml'];
export const CAPTURE_MEDIA_TYPES = [...CAPTURE_JSON_TYPES, ...CAPTURE_XML_TYPES];

/** The capture format of a request's Content-Type (the parser admitted only these types). */
function formatOf(contentType: string | undefined): CaptureFormat {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return CAPTURE_XML_TYPES.includes(type) ? 'xml' : 'json';
}

export async function captureRoutes(app: FastifyInstance, deps: WriteRouteDeps): Promise<void> {
  const { ctx, pool } = deps;
  // The body goes to a capture worker as raw bytes: it is parsed there (safely), not here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(CAPTURE_MEDIA_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post(
    '/capture',
    {
      onRequest: refuseWhileUnwritable(ctx),
      config: { scope: 'capture', rateLimit: { max: deps.rateLimit.max, timeWindow: deps.rateLimit.timeWindowMs, keyGenerator: clientKey } },
      schema: {
        summary: 'Capture an EPCIS 2.0 document (JSON, JSON-LD or XML): one signed tx carrying all its events',
        description:
          'Answers 202 once the tx is in the mempool and its record is fsynced in the tx log (a crash or power loss after the 202 loses nothing); poll GET /events/{eventId} or /txs/{txId} for the block. Nothing is stored unless every event is valid and new. ' +
          '?sharing=private (or the node default, privacy.defaultSharing) puts only salted commitments and projections on chain and keeps the bodies for the entitled members (docs/confidentiality.md); the answer then lists the commitments as eventIds and the CBV event IDs as cbvEventIds.',
        tags: ['capture'],
        security: [{ bearer: [] }],
        consumes: CAPTURE_MEDIA_TYPES,
        body: { description: 'An EPCIS 2.0 EPCISDocument or EPCISQueryDocument: JSON / JSON-LD, or XML (EPCIS 2.0, and 1.2 where it maps)' },
        response: { 202: { $ref: 'Accepted#' }, ...problems(400, 401, 403, 409, 413, 415, 429, 503) },
      },
    },
    async (req, reply) => {
      if (ctx.signer === undefined || pool === undefined) {
        throw new HttpProblem('NO_SIGNER', 'this node has no member key to sign captures with');
      }
      const behaviour = errorBehaviour(req.headers['gs1-capture-error-behaviour']);
      const sharing = sharingOf((req.query as { sharing?: unknown }).sharing, ctx);
      const body = req.body as Buffer;
      const format = formatOf(req.headers['content-type']);
      const exclude: string[] = [];
      // rollback: one try. proceed: the events the chain already holds are left out and the rest
      // prepared again (bounded: each round excludes at least one more event).
      for (let round = 0; ; round++) {
        const outcome = await pool.prepare(body, (ctx.clock ?? Date.now)(), format, { behaviour, exclude, sharing });
        if (!outcome.ok) {
          throw new RelayedProblem(outcome.problem);
        }
        const tx = JSON.parse(outcome.tx) as SignedTx;
        try {
          // The same event captured again: the chain sees a private event only by its salted
          // commitment, so this node's private store answers for the events it holds.
          const held = await heldDuplicates(ctx, outcome.bodies !== undefined ? outcome.bodies.map((b) => b.eventId) : outcome.eventIds, outcome.bodies !== undefined);
          if (held.length > 0) throw new TxError('DUPLICATE_EVENT', `${held.length} event(s) already recorded`, { duplicates: held });
          // A private capture's bodies are stored (synced) before its tx is admitted: an accepted
          // private event always has its body on this node.
          if (outcome.bodies !== undefined) await (ctx.privacy as PrivacyContext).bodies.put(outcome.bodies, (ctx.clock ?? Date.now)());
          // The worker's canonical string is the tx's canonical bytes: no second JCS pass here.
          await ctx.chain.submitTx(tx, { id: fromHex(outcome.txId, 32), raw: utf8.encode(outcome.tx), origin: 'local', verified: true });
        } catch (err) {
          const again = behaviour === 'proceed' && round < 3 ? duplicatesOf(err) : undefined;
          if (again === undefined || again.length === 0) throw err;
          exclude.push(...again);
          continue;
        }
        req.auditChange = { txId: outcome.txId, events: outcome.eventIds.length };
        reply.code(202).header('location', `/txs/${outcome.txId}`).header('gs1-capture-error-behaviour', behaviour);
        return reply.send({
          txId: outcome.txId,
          eventIds: outcome.eventIds,
          ...(outcome.refused !== undefined ? { refused: outcome.refused } : {}),
          ...(outcome.bodies !== undefined ? { sharing: 'private', cbvEventIds: outcome.bodies.map((b) => b.eventId) } : {}),
        });
      }
    },
  );
}

/** The `sharing` query parameter (docs/confidentiality.md): public or private; absent: the node's default. */
function sharingOf(raw: unknown, ctx: ApiContext): 'public' | 'private' {
  const v = Array.isArray(raw) ? raw[0] : raw;
  const mode = v === undefined || v === '' ? (ctx.privacy?.defaultSharing ?? 'public') : v;
  if (mode !== 'public' && mode !== 'private') throw new HttpProblem('BAD_SHARING', `sharing=${String(mode).slice(0, 40)} is not a sharing mode; give public or private`);
  if (mode === 'private' && ctx.privacy === undefined) throw new HttpProblem('NO_PRIVATE_STORE', 'this node keeps no private bodies, so it cannot capture in private mode');
  return mode;
}

/** The GS1-Capture-Error-Behaviour header: rollback (the default) or proceed. */
function errorBehaviour(raw: string | string[] | undefined): CaptureMode['behaviour'] {
  const v = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'rollback') return 'rollback';
  if (v === 'proceed') return 'proceed';
  throw new HttpProblem('BAD_CAPTURE_BEHAVIOUR', `GS1-Capture-Error-Behaviour: ${v} is not served; give rollback (all or nothing, the default) or proceed (valid events captured, each refused one listed)`);
}

/**
 * Events of a capture this node already recorded where the chain's own duplicate check cannot
 * see them (docs/confidentiality.md): an event it holds the private body of (its commitment on
 * the main chain or pending; a body whose capture was refused does not count), and, for a
 * private capture, an event recorded in public. By CBV 2.0 event ID.
 */
async function heldDuplicates(ctx: ApiContext, eventIds: readonly string[], privateCapture: boolean): Promise<DuplicateEvent[]> {
  const commitments = ctx.privacy === undefined ? [] : await ctx.privacy.bodies.commitmentsOfEvents(eventIds);
  // The chain's IDs to look for, and the captured event ID each stands for.
  const asked = new Map<string, string>();
  commitments.forEach((c, i) => {
    if (c !== undefined) asked.set(commitmentId(c), eventIds[i] as string);
  });
  if (privateCapture) for (const id of eventIds) asked.set(id, id);
  if (asked.size === 0) return [];
  // The chain's own lookup: mempool, then the main chain's index behind its Bloom filter.
  const found = await ctx.chain.findDuplicateEvents([...asked.keys()]);
  const out = new Map<string, DuplicateEvent>();
  for (const d of found) {
    const eventId = asked.get(d.eventId) as string;
    if (!out.has(eventId)) out.set(eventId, { ...d, eventId });
  }
  return [...out.values()];
}

/** The event IDs a refused tx duplicates (a DUPLICATE_EVENT naming them), else undefined. */
function duplicatesOf(err: unknown): string[] | undefined {
  if (!(err instanceof TxError) || err.type.code !== 'DUPLICATE_EVENT') return undefined;
  const t = err.type;
  if ('duplicates' in t) return t.duplicates.map((d) => d.eventId);
  return [t.eventId];
}

/**
 * onRequest hook of the write routes (after the token check, before the body is read): refuse
 * while the chain store refuses writes (disk space low, a failed write). An accepted tx must be
 * able to reach a block, so accept none until the store is writable again.
 */
export function refuseWhileUnwritable(ctx: ApiContext): onRequestHookHandler {
  return async () => {
    const storage = ctx.status.storage?.();
    if (storage === undefined || storage.writable) return;
    throw storeUnwritable(`this node is not accepting writes: ${storage.reason ?? 'the chain store refuses writes'}`);
  };
}

export async function txRoutes(app: FastifyInstance, deps: WriteRouteDeps): Promise<void> {
  const { ctx, provenance } = deps;
  app.post<{ Body: unknown }>(
    '/txs',
    {
      onRequest: refuseWhileUnwritable(ctx),
      config: { scope: 'capture', rateLimit: { max: deps.rateLimit.max, timeWindow: deps.rateLimit.timeWindowMs, keyGenerator: clientKey } },
      schema: {
        summary: 'Submit a tx signed elsewhere (by a member key); fully verified like a gossiped tx; 202 once fsynced in the tx log',
        tags: ['capture'],
        security: [{ bearer: [] }],
        body: { $ref: 'SignedTx#' },
        response: { 202: { $ref: 'Accepted#' }, ...problems(400, 401, 403, 409, 413, 415, 429, 503) },
      },
    },
    async (req, reply) => {
      const tx = checkTxShape(req.body, ctx.chain.limits);
      const { txId } = await ctx.chain.submitTx(tx, { origin: 'local' });
      req.auditChange = { txId, events: tx.eventIds.length };
      return reply.code(202).header('location', `/txs/${txId}`).send({ txId, eventIds: tx.eventIds });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/txs/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A tx by ID, with its block, confirmations and merkle proof (pending: block null)',
        tags: ['provenance'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
        response: { 200: { $ref: 'TxEntry#' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const entry = await provenance.txById(req.params.id);
      if (entry === undefined) throw new HttpProblem('TX_NOT_FOUND', `no tx ${req.params.id} on the main chain or in the mempool`);
      return sendJson(reply, entry);
    },
  );
}
