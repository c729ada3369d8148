/** Plain JSON objects: the one type guard every parser of JSON input (EPCIS, config) uses. */

export type JsonObject = Record<string, unknown>;

/** A non-null, non-array object (what JSON.parse makes of `{…}`). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
