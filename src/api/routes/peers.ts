/** GET /peers: this node's p2p identity, its sync progress, and each connected member. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

export const peersSchema = {
  $id: 'Peers',
  type: 'object',
  required: ['self', 'sync', 'peers'],
  properties: {
    self: {
      type: ['object', 'null'],
      properties: { peerId: { type: 'string' }, addresses: { type: 'array', items: { type: 'string' } } },
    },
    sync: {
      type: 'object',
      properties: { height: { type: 'integer' }, bestKnownHeight: { type: 'integer' }, syncing: { type: 'boolean' }, synced: { type: 'boolean' } },
    },
    peers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['peerId', 'name', 'role', 'latencyMs', 'tip'],
        properties: {
          peerId: { type: 'string' },
          name: { type: 'string' },
          role: { type: 'string' },
          memberId: { type: 'string' },
          address: { type: ['string', 'null'] },
          direction: { type: ['string', 'null'] },
          latencyMs: { type: ['number', 'null'], description: 'round trip, ms' },
          tip: { type: ['object', 'null'], properties: { height: { type: 'integer' }, hash: { type: 'string' } } },
          score: { type: 'number', description: 'offence score (0 is clean; banned at -100)' },
        },
      },
    },
  },
} as const;

export async function peerRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.addSchema(peersSchema);
  app.get(
    '/peers',
    { config: { scope: 'read' }, schema: { summary: 'Connected consortium members (peer ID, member, role, latency, tip) and sync progress', tags: ['node'], response: { 200: { $ref: 'Peers#' } } } },
    async () => {
      const net = ctx.network;
      const height = ctx.chain.tip.height;
      if (!net) return { self: null, sync: { height, bestKnownHeight: height, syncing: false, synced: true }, peers: [] };
      return { self: net.self(), sync: net.sync(), peers: net.peers() };
    },
  );
}
