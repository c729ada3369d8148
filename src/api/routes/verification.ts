/**
 * Verification requests (DSCSA VRS style, GS1 Lightweight Messaging Standard):
 * GET /01/{gtin}/10/{lot}/21/{serial}?exp=YYMMDD&corrUUID=&reqGLN=&context= →
 * {responderGLN, corrUUID, verificationTimestamp, data: {verified, verificationFailureReason,
 * additionalInfo}}. The comparison is trace/verification.ts; this file reads the item, answers,
 * and logs each request with its corrUUID. A GTIN of which no item is on this chain is 404.
 * Needs a token with the `verify` scope even while reads are open (config.alwaysToken).
 */
import type { FastifyInstance } from 'fastify';
import { canonicalItemKey, companyPrefixOf, effectiveStatus, encodeDigitalLinkValue, gs1CheckDigit, hasValidCheckDigit, type ItemRecord } from '../../trace/index.js';
import { gs1Date, verifyProductIdentifier, VerificationRequestError, type VerificationData } from '../../trace/verification.js';
import type { ApiContext } from '../context.js';
import { HttpProblem } from '../problem.js';
import { problems } from '../schemas.js';

export interface VerificationResponse {
  responderGLN: string | null;
  corrUUID: string;
  verificationTimestamp: string;
  data: VerificationData;
}

interface VrsQuery {
  exp: string;
  corrUUID: string;
  reqGLN: string;
  context?: string;
}

const UUID = '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';

const responseSchema = {
  type: 'object',
  required: ['responderGLN', 'corrUUID', 'verificationTimestamp', 'data'],
  properties: {
    responderGLN: { type: ['string', 'null'], description: "The GLN of the pack's manufacturer (its GS1 company prefix, location reference 0), null when none of its prefixes matches" },
    corrUUID: { type: 'string' },
    verificationTimestamp: { type: 'string', format: 'date-time' },
    data: {
      type: 'object',
      required: ['verified'],
      properties: {
        verified: { type: 'boolean' },
        verificationFailureReason: { type: 'string', enum: ['No_match_GTIN_Serial', 'No_match_GTIN_Serial_Lot', 'No_match_GTIN_Serial_Expiry', 'No_match_GTIN_Serial_Lot_Expiry'] },
        additionalInfo: { type: 'string', description: 'Recalled, Suspect, Expired: those that apply, comma-separated in that order' },
      },
    },
  },
};

function bad(detail: string, path: string): HttpProblem {
  return new HttpProblem('BAD_VERIFICATION_REQUEST', detail, { errors: [{ path, message: detail, code: 'BAD_VERIFICATION_REQUEST' }] });
}

/** The party GLN of a company prefix: the prefix, a zero location reference, the check digit. */
export function prefixGln(prefix: string): string {
  const body = prefix.padEnd(12, '0');
  return `${body}${gs1CheckDigit(body)}`;
}

export async function verificationRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get<{ Params: { gtin: string; lot: string; serial: string }; Querystring: VrsQuery }>(
    '/01/:gtin/10/:lot/21/:serial',
    {
      config: { scope: 'verify', alwaysToken: true },
      schema: {
        summary: 'Verification request (DSCSA VRS style): does this product identifier match the manufacturer’s commissioning data?',
        description:
          'verified: GTIN, serial, lot and expiry all match what was commissioned on the chain; otherwise verificationFailureReason says which part did not. ' +
          'additionalInfo names Recalled, Suspect and Expired whenever the serial is known. A GTIN of which no item is on this chain: 404. Each request is logged with its corrUUID. docs/notifications.md.',
        tags: ['verify'],
        params: {
          type: 'object',
          required: ['gtin', 'lot', 'serial'],
          properties: { gtin: { type: 'string', pattern: '^[0-9]{8,14}$' }, lot: { type: 'string', minLength: 1, maxLength: 20 }, serial: { type: 'string', minLength: 1, maxLength: 20 } },
        },
        querystring: {
          type: 'object',
          required: ['exp', 'corrUUID', 'reqGLN'],
          additionalProperties: false,
          properties: {
            exp: { type: 'string', pattern: '^[0-9]{6}$', description: 'Expiry as on the pack, YYMMDD (GS1 AI 17)' },
            corrUUID: { type: 'string', pattern: UUID, description: 'The requester’s correlation UUID, echoed back and logged' },
            reqGLN: { type: 'string', pattern: '^[0-9]{13}$', description: 'The requester’s GLN' },
            context: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Why the pack is verified, e.g. dscsaSaleableReturn' },
          },
        },
        response: { 200: responseSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const now = (ctx.clock ?? Date.now)();
      const q = req.query;
      const gtin = req.params.gtin.padStart(14, '0');
      if (!hasValidCheckDigit(gtin)) throw bad(`GTIN ${gtin}: wrong check digit`, '/params/gtin');
      if (!hasValidCheckDigit(q.reqGLN)) throw bad(`reqGLN ${q.reqGLN}: wrong check digit`, '/querystring/reqGLN');
      let expiry: string;
      try {
        expiry = gs1Date(q.exp, now);
      } catch (err) {
        if (err instanceof VerificationRequestError) throw bad(err.message, '/querystring/exp');
        throw err;
      }
      const { store, registry } = ctx.chain;
      const gtinKey = `https://id.gs1.org/01/${gtin}`;
      const key = canonicalItemKey(`${gtinKey}/21/${encodeDigitalLinkValue(req.params.serial)}`);
      const stored = (await store.getItem(key)) as ItemRecord | undefined;
      if (stored === undefined && !(await store.hasItemWithPrefix(`${gtinKey}/`)) && (await store.getItem(gtinKey)) === undefined) {
        req.log.info({ corrUUID: q.corrUUID, reqGLN: q.reqGLN, context: q.context ?? null, gtin, outcome: 'unknown GTIN' }, 'verification request');
        throw new HttpProblem('GTIN_NOT_FOUND', `no item of GTIN ${gtin} is on this chain`);
      }
      const lotRecalled = await store.isLotRecalled({ gtin, lot: stored?.lot ?? req.params.lot });
      const item = stored === undefined ? undefined : { ...stored, status: effectiveStatus(stored, lotRecalled) };
      const data = verifyProductIdentifier({ item, lotRecalled, lot: req.params.lot, expiry, nowMs: now });
      const manufacturer = item?.manufacturer === null || item?.manufacturer === undefined ? undefined : registry.get(item.manufacturer);
      const prefix = manufacturer === undefined ? undefined : companyPrefixOf(key, manufacturer.gs1CompanyPrefixes);
      const answer: VerificationResponse = {
        responderGLN: prefix === undefined ? null : prefixGln(prefix),
        corrUUID: q.corrUUID,
        verificationTimestamp: new Date(now).toISOString(),
        data,
      };
      req.log.info(
        { corrUUID: q.corrUUID, reqGLN: q.reqGLN, context: q.context ?? null, token: req.principal?.name ?? null, gtin, verified: data.verified, reason: data.verificationFailureReason ?? null, additionalInfo: data.additionalInfo ?? null },
        'verification request',
      );
      return answer;
    },
  );
}
