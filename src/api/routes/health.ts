/** GET /health: 200 when ready, 503 when not, with the same body. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

export async function healthRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get(
    '/health',
    {
      config: { scope: 'public', rateLimit: false, pressureHandler: () => undefined },
      schema: {
        summary: 'Readiness: store open and writable and, on a network, peers and synced',
        tags: ['node'],
        response: {
          '2xx': { $ref: 'Health#' },
          '5xx': { $ref: 'Health#' },
        },
      },
    },
    async (_req, reply) => {
      const { status, chain } = ctx;
      const peers = status.peers();
      const synced = status.synced();
      const storeOpen = status.storeOpen();
      const storage = status.storage?.();
      const writable = storage?.writable ?? true;
      const ready = storeOpen && writable && (!status.networked() || (peers > 0 && synced));
      const body = {
        status: ready ? 'ok' : 'unavailable',
        height: chain.tip.height,
        tip: chain.tip.hash,
        peers,
        synced,
        storeOpen,
        hashrate: status.hashrate(),
        mempool: chain.mempool.size,
        lastBlockAgeMs: Math.max(0, Date.now() - chain.tip.time),
        ...(storage ? { storage } : {}),
      };
      return reply.code(ready ? 200 : 503).send(body);
    },
  );
}

export const healthSchema = {
  $id: 'Health',
  type: 'object',
  required: ['status', 'height', 'peers', 'synced'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    height: { type: 'integer' },
    tip: { type: 'string' },
    peers: { type: 'integer' },
    synced: { type: 'boolean' },
    storeOpen: { type: 'boolean' },
    hashrate: { type: 'number' },
    mempool: { type: 'integer' },
    lastBlockAgeMs: { type: 'integer' },
    storage: {
      type: 'object',
      description: 'Write state of the chain store: writes are refused while disk space is low or after a failed write, until it recovers',
      required: ['writable', 'minFreeBytes'],
      properties: {
        writable: { type: 'boolean' },
        reason: { type: 'string' },
        since: { type: 'integer', description: 'when writes were first refused, ms since the epoch' },
        freeBytes: { type: 'integer' },
        totalBytes: { type: 'integer' },
        minFreeBytes: { type: 'integer' },
      },
    },
  },
} as const;
