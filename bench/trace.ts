/**
 * Micro-benchmark of the trace module's capture path on one core: validate (JSON Schema + EPCIS
 * rules) and hash (CBV 2.0 event ID of self-contained events) generated ObjectEvents, in
 * documents of at most 10,000 events. Not a test: it reports a figure.
 *
 *   import { benchTrace } from './bench/trace.js'; await benchTrace({ events: 50_000 });
 *   node dist/bench/trace.js 20000 xml   # the capture path from the body's text: JSON or XML
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { prepareDocument, type JsonObject } from '../src/trace/index.js';
import { epcisXmlToJson } from '../src/trace/epcis-xml.js';
import { epcisDocumentXml } from '../src/trace/epcis-xml-write.js';

export interface TraceBenchResult {
  eventsPerSecond: number;
  events: number;
  milliseconds: number;
}

const CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
const BIZSTEPS = ['commissioning', 'shipping', 'receiving', 'dispensing', 'storing'];

function event(i: number): JsonObject {
  const serial = (k: number): string => `urn:epc:id:sgtin:0614141.107346.${i * 4 + k}`;
  const step = BIZSTEPS[i % BIZSTEPS.length] as string;
  const e: JsonObject = {
    type: 'ObjectEvent',
    eventTime: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().replace('Z', '+00:00'),
    eventTimeZoneOffset: '+01:00',
    epcList: [serial(0), serial(1), serial(2), serial(3)],
    action: step === 'commissioning' ? 'ADD' : 'OBSERVE',
    bizStep: step,
    disposition: step === 'shipping' ? 'in_transit' : 'active',
    readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
    bizLocation: { id: 'urn:epc:id:sgln:0614141.07346.0' },
    bizTransactionList: [{ type: 'po', bizTransaction: `urn:epcglobal:cbv:bt:0614141073467:${i}` }],
  };
  if (step === 'commissioning') e['ilmd'] = { 'cbvmda:lotNumber': `LOT${i % 97}`, 'cbvmda:itemExpirationDate': '2027-12-31' };
  return e;
}

function documents(total: number, perDoc: number): JsonObject[] {
  const docs: JsonObject[] = [];
  for (let start = 0; start < total; start += perDoc) {
    const events: JsonObject[] = [];
    for (let i = start; i < Math.min(total, start + perDoc); i++) events.push(event(i));
    docs.push({ '@context': [CONTEXT], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: events } });
  }
  return docs;
}

/**
 * Without `format`: validate + hash of parsed documents (the trace engine alone). With `format`:
 * the capture path from the body's text, as a capture worker runs it: JSON.parse or the XML
 * reader (trace/epcis-xml.ts), then validate + hash.
 */
export async function benchTrace(opts: { events: number; perDocument?: number; format?: 'json' | 'xml' }): Promise<TraceBenchResult> {
  const docs = documents(opts.events, opts.perDocument ?? 1000);
  const parse = opts.format === 'xml' ? (t: string): unknown => epcisXmlToJson(t).doc : opts.format === 'json' ? (t: string): unknown => JSON.parse(t) : undefined;
  const texts = parse === undefined ? [] : docs.map((d) => (opts.format === 'xml' ? epcisDocumentXml((d['epcisBody'] as { eventList: JsonObject[] }).eventList, '2024-01-01T00:00:00Z') : JSON.stringify(d)));
  prepareDocument(documents(100, 100)[0]); // compile the schema, warm up
  if (parse !== undefined && texts[0] !== undefined) parse(texts[0]);
  const t0 = performance.now();
  let n = 0;
  if (parse === undefined) for (const d of docs) n += prepareDocument(d).eventIds.length;
  else for (const t of texts) n += prepareDocument(parse(t)).eventIds.length;
  const ms = performance.now() - t0;
  return { eventsPerSecond: Math.round((n * 1000) / ms), events: n, milliseconds: Math.round(ms) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // node dist/bench/trace.js [events] [json|xml]: without a format, validate + hash of parsed documents.
  const events = Number(process.argv[2] ?? 50_000);
  const format = process.argv[3];
  const r = await benchTrace({ events, perDocument: 100, ...(format === 'json' || format === 'xml' ? { format } : {}) });
  process.stdout.write(JSON.stringify(r) + '\n');
}
