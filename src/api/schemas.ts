/**
 * JSON schemas shared by the routes (request validation, response serialisation, OpenAPI).
 * Registered once on the server with addSchema; routes refer to them as { $ref: 'Name#' }.
 */

export const proofSchema = {
  $id: 'Proof',
  type: 'object',
  description:
    'Everything needed to check, without trusting this node, that the event is in a block: recompute the tx ID as SHA-256 of the RFC 8785 body (tx without sig), find the event ID in tx.eventIds, verify the RFC 6962 audit path from the tx ID (leaf SHA-256(0x00‖txid)) at txIndex of txCount to merkleRoot, check the header (bytes 40..72) carries that root, hash the header twice with SHA-256 to blockHash, check its proof of work and that it is on the main chain.',
  required: ['tx', 'txIndex', 'txCount', 'auditPath', 'merkleRoot', 'blockHash', 'header'],
  properties: {
    tx: { type: 'string', description: "The tx's canonical JSON (RFC 8785), exactly as the block carries it" },
    txIndex: { type: 'integer', minimum: 0 },
    txCount: { type: 'integer', minimum: 1 },
    auditPath: { type: 'array', items: { type: 'string', pattern: '^[0-9a-f]{64}$' }, description: 'Sibling hashes, leaf level first' },
    merkleRoot: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    blockHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    header: { type: 'string', pattern: '^[0-9a-f]{224}$', description: '112-byte block header, hex' },
  },
} as const;

export const blockRefSchema = {
  $id: 'BlockRef',
  type: 'object',
  required: ['hash', 'height'],
  properties: { hash: { type: 'string' }, height: { type: 'integer' } },
} as const;

const anyObject = { type: 'object', additionalProperties: true } as const;

export const eventEntrySchema = {
  $id: 'EventEntry',
  type: 'object',
  required: ['eventId', 'event', 'txId', 'block', 'confirmations', 'proof'],
  properties: {
    eventId: { type: 'string', description: 'CBV 2.0 event ID (ni:///sha-256;…?ver=CBV2.0)' },
    event: { ...anyObject, description: 'The self-contained EPCIS 2.0 event as stored (its own @context)' },
    txId: { type: 'string' },
    block: { anyOf: [{ $ref: 'BlockRef#' }, { type: 'null' }], description: 'null while the event is pending in the mempool' },
    confirmations: { type: 'integer', description: '0 while pending; 1 in the tip block' },
    proof: { anyOf: [{ $ref: 'Proof#' }, { type: 'null' }], description: 'null while pending' },
    via: {
      type: 'string',
      description:
        '/trace only, absent for events naming the item: how the event belongs to its journey — the canonical key of the container it came through (the item was in it then), "class" (an event of its lot or GTIN), "input" or "output" (of a transformation it came from or went into)',
    },
    path: {
      type: 'array',
      items: { type: 'string' },
      description: '/trace only, with via: the keys from the item to what the event names, innermost first (pack → [case, pallet]; [lot class]; [input pack, its case])',
    },
    errorDeclaration: {
      type: 'object',
      description: 'Present when the event was declared erroneous (an EPCIS error declaration of it is recorded): the declaration and what it says',
      required: ['declarationId', 'txId', 'block', 'reason', 'declarationTime', 'correctiveEventIDs'],
      properties: {
        declarationId: { type: 'string', description: "The declaration's record ID (its entry: /events/{declarationId}/proof)" },
        txId: { type: 'string' },
        block: { anyOf: [{ $ref: 'BlockRef#' }, { type: 'null' }], description: 'null while the declaration is pending' },
        reason: { type: ['string', 'null'] },
        declarationTime: { type: ['string', 'null'] },
        correctiveEventIDs: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;

export const alertSchema = {
  $id: 'Alert',
  type: 'object',
  required: ['code', 'message', 'eventId', 'time'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, eventId: { type: 'string' }, time: { type: 'integer' } },
} as const;

export const ITEM_STATUSES = ['active', 'in_transit', 'dispensed', 'decommissioned', 'recalled', 'destroyed', 'suspect', 'unknown'] as const;

export const traceSchema = {
  $id: 'Trace',
  type: 'object',
  required: ['epc', 'status', 'alerts', 'events'],
  properties: {
    epc: { type: 'string', description: 'The identifier as asked' },
    key: { type: 'string', description: 'Canonical GS1 Digital Link of the item' },
    status: { type: 'string', enum: ITEM_STATUSES },
    alerts: { type: 'array', items: { $ref: 'Alert#' } },
    events: {
      type: 'array',
      items: { $ref: 'EventEntry#' },
      description: "The item's journey in chain order (confirmed events only): events naming it, its containers' while it was in them, its lot's and GTIN's, one level of transformation inputs/outputs; each with its proof and, when it does not name the item, via and path",
    },
    linksTruncated: { type: 'boolean', description: 'Present (true) when the item took part in more transformations, or with more items, than a journey follows (64)' },
    nextPageToken: { type: 'string', description: 'Present when more events follow: pass it as ?nextPageToken=' },
  },
} as const;

export const verifySchema = {
  $id: 'Verify',
  type: 'object',
  required: ['id', 'status', 'manufacturer', 'lot', 'expiry', 'custodian', 'alerts'],
  properties: {
    id: { type: 'string', description: 'The identifier as asked' },
    key: { type: 'string', description: 'Canonical GS1 Digital Link' },
    status: { type: 'string', enum: ITEM_STATUSES },
    manufacturer: { type: ['string', 'null'], description: 'Name of the member that commissioned it' },
    manufacturerId: { type: ['string', 'null'] },
    lot: { type: ['string', 'null'] },
    expiry: { type: ['string', 'null'] },
    custodian: { type: ['string', 'null'], description: 'Name of the member that holds it' },
    custodianId: { type: ['string', 'null'] },
    gtin: { type: ['string', 'null'] },
    serial: { type: ['string', 'null'] },
    lotRecalled: { type: 'boolean' },
    lastEventId: { type: ['string', 'null'] },
    alerts: { type: 'array', items: { $ref: 'Alert#' } },
    codeCheck: {
      type: 'object',
      description: 'Present when a scratch-off code was given (GET /verify?code=): the check, recorded on chain',
      properties: {
        result: { type: 'string', enum: ['genuine', 'already_checked'] },
        message: { type: 'string' },
        firstCheck: { type: ['object', 'null'], properties: { time: { type: 'string' }, location: { type: ['string', 'null'] }, by: { type: 'string' }, txId: { type: 'string' } } },
        txId: { type: ['string', 'null'], description: 'The tx recording this check; null when this node recorded 3 right checks of the pack within the hour already' },
      },
    },
  },
} as const;

export const signedTxSchema = {
  $id: 'SignedTx',
  type: 'object',
  required: ['v', 'chain', 'kind', 'submitter', 'time', 'events', 'eventIds', 'sig'],
  properties: {
    v: { type: 'integer' },
    chain: { type: 'string' },
    kind: { type: 'string' },
    submitter: { type: 'string' },
    time: { type: 'integer' },
    events: { type: 'array', items: anyObject },
    eventIds: { type: 'array', items: { type: 'string' } },
    gov: { ...anyObject, description: 'the governance action of a kind "governance" tx (docs/governance.md)' },
    sig: { type: 'string' },
  },
} as const;

export const txEntrySchema = {
  $id: 'TxEntry',
  type: 'object',
  required: ['txId', 'tx', 'block', 'confirmations', 'proof'],
  properties: {
    txId: { type: 'string' },
    tx: { $ref: 'SignedTx#' },
    block: { anyOf: [{ $ref: 'BlockRef#' }, { type: 'null' }] },
    confirmations: { type: 'integer' },
    proof: { anyOf: [{ $ref: 'Proof#' }, { type: 'null' }] },
  },
} as const;

export const acceptedSchema = {
  $id: 'Accepted',
  type: 'object',
  required: ['txId', 'eventIds'],
  properties: {
    captureID: { type: 'string', description: 'POST /capture only: the capture job (GET /capture/{captureID}, also the Location header)' },
    txId: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    eventIds: { type: 'array', items: { type: 'string' }, description: 'CBV 2.0 event IDs, in document order' },
    refused: {
      type: 'array',
      description: 'GS1-Capture-Error-Behaviour: proceed only: the events left out, by their index in the document, with every problem',
      items: {
        type: 'object',
        required: ['index', 'errors'],
        properties: {
          index: { type: 'integer' },
          errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } } } },
        },
      },
    },
    sharing: { type: 'string', enum: ['private'], description: 'private capture only (docs/confidentiality.md): eventIds are then the commitments (the events\' chain-level IDs)' },
    cbvEventIds: { type: 'array', items: { type: 'string' }, description: 'private capture only: the CBV 2.0 event IDs (the events\' identity for the entitled), in document order' },
  },
} as const;

/** The REST binding's CaptureJob, with the node's tx, event IDs and block. */
export const captureJobSchema = {
  $id: 'CaptureJob',
  type: 'object',
  required: ['captureID', 'createdAt', 'running', 'success', 'captureErrorBehaviour', 'errors', 'eventIds'],
  properties: {
    captureID: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time', description: 'The time of the block holding the tx; a refused document: when it was refused' },
    running: { type: 'boolean', description: 'true while the tx waits in the mempool' },
    success: { type: 'boolean', description: 'false once any problem is known (a refused document, an event refused under proceed, a dropped tx)' },
    captureErrorBehaviour: { type: 'string', enum: ['rollback', 'proceed'] },
    errors: { type: 'array', items: { $ref: 'Problem#' }, description: 'Every problem, one problem document each (instance: the JSON pointer into the document)' },
    txId: { type: 'string', description: 'The tx the capture made (absent when the document was refused whole)' },
    eventIds: { type: 'array', items: { type: 'string' } },
    block: { anyOf: [{ $ref: 'BlockRef#' }, { type: 'null' }] },
  },
} as const;

/** The REST binding's collections (top-level resources, event types, sub-resources). */
export const collectionSchema = {
  $id: 'Collection',
  type: 'object',
  required: ['@context', 'type', 'member'],
  properties: { '@context': {}, type: { type: 'string', enum: ['Collection'] }, member: { type: 'array', items: { type: 'string' } } },
} as const;

export const queryDocumentSchema = {
  $id: 'EPCISQueryDocument',
  type: 'object',
  required: ['type', 'epcisBody'],
  properties: {
    '@context': {},
    type: { type: 'string', enum: ['EPCISQueryDocument'] },
    schemaVersion: { type: 'string' },
    creationDate: { type: 'string' },
    epcisBody: {
      type: 'object',
      required: ['queryResults'],
      properties: {
        queryResults: {
          type: 'object',
          required: ['queryName', 'resultsBody'],
          properties: {
            queryName: { type: 'string' },
            resultsBody: {
              type: 'object',
              required: ['eventList'],
              properties: { eventList: { type: 'array', items: anyObject } },
            },
          },
        },
      },
    },
  },
} as const;

export const SHARED_SCHEMAS = [proofSchema, blockRefSchema, eventEntrySchema, alertSchema, traceSchema, verifySchema, signedTxSchema, txEntrySchema, acceptedSchema, queryDocumentSchema, collectionSchema, captureJobSchema];

/** Problem-details responses for the given statuses (OpenAPI and serialisation). */
export function problems(...statuses: number[]): Record<string, { $ref: string }> {
  const out: Record<string, { $ref: string }> = {};
  for (const s of statuses) out[String(s)] = { $ref: 'Problem#' };
  return out;
}
