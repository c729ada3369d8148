/**
 * Operator switches (a token with the admin scope). /admin/partition blocks members at the p2p gate:
 * the node disconnects them and refuses them until the block list is emptied, which is how
 * the partition tests split a network and heal it.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { HttpProblem } from '../problem.js';

const partitionSchema = {
  $id: 'Partition',
  type: 'object',
  required: ['blocked', 'banned'],
  properties: {
    blocked: { type: 'array', items: { type: 'string' } },
    banned: { type: 'array', items: { type: 'object', properties: { peerId: { type: 'string' }, until: { type: 'integer' } } } },
  },
} as const;

export async function adminRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.addSchema(partitionSchema);
  const net = () => {
    if (!ctx.network) throw new HttpProblem('NO_NETWORK', 'this node runs without a p2p network');
    return ctx.network;
  };
  const state = () => ({ blocked: net().blocked(), banned: net().banned() });
  const common = { tags: ['node'], security: [{ bearer: [] }], response: { 200: { $ref: 'Partition#' } } };

  app.get('/admin/partition', { config: { scope: 'admin' }, schema: { summary: 'Members blocked by the operator, and members banned for misbehaviour', ...common } }, async () => state());

  app.put<{ Body: { peers: string[] } }>(
    '/admin/partition',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Block these members (disconnect and refuse them); an empty list heals',
        ...common,
        body: {
          type: 'object',
          required: ['peers'],
          additionalProperties: false,
          properties: { peers: { type: 'array', maxItems: 1_000, items: { type: 'string', minLength: 1, maxLength: 128 } } },
        },
      },
    },
    async (req) => {
      const n = net();
      const unknown = req.body.peers.filter((p) => !n.isMember(p));
      if (unknown.length > 0) throw new HttpProblem('NOT_A_MEMBER', `not members' peer IDs: ${unknown.join(', ')}`);
      n.setBlocked(req.body.peers);
      req.auditChange = { blocked: req.body.peers };
      return state();
    },
  );

  app.delete('/admin/partition', { config: { scope: 'admin' }, schema: { summary: 'Unblock every member (heal)', ...common } }, async (req) => {
    net().setBlocked([]);
    req.auditChange = { blocked: [] };
    return state();
  });
}
