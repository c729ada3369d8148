/**
 * GET /trace/:epc (an item's journey in chain order, each event with its proof, plus its status),
 * GET /verify?id= and the GS1 Digital Link resolver path GET /01/:gtin/21/:serial (the item's
 * status for a pharmacist or a patient scanning a pack).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  classKeysOf,
  effectiveStatus,
  encodeDigitalLinkValue,
  itemKeyInfo,
  journeyPage,
  JourneyIndexError,
  TraceError,
  type ItemKeyInfo,
  type ItemRecord,
  type ItemStatus,
  type JourneyPage,
  type JourneyStep,
} from '../../trace/index.js';
import { tagKey, tagOfKey } from '../../trace/private-event.js';
import { mergeItemRecords } from '../../trace/private-status.js';
import type { ApiContext } from '../context.js';
import { BadIdentifierError, HttpProblem, storeDamaged } from '../problem.js';
import { BufferPool } from '../buffer-pool.js';
import { JsonBytes } from '../json-bytes.js';
import { storeJourneyReader } from '../journey-reader.js';
import { writeEventEntry } from '../provenance.js';
import { declarationNotes } from '../corrections.js';
import { decodeToken, encodeToken } from '../query.js';
import { problems } from '../schemas.js';
import type { ReadRouteDeps } from './events.js';
import { checkScratchCode, ScratchGuard } from '../scratch-check.js';

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
  // Private events keep an item's status under its tag key (docs/confidentiality.md): read both,
  // in one store call (one trip to LevelDB's thread pool, not two).
  const [clear, tagged] = await store.getItems([info.key, tagKey(tagOfKey(info.key))]);
  const rec = mergeItemRecords(clear as ItemRecord | undefined, tagged as ItemRecord | undefined);
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

/**
 * Events whose txs are read at once per trace request: one multi-get of up to 16 txs (a tx is at
 * most 1 MiB), so a pack's journey (~10 events) is one read; a block stored before per-tx records
 * existed is read whole instead (up to 4 MiB each).
 */
const TRACE_CONCURRENCY = 16;

/**
 * Passes of a trace's status-and-journey read while blocks connect under it; the last pass is
 * answered as read (a node connecting blocks back to back, as in a sync, still answers).
 */
const TRACE_READ_ATTEMPTS = 4;

export async function traceRoutes(app: FastifyInstance, deps: ReadRouteDeps): Promise<void> {
  const { ctx, provenance } = deps;
  const traceSchema = {
    summary: 'Where an item has been: its journey in chain order, each event with a merkle proof, and its status',
    description:
      'The journey: the events naming the item; the events of every container it was in while it was in it (any nesting depth), marked via: <container key>; ' +
      'the class-level events of its lot and GTIN, marked via: class; the journeys of the inputs (outputs) of transformations it came from (went into), one level, marked via: input (output). ' +
      `Confirmed (mined) events only: a pending event is found at /events/{eventId}. At most ${deps.maxTraceEvents} events (and about ${Math.round(deps.traceBytesBudget / 1048576)} MiB of proof txs) per answer; ` +
      'more follow with ?nextPageToken=. An item never seen answers 200 with status unknown and no events.',
    tags: ['provenance'],
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { limit: { type: 'integer', minimum: 1, maximum: deps.maxTraceEvents }, nextPageToken: { type: 'string', maxLength: 512 } },
    },
    response: { 200: { $ref: 'Trace#' }, ...problems(400, 401, 403, 503) },
  };

  /** Answer buffers, reused once an answer is sent (see buffer-pool.ts: it keeps GC pauses out of the answers' tail). */
  const answers = new BufferPool();

  /** The journey's reads on this node's store (history and links indexes, main-chain events). */
  const reader = storeJourneyReader(ctx.chain, provenance);

  /**
   * The answer as JSON bytes: the item's journey (trace/journey.ts: its own events, its
   * containers' while it was in them, its lot's and GTIN's, one level of transformations), each
   * event and proof tx spliced in from the stored block bytes (writeEventEntry), byte-for-byte
   * what JSON.stringify of the objects would give.
   */
  const trace = async (epc: string, q: { limit?: number; nextPageToken?: string }): Promise<JsonBytes> => {
    const info = keyInfo(epc, 'epc');
    const fingerprint = createHash('sha256').update(info.key).digest('base64url').slice(0, 16);
    const after = q.nextPageToken !== undefined ? decodeToken(q.nextPageToken, fingerprint) : undefined;
    const limit = q.limit ?? deps.maxTraceEvents;
    // The item's lot (for its class events) comes with its status; the containers are read
    // meanwhile. The status and the journey must come from one chain state: a block connected
    // between the two reads gave a journey with the block's event beside the status from before
    // it ("unknown"), so a pass whose chain state stamp moved is read again once the change settled.
    let page: JourneyPage;
    let view: ItemView;
    for (let attempt = 0; ; attempt++) {
      const before = ctx.chain.stateStamp();
      const viewing = itemView(ctx, epc, info);
      const classKeys = viewing.then((v) => classKeysOf({ key: info.key, gtin: v.gtin, lot: v.lot }));
      [page, view] = await Promise.all([
        journeyKeyOf(info.key).then((key) => journeyPage(reader, key, { after, limit, classKeys })).catch((err: unknown) => {
          if (err instanceof JourneyIndexError) throw storeDamaged(err.message);
          throw err;
        }),
        viewing,
      ]);
      if ((before !== undefined && ctx.chain.stateStamp() === before) || attempt === TRACE_READ_ATTEMPTS - 1) break;
      await ctx.chain.stateSettled();
    }
    // As JSON.stringify({epc, key, status, alerts, events, linksTruncated?, nextPageToken?}); each
    // entry is written as soon as it is read, so no more than a chunk of blocks is held at once.
    const w = new JsonBytes(4096, answers);
    try {
      await writeTrace(w, epc, info, fingerprint, page, view);
    } catch (err) {
      w.release();
      throw err;
    }
    return w;
  };

  /**
   * Whose journey: the item's clear key; an item that only private events named
   * (docs/confidentiality.md) has its history under its tag key, so its projections are shown.
   */
  const journeyKeyOf = async (key: string): Promise<string> => {
    const tagged = tagKey(tagOfKey(key));
    const [clear, hidden] = await ctx.chain.store.getItems([key, tagged]);
    if (clear !== undefined) return key;
    return hidden !== undefined ? tagged : key;
  };

  const writeTrace = async (w: JsonBytes, epc: string, info: ItemKeyInfo, fingerprint: string, page: JourneyPage, view: ItemView): Promise<void> => {
    w.ascii('{"epc":').value(epc).ascii(',"key":').value(info.key).ascii(',"status":').value(view.status).ascii(',"alerts":').value(view.alerts).ascii(',"events":[');
    const steps = page.steps;
    let written = 0;
    let units = 0; // proof tx sizes in UTF-16 code units (what the budget has always counted)
    let next: string | undefined;
    for (let i = 0; i < steps.length && next === undefined; i += TRACE_CONCURRENCY) {
      const chunk = steps.slice(i, i + TRACE_CONCURRENCY);
      const refs = await Promise.all(
        chunk.map(async (h) => {
          const hash = await provenance.mainHash(h.height);
          if (hash === undefined) throw storeDamaged(`no main-chain block at height ${h.height}`);
          return { ref: { hash, height: h.height }, txIndex: h.txIndex, eventIndex: h.eventIndex, eventId: h.eventId };
        }),
      );
      const [entries, notes] = await Promise.all([provenance.rawEntriesAt(refs), declarationNotes(provenance, chunk.map((h) => h.eventId))]);
      // Room for the chunk at once: a tx's JSON string is at most about 1.2× its bytes in practice (quotes escaped).
      w.expect(entries.reduce((n, e) => n + Math.ceil(e.tx.length * 1.25) + e.event.length + 2048, 0));
      for (const [k, e] of entries.entries()) {
        const step = chunk[k] as JourneyStep;
        units += e.tx.length;
        if (written++ > 0) w.ascii(',');
        writeEventEntry(w, e, step.via !== undefined ? { via: step.via, path: step.path ?? [] } : undefined, notes[k]);
        if (units > deps.traceBytesBudget && (i + k + 1 < steps.length || page.more)) {
          next = encodeToken(fingerprint, step);
          break;
        }
      }
    }
    const last = steps[steps.length - 1];
    if (next === undefined && page.more && last !== undefined) next = encodeToken(fingerprint, last);
    w.ascii(']');
    if (page.linksTruncated) w.ascii(',"linksTruncated":true');
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
    { config: { scope: 'read' }, schema: { ...traceSchema, params: { type: 'object', required: ['epc'], properties: { epc: { type: 'string', maxLength: 1024 } } } } },
    async (req, reply) => send(reply, await trace(req.params.epc, req.query)),
  );
  // A Digital Link need not be URL-encoded: /trace/https://id.gs1.org/01/…/21/…
  app.get<{ Params: { '*': string }; Querystring: { limit?: number; nextPageToken?: string } }>(
    '/trace/*',
    { config: { scope: 'read' }, schema: { ...traceSchema, summary: `${traceSchema.summary} (unencoded Digital Link in the path)`, params: { type: 'object', properties: { '*': { type: 'string', maxLength: 1024 } } } } },
    async (req, reply) => send(reply, await trace(req.params['*'], req.query)),
  );

  const verifyResponse = { 200: { $ref: 'Verify#' }, ...problems(400, 401, 403) };
  // Scratch-off code checks (api/scratch-check.ts): wrong codes counted per pack on this node.
  const scratch = new ScratchGuard();
  app.get<{ Querystring: { id: string; code?: string; location?: string } }>(
    '/verify',
    {
      config: { scope: 'verify' },
      schema: {
        summary: 'Is this pack genuine and usable? Status, manufacturer, lot, expiry, custodian, alerts; with code=, checks the scratch-off code',
        description:
          'status ∈ active, in_transit, dispensed, decommissioned, recalled, destroyed, suspect, unknown (never seen on this chain: 200 with status unknown). ' +
          'With code= (the code under the pack\'s scratch-off panel) and optionally location= (where the check happens): a right code is recorded on chain and answered in codeCheck (genuine, or already_checked with the first check\'s time and place, which alerts the manufacturer); ' +
          `a wrong code is 422 SCRATCH_CODE_WRONG; after ${scratch.opts.maxWrong} wrong codes for one pack its tries are refused (429 SCRATCH_CODE_RATE_LIMITED) for ${scratch.opts.windowMs / 60_000} minutes and the manufacturer is alerted.`,
        tags: ['verify'],
        querystring: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: { id: { type: 'string', minLength: 1, maxLength: 1024 }, code: { type: 'string', minLength: 1, maxLength: 200 }, location: { type: 'string', minLength: 1, maxLength: 300 } },
        },
        response: { ...verifyResponse, ...problems(404, 422, 429, 503) },
      },
    },
    async (req, reply) => {
      const info = keyInfo(req.query.id, 'id');
      if (req.query.code === undefined) return itemView(ctx, req.query.id, info);
      const check = await checkScratchCode(ctx, scratch, { key: info.key, code: req.query.code, location: req.query.location ?? null }, (o) => ctx.metrics?.scratchCheck(o)).catch((err: unknown) => {
        if (err instanceof HttpProblem && typeof err.extensions.retryAfterSeconds === 'number') void reply.header('retry-after', String(err.extensions.retryAfterSeconds));
        throw err;
      });
      return { ...(await itemView(ctx, req.query.id, info)), codeCheck: check };
    },
  );

  app.get<{ Params: { gtin: string; serial: string } }>(
    '/01/:gtin/21/:serial',
    {
      config: { scope: 'verify' },
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
