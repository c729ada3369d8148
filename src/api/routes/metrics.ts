/** GET /metrics: Prometheus text exposition of the node's own registry. */
import type { FastifyInstance } from 'fastify';
import type { NodeMetrics } from '../metrics.js';

export async function metricsRoutes(app: FastifyInstance, metrics: NodeMetrics): Promise<void> {
  app.get(
    '/metrics',
    {
      config: { scope: 'read', rateLimit: false, pressureHandler: () => undefined },
      schema: {
        summary: 'Prometheus metrics: height, chainwork, mempool, peers, imports, rejects, reorgs, hash rate, API latency',
        tags: ['node'],
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text format 0.0.4' } },
      },
    },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  );
}
