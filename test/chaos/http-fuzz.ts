/**
 * Scenario 5: a hostile HTTP corpus. Deterministic from a seed: malformed JSON, wrong content
 * types, huge numbers, deep nesting, prototype-pollution keys, invalid UTF-8, oversized bodies,
 * hostile paths and queries, and EPCIS documents poisoned in one field.
 */
import { rng } from './lib.js';

export interface FuzzCase {
  kind: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  contentType?: string;
  body?: Uint8Array;
  auth: boolean;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function validEvent(i: number): Record<string, unknown> {
  return {
    type: 'ObjectEvent',
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    epcList: [`urn:epc:id:sgtin:0614141.107346.fz${i}`],
    eventTime: '2024-01-01T00:00:00Z',
    eventTimeZoneOffset: '+00:00',
  };
}

function doc(events: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: '2024-01-01T00:00:00Z', epcisBody: { eventList: events }, ...extra };
}

/** Poisoned values for one field of an otherwise valid event. */
const POISON: unknown[] = [
  null, true, 0, -1, 1e309 /* → null in JSON */, Number.MAX_SAFE_INTEGER, '', ' ', '\u0000', '\ud800', 'a'.repeat(70_000),
  [], {}, [[[]]], { __proto__: { polluted: 1 } }, 'urn:epc:id:sgtin:', 'urn:epc:id:sgtin:0614141.107346.', 'urn:epc:id:sgtin:9999999999999.1.1',
  'https://id.gs1.org/01/00000000000000/21/x', '2024-13-45T99:99:99Z', '../../etc/passwd', '<script>alert(1)</script>', '${jndi:ldap://x}',
];

const FIELDS = ['type', 'action', 'bizStep', 'disposition', 'epcList', 'eventTime', 'eventTimeZoneOffset', 'readPoint', 'bizLocation', 'parentID', 'childEPCs', 'quantityList', 'sensorElementList', 'ilmd', 'eventID', 'certificationInfo'];

export function fuzzCorpus(seed: number, size = 1200): FuzzCase[] {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const out: FuzzCase[] = [];
  const post = (kind: string, body: Uint8Array | string, contentType = 'application/json', path = '/capture', auth = true): void => {
    out.push({ kind, method: 'POST', path, contentType, body: typeof body === 'string' ? enc(body) : body, auth });
  };
  const gens: (() => void)[] = [
    // Malformed JSON: truncated or mutated valid documents.
    () => {
      const s = JSON.stringify(doc([validEvent(out.length)]));
      const cut = Math.floor(rand() * s.length);
      post('truncated-json', s.slice(0, cut));
    },
    () => {
      const s = Buffer.from(JSON.stringify(doc([validEvent(out.length)])));
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) s[Math.floor(rand() * s.length)] = Math.floor(rand() * 256);
      post('byte-mutated-json', new Uint8Array(s));
    },
    // Random bytes, including invalid UTF-8.
    () => post('random-bytes', Uint8Array.from({ length: Math.floor(rand() * 2048) }, () => Math.floor(rand() * 256))),
    () => post('invalid-utf8', Buffer.concat([enc('{"type":"EPCISDocument","schemaVersion":"2.0","x":"'), Uint8Array.of(0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80), enc('"}')])),
    // Wrong or odd content types.
    () => post('content-type', JSON.stringify(doc([validEvent(out.length)])), pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=latin1', '', 'application/ld+json; q=0', 'image/png'])),
    // Huge numbers and odd literals.
    () => post('huge-number', `{"type":"EPCISDocument","schemaVersion":${pick(['1e999999', '-0', '123456789012345678901234567890123456789', '0x10', 'NaN', 'Infinity', '2.0e+308'])},"epcisBody":{"eventList":[]}}`),
    // Deep nesting (arrays and objects), far beyond any schema.
    () => {
      const depth = pick([1_000, 10_000, 100_000]);
      post('deep-nesting', rand() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    },
    () => {
      const depth = pick([200, 2_000]);
      let v: unknown = 'x';
      for (let d = 0; d < depth; d++) v = { ilmd: v };
      post('deep-event', JSON.stringify(doc([{ ...validEvent(out.length), ilmd: v }])));
    },
    // Prototype-pollution keys at the top, in the body and in events.
    () => post('proto-pollution', pick([
      '{"__proto__":{"admin":true},"type":"EPCISDocument","schemaVersion":"2.0","epcisBody":{"eventList":[]}}',
      '{"constructor":{"prototype":{"admin":true}},"type":"EPCISDocument"}',
      JSON.stringify(doc([{ ...validEvent(out.length) }])).replace('"type":"ObjectEvent"', '"__proto__":{"polluted":true},"type":"ObjectEvent"'),
      JSON.stringify(doc([validEvent(out.length)])).replace('"epcisBody"', '"__proto__":{"epcisBody":1},"epcisBody"'),
    ])),
    // One poisoned field in an otherwise valid event.
    () => post('poisoned-field', JSON.stringify(doc([{ ...validEvent(out.length), [pick(FIELDS)]: pick(POISON) }]))),
    // Structurally wrong documents.
    () => post('wrong-shape', JSON.stringify(pick<unknown>([null, [], 'EPCISDocument', 42, doc([]), doc(Array(5).fill(null)), { type: 'EPCISQueryDocument' }, doc([validEvent(2), validEvent(2)].map((e, i) => (i ? { ...e, type: 'Bogus' } : e)))]))),
    // Oversized body (over the 8 MiB body limit).
    () => {
      if (rand() < 0.05) post('oversized', new Uint8Array(9 * 1024 * 1024).fill(0x20));
      else post('many-events', JSON.stringify(doc(Array.from({ length: 20_000 }, (_, i) => ({ type: 'ObjectEvent' , i })))));
    },
    // No or wrong token.
    () => post('no-auth', JSON.stringify(doc([validEvent(out.length)])), 'application/json', '/capture', false),
    // /txs with garbage signed txs.
    () => post('bad-tx', JSON.stringify(pick<unknown>([{}, { v: 1 }, { v: 1, chain: 'x'.repeat(64), kind: 'epcis', submitter: '00', time: 1e300, events: [], eventIds: [], sig: 'zz' }, { __proto__: { v: 1 } }])), 'application/json', '/txs'),
    // Hostile reads: paths and queries.
    () =>
      out.push({
        kind: 'hostile-read',
        method: 'GET',
        auth: false,
        path: pick([
          `/events/${encodeURIComponent('ni:///sha-256;' + 'f'.repeat(64))}`,
          '/events/%ZZ', '/events/' + 'a'.repeat(3000), '/blocks/-1', '/blocks/99999999999999999999', '/blocks/0x10', '/blocks/%00',
          '/trace/urn%3Aepc%3Aid%3Asgtin%3A%00', '/trace/' + '%F0%9F'.repeat(50), '/verify?id=', '/verify?id=' + 'x'.repeat(5000), '/verify?id[]=1&id[]=2',
          '/events?perPage=-5', '/events?perPage=1e9', '/events?GE_eventTime=yesterday', '/events?MATCH_anyEPC=' + '*'.repeat(100), '/events?nextPageToken=AAAA',
          '/events?__proto__[x]=1', '/01/123/21/x', '/01/' + '9'.repeat(14) + '/21/' + '%C0%AF', '/../../etc/passwd', '/explorer/..%2f..%2fpackage.json', '/txs/xyz',
        ]),
      }),
    () => out.push({ kind: 'odd-method', method: pick(['PUT', 'DELETE'] as const), path: pick(['/capture', '/blocks/tip', '/admin/partition', '/events']), auth: rand() < 0.5, contentType: 'application/json', body: enc(pick(['{"peers":["x"]}', '{"peers":' + '['.repeat(500) + ']'.repeat(500) + '}', 'nope'])) }),
  ];
  while (out.length < size) pick(gens)();
  return out;
}

/** Kinds whose mutation can leave a valid document (then 202 with a tx ID is right). */
export const MAY_BE_VALID = new Set(['byte-mutated-json', 'poisoned-field', 'content-type', 'proto-pollution']);

/**
 * Judge one answer to a corpus case: undefined when acceptable (a 200 read, a 202 for a
 * mutation that stayed valid, or a 4xx/503 RFC 9457 problem document), else what is wrong.
 * Shared by the HTTP (reliability-http) and HTTPS (https) runs of the corpus.
 */
export function judgeFuzzAnswer(c: FuzzCase, status: number, contentType: string, text: string): { ok: true; accepted: boolean } | { ok: false; why: string } {
  if (c.method === 'GET' && status === 200) return { ok: true, accepted: false };
  if (status === 202 && MAY_BE_VALID.has(c.kind) && /"txId":"[0-9a-f]{64}"/.test(text)) return { ok: true, accepted: true };
  let problem: { type?: unknown; title?: unknown; status?: unknown; detail?: unknown } = {};
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch {
    // judged below
  }
  const isProblem = contentType.startsWith('application/problem+json') && typeof problem.type === 'string' && typeof problem.title === 'string' && problem.status === status && typeof problem.detail === 'string';
  if (((status >= 400 && status < 500) || status === 503) && isProblem) return { ok: true, accepted: false };
  return { ok: false, why: `${c.kind} ${c.method} ${c.path.slice(0, 80)} [${c.contentType ?? '-'}] → ${status} ${contentType} ${text.slice(0, 160)}` };
}
