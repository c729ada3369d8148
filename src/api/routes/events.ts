/**
 * GET /events/:eventId (the event as the REST binding answers it), GET /events/:eventId/proof
 * (the event with its block and merkle proof) and GET /events?… (EPCIS 2.0 query, paged).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JsonObject } from '../../common/json.js';
import { EVENT_ID_PATTERN } from '../../chain/tx.js';
import type { ApiContext } from '../context.js';
import { HttpProblem, storeDamaged } from '../problem.js';
import { parsedTxMemo, type Provenance } from '../provenance.js';
import { runEventsQuery } from '../query-ordered.js';
import { DEFAULT_PER_PAGE, MAX_MATERIALISED, MAX_PER_PAGE, MAX_VALUES, type EventReader, type QueryLimits, type QueryParam, type RawQuery } from '../query.js';
import { FAMILY_NAMES, FIELD_PARAM, MASTER_DATA_PARAM, MEASURE_PARAM, QUANTITY_UOM_PARAM } from '../query-families.js';
import { problems } from '../schemas.js';
import { queryDocumentXml } from '../../trace/epcis-xml-write.js';
import { declarationNotes } from '../corrections.js';

export interface ReadRouteDeps {
  ctx: ApiContext;
  provenance: Provenance;
  requireTokenForReads: boolean;
  queryLimits: QueryLimits;
  maxTraceEvents: number;
  traceBytesBudget: number;
}

/**
 * Send a large answer with the native JSON.stringify (much faster than the schema serialiser on
 * proofs, whose canonical tx strings are full of characters to escape). The route's response
 * schema still documents the shape.
 */
export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(body));
}

/**
 * Whether the client asks for XML: `Accept` names application/xml (or text/xml) before any JSON
 * type (the binding's XML form); anything else, or no Accept, is JSON.
 */
export function wantsXml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const types = accept.split(',').map((t) => (t.split(';')[0] ?? '').trim().toLowerCase());
  const xml = types.findIndex((t) => t === 'application/xml' || t === 'text/xml');
  if (xml < 0) return false;
  const json = types.findIndex((t) => t === 'application/json' || t === 'application/ld+json');
  return json < 0 || xml < json;
}

/** Events as an EPCISQueryDocument (SimpleEventQuery results): JSON-LD, or EPCIS 2.0 XML when asked. */
function sendQueryDocument(accept: string | undefined, reply: FastifyReply, events: Record<string, unknown>[], now: number): FastifyReply {
  const creationDate = new Date(now).toISOString();
  if (wantsXml(accept)) return reply.type('application/xml; charset=utf-8').send(queryDocumentXml(events as JsonObject[], creationDate));
  return sendJson(reply, {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate,
    epcisBody: { queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: events } } },
  });
}

/** Accept the full CBV 2.0 event ID, or its 64 hex digits alone. */
export function normaliseEventId(raw: string): string {
  const id = /^[0-9a-f]{64}$/.test(raw) ? `ni:///sha-256;${raw}?ver=CBV2.0` : raw;
  if (!EVENT_ID_PATTERN.test(id)) {
    throw new HttpProblem('BAD_EVENT_ID', 'give a CBV 2.0 event ID (ni:///sha-256;<64 hex>?ver=CBV2.0, URL-encoded) or its 64 hex digits');
  }
  return id;
}

/** The event as a query result: its CBV 2.0 ID as eventID when it carries none (the ID does not hash eventID). */
export function withEventId(event: Record<string, unknown>, eventId: string): Record<string, unknown> {
  return typeof event['eventID'] === 'string' ? event : { ...event, eventID: eventId };
}

/** The binding's resources by value, and the query parameter each stands for. */
const RESOURCE_PARAMS: readonly (readonly [string, QueryParam])[] = [
  ['eventTypes', 'eventType'],
  ['epcs', 'MATCH_anyEPC'],
  ['bizSteps', 'EQ_bizStep'],
  ['bizLocations', 'EQ_bizLocation'],
  ['readPoints', 'EQ_readPoint'],
  ['dispositions', 'EQ_disposition'],
];

const EVENT_TYPES = ['AggregationEvent', 'AssociationEvent', 'ObjectEvent', 'TransactionEvent', 'TransformationEvent'] as const;

function collection(member: string[]): Record<string, unknown> {
  return { '@context': 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', type: 'Collection', member };
}

const multi = { anyOf: [{ type: 'string', maxLength: 8192 }, { type: 'array', items: { type: 'string', maxLength: 8192 }, maxItems: MAX_VALUES }] };

/** The query string of /events (and of the binding's /{resource}/{value}/events). */
const eventsQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    MATCH_epc: { ...multi, description: 'EPC in epcList or childEPCs (URN or Digital Link)' },
    MATCH_anyEPC: { ...multi, description: 'EPC anywhere: epcList, childEPCs, inputEPCList, outputEPCList, parentID' },
    EQ_bizStep: { ...multi, description: 'CBV word or URI' },
    EQ_disposition: { ...multi, description: 'CBV word or URI' },
    EQ_bizLocation: { ...multi, description: 'Location (SGLN URN or Digital Link)' },
    EQ_readPoint: { ...multi, description: 'Read point (SGLN URN or Digital Link)' },
    EQ_action: { ...multi, description: 'ADD, OBSERVE or DELETE' },
    EQ_transformationID: { ...multi, description: 'transformationID' },
    EQ_eventID: { ...multi, description: "The event's CBV 2.0 ID or its own eventID" },
    MATCH_parentID: { ...multi, description: 'EPC as parentID' },
    MATCH_inputEPC: { ...multi, description: 'EPC in inputEPCList' },
    MATCH_outputEPC: { ...multi, description: 'EPC in outputEPCList' },
    MATCH_epcClass: { ...multi, description: 'Class in quantityList or childQuantityList' },
    MATCH_inputEPCClass: { ...multi, description: 'Class in inputQuantityList' },
    MATCH_outputEPCClass: { ...multi, description: 'Class in outputQuantityList' },
    MATCH_anyEPCClass: { ...multi, description: 'Class in any quantity list' },
    eventType: { ...multi, description: 'ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent' },
    GE_eventTime: { type: 'string', description: 'Events at or after this time (ISO 8601 with zone)' },
    LT_eventTime: { type: 'string', description: 'Events before this time' },
    EQ_errorReason: { ...multi, description: "Error declarations with this reason (CBV word or URI)" },
    EQ_correctiveEventID: { ...multi, description: 'Error declarations naming this corrective event ID' },
    GE_errorDeclaration_Time: { type: 'string', description: 'Error declarations declared at or after this time' },
    LT_errorDeclaration_Time: { type: 'string', description: 'Error declarations declared before this time' },
    GE_recordTime: { type: 'string', description: 'Events recorded (in a main-chain block whose time is) at or after this time' },
    LT_recordTime: { type: 'string', description: 'Events recorded before this time' },
    WD_readPoint: { ...multi, description: 'Read point or a descendant (no location master data is kept: the read point itself)' },
    WD_bizLocation: { ...multi, description: 'Business location or a descendant (no location master data is kept: the location itself)' },
    EQ_quantity: { type: 'string', description: 'A quantity element (any quantity list) with this quantity' },
    GT_quantity: { type: 'string', description: 'A quantity element with a greater quantity' },
    GE_quantity: { type: 'string', description: 'A quantity element with this quantity or more' },
    LT_quantity: { type: 'string', description: 'A quantity element with a smaller quantity' },
    LE_quantity: { type: 'string', description: 'A quantity element with this quantity or less' },
    eventCountLimit: { type: 'integer', minimum: 1, description: 'At most this many events over all pages' },
    maxEventCount: { type: 'integer', minimum: 0, description: `More matching events than this: 413 QueryTooLargeException (at most ${MAX_MATERIALISED}; not with eventCountLimit)` },
    orderBy: { type: 'string', maxLength: 256, description: `eventTime, recordTime or an extension field's name as captured (prefix:name): answer in this order instead of chain order (the query may match at most ${MAX_MATERIALISED} events)` },
    ...Object.fromEntries(FAMILY_NAMES.map((name) => [name, { ...multi, description: 'A sensor or persistent-disposition parameter of EPCIS 2.0 (docs/api.md)' }])),
    orderDirection: { type: 'string', enum: ['ASC', 'DESC'], description: 'With orderBy: ascending or descending (default DESC)' },
    perPage: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE },
    nextPageToken: { type: 'string', maxLength: 512 },
  },
  patternProperties: {
    [FIELD_PARAM.source]: { ...multi, description: 'An extension field by its name as captured (prefix:name), of the event, its ILMD (ILMD_), error declaration (ERROR_DECLARATION_), sensor elements (SENSORELEMENT_, SENSORMETADATA_, SENSORREPORT_), read point or business location (readPoint_, bizLocation_); INNER_: nested at any depth in their extension fields; EQ_ one of the values, GT_/GE_/LT_/LE_ compared as a number, time or text, EXISTS_ present' },
    [MEASURE_PARAM.source]: { ...multi, description: "A sensor report's value, minValue, maxValue, meanValue, sDev or percValue in this unit (UN/CEFACT code; values in a unit of the same quantity are converted)" },
    [QUANTITY_UOM_PARAM.source]: { ...multi, description: 'A quantity element whose quantity, in this unit, compares so' },
    [MASTER_DATA_PARAM.source]: { ...multi, description: 'Master-data attributes: refused (400), this node keeps no master data' },
    '^(EQ_bizTransaction|EQ_source|EQ_destination)_.+$': { ...multi, description: 'Value of a bizTransaction / source / destination of the type named after the underscore' },
    '^EXISTS_.+$': { type: 'string', maxLength: 0, description: 'The event has this field' },
  },
};

/** One page of a query, as /events, the binding's /{resource}/{value}/events and /queries/{name}/events answer it. */
export async function answerEventsQuery(deps: ReadRouteDeps, req: FastifyRequest, reply: FastifyReply, raw: RawQuery): Promise<FastifyReply> {
  const { ctx, provenance } = deps;
  const parsed = parsedTxMemo();
  const read: EventReader = async (pos, eventId) => {
    const hash = await provenance.mainHash(pos.height);
    if (hash === undefined) throw storeDamaged(`no main-chain block at height ${pos.height}`);
    return provenance.eventWithIdAt({ hash, height: pos.height }, pos.txIndex, pos.eventIndex, eventId, parsed);
  };
  const page = await runEventsQuery(ctx.chain, raw, deps.queryLimits, read);
  if (page.nextPageToken !== undefined) {
    reply.header('GS1-Next-Page-Token', page.nextPageToken);
    const url = new URL(req.url, 'http://local');
    url.searchParams.set('nextPageToken', page.nextPageToken);
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
  }
  return sendQueryDocument(req.headers.accept, reply, page.events.map((h) => withEventId(h.event, h.eventId)), (ctx.clock ?? Date.now)());
}

export async function eventRoutes(app: FastifyInstance, deps: ReadRouteDeps): Promise<void> {
  const { ctx, provenance } = deps;

  app.get<{ Params: { eventId: string } }>(
    '/events/:eventId',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One event by its CBV 2.0 event ID, as the REST binding answers it: an EPCISQueryDocument holding the event (EPCIS XML with Accept: application/xml)',
        description: 'A pending event (in the mempool) is answered too. Its block and merkle proof: /events/{eventId}/proof.',
        tags: ['query'],
        params: { type: 'object', required: ['eventId'], properties: { eventId: { type: 'string', maxLength: 200 } } },
        response: { 200: { $ref: 'EPCISQueryDocument#' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const eventId = normaliseEventId(req.params.eventId);
      const entry = await provenance.eventById(eventId);
      if (entry === undefined) throw new HttpProblem('EVENT_NOT_FOUND', `no event ${eventId} on the main chain or in the mempool`);
      // An event declared erroneous: its error declaration (which has its event ID) follows it.
      const [note] = await declarationNotes(provenance, [eventId]);
      const declaration = note === undefined ? undefined : await provenance.eventById(note.declarationId);
      const events = [withEventId(entry.event, eventId), ...(declaration !== undefined ? [withEventId(declaration.event, eventId)] : [])];
      return sendQueryDocument(req.headers.accept, reply, events, (ctx.clock ?? Date.now)());
    },
  );

  app.get<{ Params: { eventId: string } }>(
    '/events/:eventId/proof',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One event by its CBV 2.0 event ID, with block, confirmations and merkle proof',
        description: 'A pending event (in the mempool) has block null, confirmations 0 and proof null. An event declared erroneous (EPCIS error declaration) carries errorDeclaration: the declaration\'s record ID, tx, block, reason, declarationTime and correctiveEventIDs.',
        tags: ['provenance'],
        params: { type: 'object', required: ['eventId'], properties: { eventId: { type: 'string', maxLength: 200 } } },
        response: { 200: { $ref: 'EventEntry#' }, ...problems(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const eventId = normaliseEventId(req.params.eventId);
      const entry = await provenance.eventById(eventId);
      if (entry === undefined) throw new HttpProblem('EVENT_NOT_FOUND', `no event ${eventId} on the main chain or in the mempool`);
      const [note] = await declarationNotes(provenance, [eventId]);
      return sendJson(reply, note === undefined ? entry : { ...entry, errorDeclaration: note });
    },
  );

  app.get<{ Querystring: RawQuery }>(
    '/events',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'EPCIS 2.0 event query (subset), in chain order, paged; JSON-LD, or EPCIS 2.0 XML with Accept: application/xml',
        description:
          'Several values of one parameter: repeat it or separate with |. With MATCH_epc/MATCH_anyEPC of GS1 keys the item history index answers; otherwise main-chain blocks are scanned from genesis. ' +
          `A page examines at most ${deps.queryLimits.scanBudget} events, so it may hold fewer than perPage events and still have a next page: follow GS1-Next-Page-Token (or the Link rel="next" header) until it is absent. Confirmed events only.`,
        tags: ['query'],
        querystring: eventsQuerystring,
        response: {
          200: {
            $ref: 'EPCISQueryDocument#',
            headers: { 'GS1-Next-Page-Token': { type: 'string', description: 'Present when more results may follow' } },
          },
          ...problems(400, 401, 403),
        },
      },
    },
    async (req, reply) => answerQuery(req, reply, req.query),
  );

  const answerQuery = (req: FastifyRequest, reply: FastifyReply, raw: RawQuery): Promise<FastifyReply> => answerEventsQuery(deps, req, reply, raw);

  // The binding's resources by event type, EPC, bizStep, place and disposition: each value's
  // sub-resources (`events`) and its events (the query with that parameter, ANDed with the others
  // given). The lists of values in the store (/epcs, /bizSteps, …) need indexes not built yet;
  // /eventTypes is the fixed list of EPCIS 2.0 event types.
  app.get('/eventTypes', { config: { scope: 'read' }, schema: { summary: 'The EPCIS event types (binding)', tags: ['query'], response: { 200: { $ref: 'Collection#' } } } }, async (_req, reply) =>
    sendJson(reply, collection([...EVENT_TYPES])),
  );
  for (const [resource, param] of RESOURCE_PARAMS) {
    const known = (value: string): void => {
      if (resource === 'eventTypes' && !(EVENT_TYPES as readonly string[]).includes(value)) throw new HttpProblem('NOT_FOUND', `no event type ${value}: one of ${EVENT_TYPES.join(', ')}`);
    };
    app.get<{ Params: { value: string } }>(
      `/${resource}/:value`,
      { config: { scope: 'read' }, schema: { summary: `The sub-resources of one of /${resource} (binding)`, tags: ['query'], params: { type: 'object', required: ['value'], properties: { value: { type: 'string', maxLength: 2048 } } }, response: { 200: { $ref: 'Collection#' }, ...problems(400, 401, 403, 404) } } },
      async (req, reply) => {
        known(req.params.value);
        return sendJson(reply, collection(['events']));
      },
    );
    app.get<{ Params: { value: string }; Querystring: RawQuery }>(
      `/${resource}/:value/events`,
      {
        config: { scope: 'read' },
        schema: {
          summary: `Events of one of /${resource}: GET /events?${param}=… (binding)`,
          tags: ['query'],
          params: { type: 'object', required: ['value'], properties: { value: { type: 'string', maxLength: 2048 } } },
          querystring: eventsQuerystring,
          response: { 200: { $ref: 'EPCISQueryDocument#' }, ...problems(400, 401, 403, 404) },
        },
      },
      async (req, reply) => {
        known(req.params.value);
        if (req.query[param] !== undefined) throw new HttpProblem('QUERY_PARAMETER', `${param} is given by the path /${resource}/{value}/events`);
        return answerQuery(req, reply, { ...req.query, [param]: req.params.value });
      },
    );
  }
}
