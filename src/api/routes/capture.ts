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
import type { CaptureFormat, CaptureMode, RefusedEvent } from '../capture-core.js';
import { MAX_CAPTURE_JOBS, type CaptureJobs } from '../capture-jobs.js';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../query.js';
import { TxError, type DuplicateEvent } from '../../common/errors.js';
import { commitmentId } from '../../trace/private-event.js';
import type { CapturePool } from '../capture-pool.js';
import type { ApiContext, PrivacyContext } from '../context.js';
import { clientKey } from '../auth.js';
import { HttpProblem, RelayedProblem, storeUnwritable, toProblem } from '../problem.js';
import type { Provenance } from '../provenance.js';
import { problems } from '../schemas.js';
import { sendJson } from './events.js';

export interface WriteRouteDeps {
  ctx: ApiContext;
  pool: CapturePool | undefined;
  provenance: Provenance;
  jobs: CaptureJobs;
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
  const { ctx, pool, jobs } = deps;
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
          'Answers 202 once the tx is in the mempool and its record is fsynced in the tx log (a crash or power loss after the 202 loses nothing), with Location: /capture/{captureID}, the capture job (running until the tx is in a block of the main chain). Rollback (the default): nothing is stored unless every event is valid and new; a refused document is answered with its problem (every problem listed) and a Location naming its finished job. Proceed: the valid events are captured and the job lists each refused one. ' +
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
      try {
        const accepted = await capture(req.body as Buffer, formatOf(req.headers['content-type']), behaviour, sharing, pool);
        const captureID = jobs.accepted({ behaviour, ...accepted });
        req.auditChange = { txId: accepted.txId, events: accepted.eventIds.length };
        reply.code(202).header('location', `/capture/${captureID}`).header('gs1-capture-error-behaviour', behaviour);
        return reply.send({ captureID, ...accepted });
      } catch (err) {
        // A document refused (not a node busy or failing): its job, finished, lists every problem.
        const p = toProblem(err);
        if (p.status >= 400 && p.status < 500 && p.status !== 429) reply.header('location', `/capture/${jobs.refused(behaviour, p)}`);
        throw err;
      }
    },
  );

  /** One capture: prepared in a worker, signed, admitted (proceed: duplicates left out, bounded rounds). */
  const capture = async (
    body: Buffer,
    format: CaptureFormat,
    behaviour: CaptureMode['behaviour'],
    sharing: 'public' | 'private',
    pool: CapturePool,
  ): Promise<{ txId: string; eventIds: string[]; refused?: RefusedEvent[]; sharing?: 'private'; cbvEventIds?: string[] }> => {
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
      return {
        txId: outcome.txId,
        eventIds: outcome.eventIds,
        ...(outcome.refused !== undefined ? { refused: outcome.refused } : {}),
        ...(outcome.bodies !== undefined ? { sharing: 'private' as const, cbvEventIds: outcome.bodies.map((b) => b.eventId) } : {}),
      };
    }
  };

  const jobQuery = {
    type: 'object',
    additionalProperties: false,
    properties: { perPage: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE }, nextPageToken: { type: 'string', maxLength: 128 } },
  };
  app.get<{ Querystring: { perPage: number; nextPageToken?: string } }>(
    '/capture',
    {
      config: { scope: 'capture' },
      schema: {
        summary: 'The capture jobs this node keeps (the binding\'s list of CaptureJob), oldest first, paged',
        description: `The newest ${MAX_CAPTURE_JOBS} jobs are kept, in memory (a restart forgets them; the captured txs stay). Follow GS1-Next-Page-Token (or Link rel="next") for more.`,
        tags: ['capture'],
        security: [{ bearer: [] }],
        querystring: jobQuery,
        response: { 200: { type: 'array', items: { $ref: 'CaptureJob#' } }, ...problems(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const after = req.query.nextPageToken === undefined ? 0 : decodeJobToken(req.query.nextPageToken);
      const page = await jobs.list(after, req.query.perPage);
      if (page.next !== undefined) {
        const token = encodeJobToken(page.next);
        reply.header('GS1-Next-Page-Token', token).header('link', `</capture?perPage=${req.query.perPage}&nextPageToken=${token}>; rel="next"`);
      }
      return sendJson(reply, page.jobs);
    },
  );

  app.get<{ Params: { captureID: string } }>(
    '/capture/:captureID',
    {
      config: { scope: 'capture' },
      schema: {
        summary: 'One capture job (the binding\'s CaptureJob): running until its tx is in a block of the main chain, then success; a refused document\'s or dropped tx\'s job lists every problem',
        tags: ['capture'],
        security: [{ bearer: [] }],
        params: { type: 'object', required: ['captureID'], properties: { captureID: { type: 'string', maxLength: 64 } } },
        response: { 200: { $ref: 'CaptureJob#' }, ...problems(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const job = await jobs.get(req.params.captureID);
      if (job === undefined) throw new HttpProblem('NOT_FOUND', `no capture job ${req.params.captureID} (this node keeps its newest ${MAX_CAPTURE_JOBS} jobs, in memory)`);
      return sendJson(reply, job);
    },
  );
}

function encodeJobToken(seq: number): string {
  return Buffer.from(JSON.stringify({ v: 1, j: seq })).toString('base64url');
}

function decodeJobToken(token: string): number {
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    t = undefined;
  }
  const j = (t as { v?: unknown; j?: unknown } | undefined)?.j;
  if ((t as { v?: unknown } | undefined)?.v !== 1 || typeof j !== 'number' || !Number.isSafeInteger(j) || j < 0) {
    throw new HttpProblem('QUERY_PARAMETER', 'nextPageToken: not a token this node issued', { errors: [{ path: '/nextPageToken', message: 'not a token this node issued', code: 'QUERY_PARAMETER' }] });
  }
  return j;
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
