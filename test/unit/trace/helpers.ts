import type { Member, Role } from '../../../src/chain/types.js';
import type { JsonObject } from '../../../src/trace/index.js';

export const CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

export function doc(events: JsonObject[], extraContext: Record<string, string> = {}): JsonObject {
  return {
    '@context': Object.keys(extraContext).length > 0 ? [CONTEXT, extraContext] : [CONTEXT],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2024-01-01T00:00:00Z',
    epcisBody: { eventList: events },
  };
}

export function objectEvent(fields: JsonObject = {}): JsonObject {
  return {
    type: 'ObjectEvent',
    eventTime: '2024-03-01T10:00:00.000+01:00',
    eventTimeZoneOffset: '+01:00',
    epcList: ['urn:epc:id:sgtin:0614141.107346.2017'],
    action: 'OBSERVE',
    bizStep: 'inspecting',
    readPoint: { id: 'urn:epc:id:sgln:0614141.07346.0' },
    ...fields,
  };
}

export function member(role: Role, id: string, prefixes: string[] = []): Member {
  return { id, name: `${role} ${id}`, role, signingKey: '11'.repeat(32), peerId: `peer-${id}`, gs1CompanyPrefixes: prefixes, canSeal: false };
}

export function errorOf(f: () => unknown): { code: string; problems: { path: string; message: string; code?: string }[]; rule?: string | undefined; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof Error && 'code' in e && 'problems' in e) return e as never;
    throw e;
  }
  throw new Error('expected a TraceError');
}
