/**
 * Alert and pack routes (docs/alerts.md). Reads (read scope): GET /alerts?owner=&party=&status=&gtin=&lot=
 * (chain/alert-query.ts: paged with `after`) and GET /alerts/:id (the record, its history, and the
 * merkle proofs of the tx that raised it and of each tx that changed it). Writes (capture scope,
 * signed by this node's member key and admitted like a capture, 202 with the tx ID):
 * POST /alerts/:id/status (a lifecycle change: refused at admission with the chain's ALERT_* code
 * when the alert's state at the tip does not allow it) and POST /reactivations (undo of a dispense
 * or decommission; the rule is judged in the block, where a refusal raises its alert).
 */
import type { FastifyInstance } from 'fastify';
import { keyIdHex, keyPairFromSecret } from '../../chain/keys.js';
import { actionTxBody, canonicalTx, signTx } from '../../chain/tx.js';
import { getAlert, queryAlerts, type AlertFilter } from '../../chain/alert-query.js';
import { checkAlertAction } from '../../chain/alert-tx.js';
import type { AlertChange, AlertRecord } from '../../chain/alerts.js';
import type { AlertStatus } from '../../chain/types.js';
import { toHex } from '../../common/bytes.js';
import { TraceError, itemKeyInfo } from '../../trace/index.js';
import type { ApiContext } from '../context.js';
import { BadIdentifierError, HttpProblem } from '../problem.js';
import type { Provenance, TxEntry } from '../provenance.js';
import { problems } from '../schemas.js';
import { submitPackTx } from '../scratch-check.js';
import { refuseWhileUnwritable, type WriteRouteDeps } from './capture.js';
import { sendJson } from './events.js';

const anyObject = { type: 'object', additionalProperties: true } as const;
const MEMBER_ID = /^[0-9a-f]{40}$/;
export const MAX_ALERTS_PER_PAGE = 500;
/** Packs named per alert in a list answer (itemCount says how many it names in all). */
export const LIST_ITEMS = 100;

/** A member named by key ID or by name (as GET /members lists them); 400 NOT_A_MEMBER otherwise. */
export function memberIdOf(ctx: ApiContext, v: string, param: string): string {
  const { registry } = ctx.chain;
  if (MEMBER_ID.test(v) && registry.get(v) !== undefined) return v;
  const named = registry.all.find((m) => m.name === v);
  if (named !== undefined) return named.id;
  throw new HttpProblem('NOT_A_MEMBER', `${param}: ${v} is neither the key ID nor the name of a member of this consortium`);
}

/** The proof of a tx (raising an alert or changing it): block, confirmations and audit path; null when the store lacks it. */
async function txProof(provenance: Provenance, txId: string): Promise<TxEntry | null> {
  return (await provenance.txById(txId)) ?? null;
}

function itemKey(id: string): string {
  try {
    return itemKeyInfo(id).key;
  } catch (err) {
    if (err instanceof TraceError) throw new BadIdentifierError('id', err);
    throw err;
  }
}

export async function alertRoutes(app: FastifyInstance, deps: WriteRouteDeps): Promise<void> {
  const { ctx, provenance } = deps;
  const name = (id: string | null): string | null => (id === null ? null : (ctx.chain.registry.get(id)?.name ?? id));
  const view = (a: AlertRecord): Record<string, unknown> => ({ ...a, ownerName: name(a.owner), partyNames: a.parties.map(name) });
  // A list shows the first packs of each alert (a recall alert may name 100,000); GET /alerts/:id names them all.
  const listed = (a: AlertRecord): Record<string, unknown> => (a.items.length > LIST_ITEMS ? { ...view(a), items: a.items.slice(0, LIST_ITEMS), itemsTruncated: true } : view(a));

  app.get<{ Querystring: { owner?: string; party?: string; status?: AlertStatus; gtin?: string; lot?: string; limit: number; after?: string } }>(
    '/alerts',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Alerts (business conflicts, recalls reaching holders, refused undos, scratch-off code alerts), in the order raised',
        description:
          'Filters combine (AND): owner (the manufacturer), party (any member involved), status, and a lot (gtin and lot together). Members are named by key ID or name. ' +
          `At most ${MAX_ALERTS_PER_PAGE} per page; pass the answer's next as after for the next page (null: no more). Each alert lists its first ${LIST_ITEMS} packs (itemsTruncated: true when it names more; itemCount, and GET /alerts/{id}, give them all).`,
        tags: ['alerts'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            owner: { type: 'string', minLength: 1, maxLength: 200 },
            party: { type: 'string', minLength: 1, maxLength: 200 },
            status: { type: 'string', enum: ['new', 'investigating', 'closed'] },
            gtin: { type: 'string', pattern: '^[0-9]{8,14}$' },
            lot: { type: 'string', minLength: 1, maxLength: 20 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_ALERTS_PER_PAGE, default: 100 },
            after: { type: 'string', minLength: 1, maxLength: 2048 },
          },
        },
        response: { 200: anyObject, ...problems(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const q = req.query;
      if ((q.gtin === undefined) !== (q.lot === undefined)) throw new HttpProblem('QUERY_PARAMETER', 'gtin and lot filter together: a lot number is unique only within its GTIN');
      const filter: AlertFilter = {};
      if (q.owner !== undefined) filter.owner = memberIdOf(ctx, q.owner, 'owner');
      if (q.party !== undefined) filter.party = memberIdOf(ctx, q.party, 'party');
      if (q.status !== undefined) filter.status = q.status;
      if (q.gtin !== undefined && q.lot !== undefined) filter.lot = { gtin: q.gtin.padStart(14, '0'), lot: q.lot };
      const page = await queryAlerts(ctx.chain.store, filter, { limit: q.limit, ...(q.after !== undefined ? { after: q.after } : {}) });
      return sendJson(reply, { height: ctx.chain.tip.height, alerts: page.alerts.map(listed), next: page.next });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/alerts/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'One alert: its record and history, with the merkle proofs of the tx that raised it and of each tx that changed it',
        tags: ['alerts'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
        response: { 200: anyObject, ...problems(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const a = await getAlert(ctx.chain.store, req.params.id);
      if (a === undefined) throw new HttpProblem('ALERT_NOT_FOUND', `no alert ${req.params.id} on the main chain`);
      const raisedBy = await txProof(provenance, a.raisedBy.txId);
      const history = await Promise.all(a.history.map(async (h: AlertChange) => ({ ...h, byName: name(h.by), proof: await txProof(provenance, h.txId) })));
      return sendJson(reply, { ...view(a), history, proofs: { raisedBy } });
    },
  );

  const write = {
    onRequest: refuseWhileUnwritable(ctx),
    config: { scope: 'capture' as const, rateLimit: { max: deps.rateLimit.max, timeWindow: deps.rateLimit.timeWindowMs } },
  };

  app.post<{ Params: { id: string }; Body: { status: string; resolution?: string; reason: string } }>(
    '/alerts/:id/status',
    {
      ...write,
      schema: {
        summary: "Change an alert's status (new → investigating → closed with a resolution), signed by this node: its member must own the alert or be a regulator",
        description:
          'Answers 202 with the tx ID once admitted; refused with ALERT_UNKNOWN (404), ALERT_NOT_OWNER (403), ALERT_CLOSED or ALERT_BAD_TRANSITION (409) when the alert at the tip does not allow the change.',
        tags: ['alerts'],
        security: [{ bearer: [] }],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } } },
        body: {
          type: 'object',
          required: ['status', 'reason'],
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['investigating', 'closed'] },
            resolution: { type: 'string', enum: ['genuine', 'counterfeit', 'process_error'] },
            reason: { type: 'string', minLength: 1, maxLength: 1000 },
          },
        },
        response: { 202: anyObject, ...problems(400, 401, 403, 404, 409, 429, 503) },
      },
    },
    async (req, reply) => {
      if (ctx.signer === undefined) throw new HttpProblem('NO_SIGNER', 'this node has no member key to sign alert changes with');
      const alert = checkAlertAction({ op: 'status', alert: req.params.id, ...req.body });
      const key = keyPairFromSecret(ctx.signer.secretKey);
      const tx = signTx(actionTxBody(ctx.chain.chainId, keyIdHex(key.publicKey), (ctx.clock ?? Date.now)(), { alert }), key.secretKey);
      const c = canonicalTx(tx);
      await ctx.chain.submitTx(tx, { id: c.id, raw: c.bytes, origin: 'local' });
      const txId = toHex(c.id);
      req.auditChange = { txId, alert: alert.alert, status: alert.status };
      return reply.code(202).header('location', `/txs/${txId}`).send({ txId, alert: alert.alert, status: alert.status, resolution: alert.resolution ?? null });
    },
  );

  app.post<{ Body: { id: string; location?: string | null } }>(
    '/reactivations',
    {
      ...write,
      schema: {
        summary: 'Undo a dispense or decommission (EU FMD style), signed by this node: the member that did it, within 10 days of block time, at the same location',
        description:
          'Answers 202 with the tx ID once admitted. The rule is judged when the tx is mined: the pack is active again, or the undo is refused with an alert (REACTIVATE_TOO_LATE, REACTIVATE_OTHER_MEMBER, REACTIVATE_OTHER_LOCATION, REACTIVATE_RECALLED, REACTIVATE_EXPIRED, REACTIVATE_STOLEN, REACTIVATE_DESTROYED, REACTIVATE_NOT_INACTIVE); read the outcome at /verify and /alerts.',
        tags: ['alerts'],
        security: [{ bearer: [] }],
        body: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 500, description: 'The pack: EPC URN or GS1 Digital Link' },
            location: { type: ['string', 'null'], minLength: 1, maxLength: 300, description: 'Where the undo happens (the dispense\'s bizLocation, e.g. an SGLN URN); null or absent: none' },
          },
        },
        response: { 202: anyObject, ...problems(400, 401, 403, 429, 503) },
      },
    },
    async (req, reply) => {
      const item = itemKey(req.body.id);
      const location = req.body.location ?? null;
      const txId = await submitPackTx(ctx, { op: 'reactivate', item, location });
      req.auditChange = { txId, item, op: 'reactivate' };
      return reply.code(202).header('location', `/txs/${txId}`).send({ txId, item, location });
    },
  );
}
