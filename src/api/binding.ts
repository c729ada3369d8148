/**
 * The GS1 EPCIS 2.0 REST binding's discovery headers: the EPCIS and CBV versions on every answer,
 * and `OPTIONS` on every resource (204, `Allow` and the binding's capability headers). Install
 * before the routes (it watches them being added) and call `addOptionsRoutes` after them.
 */
import type { FastifyInstance } from 'fastify';

export const EPCIS_VERSION = '2.0.0';
export const CBV_VERSION = '2.0.0';

export interface BindingLimits {
  /** Events one capture may carry (the chain's maxEventsPerTx). */
  captureLimit: number;
  /** Bytes one capture body may have (api.bodyLimit). */
  captureFileSizeLimit: number;
  /** The API's version as the node names it (GS1-Vendor-Version). */
  vendorVersion: string;
}

/** Headers every answer carries (no EPCIS or CBV extension beyond the standard is implemented). */
export function versionHeaders(): Record<string, string> {
  return { 'GS1-EPCIS-Version': EPCIS_VERSION, 'GS1-CBV-Version': CBV_VERSION, 'GS1-Extensions': '' };
}

/** Headers of an OPTIONS answer (besides Allow). */
export function discoveryHeaders(limits: BindingLimits): Record<string, string> {
  return {
    ...versionHeaders(),
    'GS1-EPCIS-Min': EPCIS_VERSION,
    'GS1-EPCIS-Max': EPCIS_VERSION,
    'GS1-CBV-Min': CBV_VERSION,
    'GS1-CBV-Max': CBV_VERSION,
    'GS1-EPCIS-Capture-Limit': String(limits.captureLimit),
    'GS1-EPCIS-Capture-File-Size-Limit': String(limits.captureFileSizeLimit),
    // `all`: the binding's word for a server that does both rollback and proceed.
    'GS1-Capture-Error-Behaviour': 'all',
    'GS1-Vendor-Version': limits.vendorVersion,
  };
}

/** Tracks the methods of every route added to `app` (call before registering routes). */
export function watchRoutes(app: FastifyInstance): Map<string, Set<string>> {
  const methods = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.url === '*' || route.url.includes('*')) return;
    const set = methods.get(route.url) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) set.add(m.toUpperCase());
    methods.set(route.url, set);
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(versionHeaders())) reply.header(k, v);
    return payload;
  });
  return methods;
}

/** OPTIONS on every watched resource that has none: 204 with Allow and the discovery headers. */
export function addOptionsRoutes(app: FastifyInstance, methods: Map<string, Set<string>>, limits: BindingLimits): void {
  const headers = discoveryHeaders(limits);
  for (const [url, set] of [...methods]) {
    if (set.has('OPTIONS')) continue;
    const allow = ['OPTIONS', ...[...set].sort()].join(', ');
    // Discovery reads like any read: open unless reads need a token (api.requireTokenForReads).
    app.options(url, { config: { scope: 'read' }, schema: { hide: true } }, async (_req, reply) => reply.code(204).headers({ ...headers, allow }).send());
  }
}
