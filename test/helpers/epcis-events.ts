/**
 * Self-contained EPCIS 2.0 events with their CBV 2.0 IDs, for chain tests that run the real trace
 * rules (trace/chain-rules.ts): commissioning (lot, expiry, optional scratch-off commitments),
 * shipping, receiving, dispensing, decommissioning, recalls of packs or of a lot.
 */
import { eventIdOf } from '../../src/trace/document.js';
import type { JsonObject } from '../../src/common/json.js';

const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/epcis-context.jsonld';
const TC = { tc: 'https://tracechain.dev/epcis/' };

export interface Ev {
  event: JsonObject;
  id: string;
}

let tick = 0;
/** A distinct event time per call (events of the same content get distinct IDs). */
function time(at?: number): string {
  return new Date(at ?? Date.UTC(2026, 0, 1) + ++tick * 1000).toISOString();
}

function make(fields: JsonObject, at?: number, extraContext = false): Ev {
  const event: JsonObject = { '@context': extraContext ? [EPCIS_CONTEXT, TC] : [EPCIS_CONTEXT], type: 'ObjectEvent', eventTime: time(at), eventTimeZoneOffset: '+00:00', ...fields };
  return { event, id: eventIdOf(event) };
}

/** SGTIN URN of GTIN 0614141.107346 (GTIN-14 10614141073464). */
export function sgtin(serial: string | number): string {
  return `urn:epc:id:sgtin:0614141.107346.${serial}`;
}

export const GTIN = '10614141073464';

export function commission(epcs: string[], lot: string, expiry = '2030-12-31', codes?: { epc: string; salt: string; commit: string }[]): Ev {
  const ilmd: JsonObject = { 'cbvmda:lotNumber': lot, 'cbvmda:itemExpirationDate': expiry };
  if (codes) ilmd['tc:scratchCodes'] = codes.map((c) => ({ 'tc:epc': c.epc, 'tc:salt': c.salt, 'tc:commit': c.commit }));
  return make({ epcList: epcs, action: 'ADD', bizStep: 'commissioning', disposition: 'active', readPoint: { id: 'urn:epc:id:sgln:0614141.00777.0' }, ilmd }, undefined, codes !== undefined);
}

export function ship(epcs: string[]): Ev {
  return make({ epcList: epcs, action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit' });
}

export function receive(epcs: string[]): Ev {
  return make({ epcList: epcs, action: 'OBSERVE', bizStep: 'receiving', disposition: 'in_progress' });
}

export function dispense(epcs: string[], location = 'urn:epc:id:sgln:4012345.00001.0'): Ev {
  return make({ epcList: epcs, action: 'OBSERVE', bizStep: 'dispensing', disposition: 'dispensed', bizLocation: { id: location } });
}

export function stolen(epcs: string[]): Ev {
  return make({ epcList: epcs, action: 'OBSERVE', bizStep: 'inspecting', disposition: 'stolen' });
}

export function destroy(epcs: string[]): Ev {
  return make({ epcList: epcs, action: 'DELETE', bizStep: 'destroying', disposition: 'destroyed' });
}

export function recallPacks(epcs: string[]): Ev {
  return make({ epcList: epcs, action: 'OBSERVE', bizStep: 'holding', disposition: 'recalled' });
}

export function recallLot(lot: string, quantity = 1): Ev {
  return make({ epcList: [], quantityList: [{ epcClass: `urn:epc:class:lgtin:0614141.107346.${lot}`, quantity }], action: 'OBSERVE', bizStep: 'holding', disposition: 'recalled' });
}
