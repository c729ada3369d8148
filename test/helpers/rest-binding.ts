/**
 * The GS1 EPCIS 2.0 REST binding's own response schemas (shared/vectors/gs1-epcis-rest/openapi.json),
 * compiled with ajv, for tests that check the node's answers against them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';

const OPENAPI = fileURLToPath(new URL('../../../shared/vectors/gs1-epcis-rest/openapi.json', import.meta.url));

interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> }> };
}

const api = JSON.parse(readFileSync(OPENAPI, 'utf8')) as OpenApi;
// ajv-formats is CommonJS: its function is the default export or the module itself.
type AddFormats = (a: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...api, $id: 'binding' });

/** Rewrites the binding's local refs (#/components/…) to the registered document. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `binding${v}` : rebase(v);
  return out;
}

/** The binding's response object for a path, method and status (following a $ref). */
export function response(path: string, method: string, status: string): { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> } {
  const op = api.paths[path]?.[method];
  if (op === undefined) throw new Error(`the binding has no ${method.toUpperCase()} ${path}`);
  let r = op.responses[status] as { $ref?: string } | undefined;
  if (r === undefined) throw new Error(`the binding has no ${status} for ${method.toUpperCase()} ${path}`);
  if (typeof r.$ref === 'string') r = api.components.responses[r.$ref.split('/').pop() as string] as { $ref?: string };
  return r as { headers?: Record<string, unknown>; content?: Record<string, { schema: unknown }> };
}

export function validator(path: string, method: string, status: string, media: string): ValidateFunction {
  const r = response(path, method, status);
  const content = r.content?.[media] ?? r.content?.['application/json'] ?? r.content?.['application/problem+json'];
  if (content === undefined) throw new Error(`no ${media} body for ${status} ${method} ${path}`);
  return ajv.compile(rebase(content.schema) as object);
}

/**
 * The errors of `body` against `v`. A problem's `instance` is the request's path (a relative
 * URI reference, as RFC 9457 allows; the node does not know the URL clients reach it by), which
 * the binding's `format: uri` (absolute) refuses: that one difference is allowed, and documented.
 */
export function check(v: ValidateFunction, body: unknown, what: string, allowed: readonly string[] = []): void {
  const ok = v(body);
  const errors = ok ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  expect(
    errors.filter((e) => e !== '/instance must match format "uri"' && !allowed.includes(e)),
    what,
  ).toEqual([]);
}

/**
 * The binding's CaptureJob is `allOf [{…}, oneOf [{properties: {errors}}, {properties: {errorFile}}]]`:
 * neither branch requires its property, so every object matches both and the oneOf fails on any
 * job, the binding's own example included. That one error is allowed (the test below shows the
 * example fails it too); every other property is checked.
 */
export const CAPTURE_JOB_ONE_OF = [' must match exactly one schema in oneOf'];
