/** GET /openapi.json (OpenAPI 3, generated from the route schemas) and the docs page at /docs. */
import type { FastifyInstance } from 'fastify';
import swaggerUi from '@fastify/swagger-ui';
import { declarePluginScope } from '../auth.js';

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/openapi.json',
    {
      config: { scope: 'read', rateLimit: false },
      schema: {
        summary: 'This API as an OpenAPI 3 document',
        tags: ['node'],
        response: { 200: { type: 'object', additionalProperties: true, description: 'OpenAPI 3.0 document' } },
      },
    },
    async () => app.swagger(),
  );
  await app.register(async (ui) => {
    declarePluginScope(ui, 'read');
    await ui.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { docExpansion: 'list', deepLinking: true } });
  });
}
