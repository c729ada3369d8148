/** EPCIS 2.0 documents the integration tests capture. */

let serial = 0;

/** A fresh EPC of GTIN 0614141.107346 (unique per process and call). */
export function freshEpc(): string {
  return `urn:epc:id:sgtin:0614141.107346.${process.pid}${++serial}`;
}

/** A document commissioning `epc` now (one ObjectEvent, read point given), as JSON-LD text. */
export function commissioningDocument(epc: string = freshEpc(), readPoint = 'urn:epc:id:sgln:0614141.00777.0'): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: now,
    epcisBody: {
      eventList: [{ type: 'ObjectEvent', eventTime: now, eventTimeZoneOffset: '+00:00', epcList: [epc], action: 'ADD', bizStep: 'commissioning', disposition: 'active', readPoint: { id: readPoint } }],
    },
  });
}

/**
 * A document with one ObjectEvent observing `epc` now (action OBSERVE) with a CBV business step
 * and disposition: `shipping`/`in_transit`, `receiving`/`in_progress`, `dispensing`/`dispensed`.
 */
export function stepDocument(epc: string, bizStep: string, disposition: string, readPoint = 'urn:epc:id:sgln:0614141.00777.0'): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: now,
    epcisBody: {
      eventList: [{ type: 'ObjectEvent', eventTime: now, eventTimeZoneOffset: '+00:00', epcList: [epc], action: 'OBSERVE', bizStep, disposition, readPoint: { id: readPoint } }],
    },
  });
}
