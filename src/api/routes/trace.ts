/**
 * GET /trace/:epc (an item's events in chain order, each with its proof, plus its status),
 * GET /verify?id= and the GS1 Digital Link resolver path GET /01/:gtin/21/:serial (the item's
 * status for a pharmacist or a patient scanning a pack).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { effectiveStatus, encodeDigitalLinkValue, itemKeyInfo, TraceError, type ItemKeyInfo, type ItemRecord, type ItemStatus } from '../../trace/index.js';
import type { ApiContext } from '../context.js';
import { BadIdentifierError, storeDamaged } from '../problem.js';
import { BufferPool } from '../buffer-pool.js';
import { JsonBytes } from '../json-bytes.js';
import { writeEventEntry } from '../provenance.js';
import { decodeToken, encodeToken } from '../query.js';
import { problems } from '../schemas.js';
import type { ReadRouteDeps } from './events.js';

function keyInfo(id: string, param: string): ItemKeyInfo {
  try {
    return itemKeyInfo(id);
  } catch (err) {
    if (err instanceof TraceError) throw new BadIdentifierError(param, err);
    throw err;
  }
}

export interface ItemView {
  id: string;
  key: string;
  status: ItemStatus;
  manufacturer: string | null;
  manufacturerId: string | null;
  lot: string | null;
  expiry: string | null;
  custodian: string | null;
  custodianId: string | null;
  gtin: string | null;
  serial: string | null;
  lotRecalled: boolean;
  lastEventId: string | null;
  alerts: ItemRecord['alerts'];
}

/** The status answer for one identifier (unknown, with nulls, for an item never seen). */
export async function itemView(ctx: ApiContext, id: string, info: ItemKeyInfo): Promise<ItemView> {
  const { store, registry } = ctx.chain;
  const rec = (await store.getItem(info.key)) as ItemRecord | undefined;
  const gtin = rec?.gtin ?? info.gtin ?? null;
  const lot = rec?.lot ?? info.lot ?? null;
  const lotRecalled = gtin !== null && lot !== null ? await store.isLotRecalled({ gtin, lot }) : false;
  const name = (memberId: string | null): string | null => (memberId === null ? null : (registry.get(memberId)?.name ?? memberId));
  let status: ItemStatus;
  if (rec !== undefined) status = effectiveStatus(rec, lotRecalled);
  else status = lotRecalled && info.serial === undefined ? 'recalled' : 'unknown';
  return {
    id,
    key: info.key,
    status,
    manufacturer: name(rec?.manufacturer ?? null),
    manufacturerId: rec?.manufacturer ?? null,
    lot,
    expiry: rec?.expiry ?? null,
    custodian: name(rec?.custodian ?? null),
    custodianId: rec?.custodian ?? null,
    gtin,
    serial: info.serial ?? null,
    lotRecalled,
    lastEventId: rec?.lastEventId ?? null,
    alerts: rec?.alerts ?? [],
  };
}

/** Concurrent block loads per trace request (each may read a block of up to 4 MiB). */
const TRACE_CONCURRENCY = 8;

export async function traceRoutes(app: FastifyInstance, deps: ReadRouteDeps): Promise<void> {
  const { ctx, provenance } = deps;
  const traceSchema = {
    summary: 'Where an item has been: its events in chain order, each with a merkle proof, and its status',
    description:
      `Confirmed (mined) events only: a pending event is found at /events/{eventId}. At most ${deps.maxTraceEvents} events (and about ${Math.round(deps.traceBytesBudget / 1048576)} MiB of proof txs) per answer; ` +
      'more follow with ?nextPageToken=. An item never seen answers 200 with status unknown and no events.',
    tags: ['provenance'],
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { limit: { type: 'integer', minimum: 1, maximum: deps.maxTraceEvents }, nextPageToken: { type: 'string', maxLength: 512 } },
    },
    response: { 200: { $ref: 'Trace#' }, ...problems(400, 401, 403) },
  };

  /** Answer buffers, reused once an answer is sent (see buffer-pool.ts: it keeps GC pauses out of the answers' tail). */
  const answers = new BufferPool();

  /**
   * The answer as JSON bytes: events and proof txs are spliced in from the stored block bytes
   * (writeEventEntry), byte-for-byte what JSON.stringify of the objects would give.
   */
  const trace = async (epc: string, q: { limit?: number; nextPageToken?: string }): Promise<JsonBytes> => {
    const info = keyInfo(epc, 'epc');
    const fingerprint = createHash('sha256').update(info.key).digest('base64url').slice(0, 16);
    const after = q.nextPageToken !== undefined ? decodeToken(q.nextPageToken, fingerprint) : undefined;
    const limit = q.limit ?? deps.maxTraceEvents;
    const [history, view] = await Promise.all([
      ctx.chain.store.history(info.key, { after: after ? { key: info.key, ...after, eventId: '' } : undefined, limit: limit + 1 }),
      itemView(ctx, epc, info),
    ]);
    // As JSON.stringify({epc, key, status, alerts, events, nextPageToken?}); each entry is written
    // as soon as it is read, so no more than a chunk of blocks is held at once.
    const w = new JsonBytes(4096, answers);
    try {
      await writeTrace(w, epc, info, fingerprint, history, view, limit);
    } catch (err) {
      w.release();
      throw err;
    }
    return w;
  };

  const writeTrace = async (
    w: JsonBytes,
    epc: string,
    info: ItemKeyInfo,
    fingerprint: string,
    history: Awaited<ReturnType<ApiContext['chain']['store']['history']>>,
    view: ItemView,
    limit: number,
  ): Promise<void> => {
    w.ascii('{"epc":').value(epc).ascii(',"key":').value(info.key).ascii(',"status":').value(view.status).ascii(',"alerts":').value(view.alerts).ascii(',"events":[');
    let written = 0;
    let units = 0; // proof tx sizes in UTF-16 code units (what the budget has always counted)
    let next: string | undefined;
    const take = Math.min(limit, history.length);
    for (let i = 0; i < take && next === undefined; i += TRACE_CONCURRENCY) {
      const chunk = history.slice(i, Math.min(take, i + TRACE_CONCURRENCY));
      const entries = await Promise.all(
        chunk.map(async (h) => {
          const hash = await provenance.mainHash(h.height);
          if (hash === undefined) throw storeDamaged(`no main-chain block at height ${h.height}`);
          return provenance.rawEntryAt({ hash, height: h.height }, h.txIndex, h.eventIndex, h.eventId);
        }),
      );
      // Room for the chunk at once: a tx's JSON string is at most about 1.2× its bytes in practice (quotes escaped).
      w.expect(entries.reduce((n, e) => n + Math.ceil(e.tx.length * 1.25) + e.event.length + 2048, 0));
      for (const [k, e] of entries.entries()) {
        units += e.tx.length;
        if (written++ > 0) w.ascii(',');
        writeEventEntry(w, e);
        if (units > deps.traceBytesBudget && i + k + 1 < history.length) {
          const h = chunk[k] as (typeof chunk)[number];
          next = encodeToken(fingerprint, h);
          break;
        }
      }
    }
    if (next === undefined && history.length > limit) {
      const h = history[limit - 1] as (typeof history)[number];
      next = encodeToken(fingerprint, h);
    }
    w.ascii(']');
    if (next !== undefined) w.ascii(',"nextPageToken":').value(next);
    w.ascii('}');
  };

  /** Send the answer; its buffer goes back to the pool once the socket has taken all of it (not on an aborted answer). */
  const send = (reply: FastifyReply, w: JsonBytes): FastifyReply => {
    reply.raw.once('finish', () => w.release());
    return reply.type('application/json; charset=utf-8').send(w.bytes());
  };

  app.get<{ Params: { epc: string }; Querystring: { limit?: number; nextPageToken?: string } }>(
    '/trace/:epc',
    { schema: { ...traceSchema, params: { type: 'object', required: ['epc'], properties: { epc: { type: 'string', maxLength: 1024 } } } } },
    async (req, reply) => send(reply, await trace(req.params.epc, req.query)),
  );
  // A Digital Link need not be URL-encoded: /trace/https://id.gs1.org/01/…/21/…
  app.get<{ Params: { '*': string }; Querystring: { limit?: number; nextPageToken?: string } }>(
    '/trace/*',
    { schema: { ...traceSchema, summary: `${traceSchema.summary} (unencoded Digital Link in the path)`, params: { type: 'object', properties: { '*': { type: 'string', maxLength: 1024 } } } } },
    async (req, reply) => send(reply, await trace(req.params['*'], req.query)),
  );

  const verifyResponse = { 200: { $ref: 'Verify#' }, ...problems(400, 401, 403) };
  app.get<{ Querystring: { id: string } }>(
    '/verify',
    {
      schema: {
        summary: 'Is this pack genuine and usable? Status, manufacturer, lot, expiry, custodian, alerts',
        description: 'status ∈ active, in_transit, dispensed, decommissioned, recalled, destroyed, suspect, unknown (never seen on this chain: 200 with status unknown).',
        tags: ['verify'],
        querystring: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 1024 } } },
        response: verifyResponse,
      },
    },
    async (req) => itemView(ctx, req.query.id, keyInfo(req.query.id, 'id')),
  );

  app.get<{ Params: { gtin: string; serial: string } }>(
    '/01/:gtin/21/:serial',
    {
      schema: {
        summary: 'GS1 Digital Link resolver: the status of the serialised item (as /verify)',
        tags: ['verify'],
        params: {
          type: 'object',
          required: ['gtin', 'serial'],
          properties: { gtin: { type: 'string', pattern: '^[0-9]{8,14}$' }, serial: { type: 'string', minLength: 1, maxLength: 20 } },
        },
        querystring: { type: 'object', additionalProperties: true, properties: {} },
        response: verifyResponse,
      },
    },
    async (req) => {
      const gtin = req.params.gtin.padStart(14, '0');
      const id = `https://id.gs1.org/01/${gtin}/21/${encodeDigitalLinkValue(req.params.serial)}`;
      return itemView(ctx, id, keyInfo(id, 'serial'));
    },
  );
}
