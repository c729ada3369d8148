/**
 * The HTTP API against a real dev node process: every GS1 EPCIS 2.0 example document captured,
 * mined, then found by /events/:id, /events?MATCH_anyEPC and /trace, each proof checked by an
 * independent verifier (node:crypto only) and the CLI's verify-proof; every error status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkProofIndependently, type IndependentProof } from '../helpers/independent-proof.js';
import { describeMissing, findXmllint, inCI } from '../helpers/prerequisites.js';
import { fetchSettled } from '../helpers/retry.js';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';

const FAST = ['--block-interval', '200', '--workers', '1', '--log-level', 'info'];
const EXAMPLES = fileURLToPath(new URL('../../../shared/vectors/gs1-epcis-examples/', import.meta.url));
const HASH_VECTORS = fileURLToPath(new URL('../../../shared/vectors/epcis-event-hash/', import.meta.url));

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  errors?: { path: string; message: string; code: string }[];
  duplicates?: { eventId: string; txId: string; block: { hash: string; height: number } | null }[];
}

interface EventEntry {
  eventId: string;
  event: Record<string, unknown>;
  /** Present when the event was declared erroneous. */
  errorDeclaration?: unknown;
  txId: string;
  block: { hash: string; height: number } | null;
  confirmations: number;
  proof: IndependentProof | null;
}

let node: NodeProc;
let token: string;
let dir: string;
const captured = new Map<string, { txId: string; file: string }>(); // eventId -> where
const txIds = new Set<string>();
const docs: { file: string; body: string }[] = [];

async function post(path: string, body: string | Uint8Array, opts: { type?: string; token?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': opts.type ?? 'application/ld+json' };
  const t = opts.token === undefined ? token : opts.token;
  if (t !== null) headers.authorization = `Bearer ${t}`;
  // A node under load may shed a capture (503 + Retry-After, 429): that says nothing of the
  // document, so it is asked again, as the other suites do (test/helpers/retry.ts).
  return fetchSettled(node.api + path, { requestTimeoutMs: 20_000, init: { method: 'POST', headers, body } });
}

/**
 * POST a body over the limit. The node answers 413 as soon as it reads Content-Length and closes
 * the connection; sending the whole body would race that close (EPIPE), so only a slice is sent.
 */
function postOversized(path: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(node.api + path);
    let status: number | undefined;
    const req = httpRequest(
      { host: u.hostname, port: Number(u.port), path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${token}` } },
      (res) => {
        status = res.statusCode;
        res.resume();
        res.on('end', () => {
          req.destroy();
          resolve(status as number);
        });
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('oversized POST timed out')));
    req.on('error', (err) => (status !== undefined ? resolve(status) : reject(err)));
    // The declared length is over the limit: send a first slice and wait for the answer.
    req.write(body.subarray(0, 64 * 1024));
  });
}

async function getJson<T>(path: string): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await node.get(path);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

function epcsOf(event: Record<string, unknown>): string[] {
  const list = (k: string): string[] => (Array.isArray(event[k]) ? (event[k] as unknown[]).filter((x): x is string => typeof x === 'string') : []);
  return [...list('epcList'), ...list('childEPCs'), ...(typeof event['parentID'] === 'string' ? [event['parentID']] : [])];
}

async function mainHashAt(height: number): Promise<string> {
  return (await getJson<{ hash: string }>(`/blocks/${height}`)).body.hash;
}

beforeAll(async () => {
  dir = await tempDir();
  node = await startNode(FAST, { dataDir: dir });
  token = await node.token();
  for (const f of readdirSync(EXAMPLES).filter((x) => x.endsWith('.jsonld')).sort()) {
    const body = readFileSync(join(EXAMPLES, f), 'utf8');
    if ((JSON.parse(body) as { type: string }).type === 'EPCISDocument') docs.push({ file: f, body });
  }
}, 60_000);

afterAll(async () => {
  await node?.kill('SIGTERM');
  stopAll();
  if (dir) await removeDir(dir);
});

describe('HTTP API on a real node', () => {
  it('captures every GS1 example document (202, or 409 naming the original of an already captured event)', async () => {
    expect(docs.length).toBeGreaterThanOrEqual(40);
    let accepted = 0;
    for (const { file, body } of docs) {
      const res = await post('/capture', body);
      if (res.status === 202) {
        const a = (await res.json()) as { txId: string; eventIds: string[] };
        expect(a.txId).toMatch(/^[0-9a-f]{64}$/);
        expect(a.eventIds.length).toBeGreaterThan(0);
        for (const id of a.eventIds) captured.set(id, { txId: a.txId, file });
        txIds.add(a.txId);
        accepted++;
      } else if (body.includes('"errorDeclaration"') && ((await res.clone().json()) as Problem).code === 'DECLARED_EVENT_UNKNOWN') {
        // An error declaration of an event no document captured: refused until that event is recorded
        // (test/conformance/corrections.test.ts captures them after it).
        expect(res.status, `${file}: ${await res.clone().text()}`).toBe(409);
      } else {
        // The same event in two example files (e.g. a comment, or a Digital Link for a URN): a duplicate.
        expect(res.status, `${file}: ${await res.clone().text()}`).toBe(409);
        const p = (await res.json()) as Problem;
        expect(p.code).toBe('DUPLICATE_EVENT');
        expect(p.duplicates?.length).toBeGreaterThan(0);
        for (const d of p.duplicates ?? []) expect(captured.get(d.eventId)?.txId).toBe(d.txId);
      }
    }
    expect(accepted).toBeGreaterThanOrEqual(35);
  }, 120_000);

  it('mines them: every tx gets a block', async () => {
    await waitFor(
      'all captured txs in blocks',
      async () => {
        for (const id of txIds) {
          const { body } = await getJson<{ block: unknown }>(`/txs/${id}`);
          if (body.block === null) return false;
        }
        return true;
      },
      90_000,
      250,
    );
  }, 120_000);

  it('XML capture: the XML and JSON forms of the same events are one event (409 naming the first); XML answers validate against the XSD', async () => {
    // XML first, then its JSON-LD twin; JSON first, then its XML twin.
    for (const [first, second] of [
      ['epcisDocWithShippingAndTransportingEvent.xml', 'epcisDocWithShippingAndTransportingEvent.jsonld'],
      ['epcisDocWithVariousEventTypes.jsonld', 'epcisDocWithVariousEventTypes.xml'],
    ] as const) {
      const typeOf = (f: string): string => (f.endsWith('.xml') ? 'application/xml' : 'application/ld+json');
      const a = await post('/capture', readFileSync(join(HASH_VECTORS, first), 'utf8'), { type: typeOf(first) });
      expect(a.status, `${first}: ${await a.clone().text()}`).toBe(202);
      const accepted = (await a.json()) as { txId: string; eventIds: string[] };
      expect(accepted.eventIds).toEqual(readFileSync(join(HASH_VECTORS, first.replace(/\.(xml|jsonld)$/, '.hashes')), 'utf8').split('\n').filter((l) => l.length > 0));
      const b = await post('/capture', readFileSync(join(HASH_VECTORS, second), 'utf8'), { type: typeOf(second) });
      expect(b.status, second).toBe(409);
      const p = (await b.json()) as Problem;
      expect(p.duplicates?.map((d) => d.eventId).sort()).toEqual([...accepted.eventIds].sort());
      for (const d of p.duplicates ?? []) expect(d.txId).toBe(accepted.txId);
      txIds.add(accepted.txId);
      for (const id of accepted.eventIds) captured.set(id, { txId: accepted.txId, file: first });
    }
    const bad = await post('/capture', '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"><EPCISBody>', { type: 'application/xml' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Problem).code).toBe('BAD_XML');
    const odd = readFileSync(join(HASH_VECTORS, 'epcisEventWithCURIEs.xml'), 'utf8').replace('<action>OBSERVE</action>', '<action>OBSERVE</action><colour>red</colour>');
    const refused = await post('/capture', odd, { type: 'text/xml' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Problem).errors?.[0]?.message).toBe('colour is not a field of ObjectEvent');

    // Once mined, the query answers EPCIS XML that xmllint validates against the query XSD.
    await waitFor('the XML captures in blocks', async () => {
      for (const id of txIds) if ((await getJson<{ block: unknown }>(`/txs/${id}`)).body.block === null) return false;
      return true;
    }, 60_000, 250);
    const res = await fetch(`${node.api}/events?eventType=TransformationEvent&perPage=1000`, { headers: { accept: 'application/xml' }, signal: AbortSignal.timeout(20_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    const xml = await res.text();
    expect((xml.match(/<TransformationEvent[ >]/g) ?? []).length).toBeGreaterThanOrEqual(2);
    const xmllint = findXmllint();
    if (xmllint.missing !== undefined) {
      if (inCI()) throw new Error(describeMissing(xmllint.missing));
      return;
    }
    const path = join(dir, 'answer.xml');
    await writeFile(path, xml);
    expect(execFileSync(xmllint.path as string, ['--noout', '--schema', join(EXAMPLES, '../epcis-xsd/EPCglobal-epcis-query-2_0.xsd'), path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe('');
  }, 120_000);

  it('/events/:eventId returns each event with a proof an independent verifier accepts', async () => {
    expect(captured.size).toBeGreaterThan(0);
    for (const [eventId, where] of captured) {
      const { status, body } = await getJson<EventEntry>(`/events/${encodeURIComponent(eventId)}/proof`);
      // The binding's answer for the same ID: a query document holding the event.
      const doc = await getJson<{ type: string; epcisBody: { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } } }>(`/events/${encodeURIComponent(eventId)}`);
      expect(doc.body.type).toBe('EPCISQueryDocument');
      // (An event declared erroneous is followed by its error declaration: docs/api.md, corrections.)
      expect(doc.body.epcisBody.queryResults.resultsBody.eventList[0]).toEqual(typeof body.event['eventID'] === 'string' ? body.event : { ...body.event, eventID: eventId });
      expect(doc.body.epcisBody.queryResults.resultsBody.eventList.length).toBe(body.errorDeclaration === undefined ? 1 : 2);
      expect(status).toBe(200);
      expect(body.eventId).toBe(eventId);
      expect(body.txId).toBe(where.txId);
      expect(body.block).not.toBeNull();
      expect(body.confirmations).toBeGreaterThanOrEqual(1);
      const proof = body.proof as IndependentProof;
      const check = checkProofIndependently(eventId, proof);
      expect(check.problems, where.file).toEqual([]);
      expect(check.txId).toBe(where.txId);
      expect(check.height).toBe(body.block?.height);
      expect(await mainHashAt(check.height)).toBe(proof.blockHash);
    }
    // Short form: the 64 hex digits alone.
    const [first] = captured.keys();
    const hex = /;([0-9a-f]{64})\?/.exec(first as string)?.[1] as string;
    expect((await node.get(`/events/${hex}/proof`)).status).toBe(200);
  }, 120_000);

  it('/events?MATCH_anyEPC finds every captured event naming that EPC, and /trace lists it with a proof', async () => {
    const byEpc = new Map<string, Set<string>>();
    for (const eventId of captured.keys()) {
      const { body } = await getJson<EventEntry>(`/events/${encodeURIComponent(eventId)}/proof`);
      for (const epc of epcsOf(body.event)) {
        if (!/^urn:epc:id:(sgtin|sscc|giai|grai):/.test(epc)) continue;
        (byEpc.get(epc) ?? byEpc.set(epc, new Set()).get(epc))?.add(eventId);
      }
    }
    expect(byEpc.size).toBeGreaterThan(3);
    for (const [epc, ids] of byEpc) {
      const q = await getJson<{ type: string; epcisBody: { queryResults: { resultsBody: { eventList: { eventID?: string }[] } } } }>(
        `/events?MATCH_anyEPC=${encodeURIComponent(epc)}&perPage=1000`,
      );
      expect(q.status).toBe(200);
      expect(q.body.type).toBe('EPCISQueryDocument');
      const found = q.body.epcisBody.queryResults.resultsBody.eventList;
      expect(found.length).toBeGreaterThanOrEqual(ids.size);

      const t = await getJson<{ epc: string; status: string; alerts: unknown[]; events: EventEntry[] }>(`/trace/${encodeURIComponent(epc)}`);
      expect(t.status).toBe(200);
      expect(t.body.epc).toBe(epc);
      const traced = new Set(t.body.events.map((e) => e.eventId));
      for (const id of ids) expect(traced.has(id), `${epc} trace lacks ${id}`).toBe(true);
      // Chain order.
      const order = t.body.events.map((e) => e.block?.height ?? -1);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      for (const e of t.body.events) expect(checkProofIndependently(e.eventId, e.proof as IndependentProof).ok).toBe(true);
    }
  }, 120_000);

  it('query parameters filter: EQ_bizStep, eventType, time bounds, paging with GS1-Next-Page-Token', async () => {
    const all = await getJson<{ epcisBody: { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } } }>(`/events?perPage=1000`);
    const total = all.body.epcisBody.queryResults.resultsBody.eventList.length;
    expect(total).toBe(captured.size);
    const shipping = await getJson<{ epcisBody: { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } } }>(
      `/events?EQ_bizStep=${encodeURIComponent('urn:epcglobal:cbv:bizstep:shipping')}&perPage=1000`,
    );
    const ships = shipping.body.epcisBody.queryResults.resultsBody.eventList;
    expect(ships.length).toBeGreaterThan(0);
    for (const e of ships) expect(String(e['bizStep'])).toMatch(/shipping$/);
    const agg = await getJson<{ epcisBody: { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } } }>(`/events?eventType=AggregationEvent&perPage=1000`);
    for (const e of agg.body.epcisBody.queryResults.resultsBody.eventList) expect(e['type']).toBe('AggregationEvent');
    const old = await getJson<{ epcisBody: { queryResults: { resultsBody: { eventList: Record<string, unknown>[] } } } }>(
      `/events?LT_eventTime=${encodeURIComponent('2010-01-01T00:00:00Z')}&perPage=1000`,
    );
    for (const e of old.body.epcisBody.queryResults.resultsBody.eventList) expect(Date.parse(String(e['eventTime']))).toBeLessThan(Date.parse('2010-01-01T00:00:00Z'));
    // Paging: 7 at a time until no token, same events in the same order.
    const paged: string[] = [];
    let url = '/events?perPage=7';
    for (let pages = 0; pages < 100; pages++) {
      const r = await getJson<{ epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } }>(url);
      expect(r.status).toBe(200);
      paged.push(...r.body.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID));
      const next = r.headers.get('gs1-next-page-token');
      if (next === null) break;
      url = `/events?perPage=7&nextPageToken=${encodeURIComponent(next)}`;
    }
    expect(paged).toEqual(all.body.epcisBody.queryResults.resultsBody.eventList.map((e) => e['eventID']));
    const badToken = await node.get('/events?perPage=7&EQ_bizStep=shipping&nextPageToken=' + encodeURIComponent(Buffer.from('{"v":1,"f":"x","p":[1,0,0]}').toString('base64url')));
    expect(badToken.status).toBe(400);
    expect((await node.get('/events?NOT_A_PARAM=1')).status).toBe(400);
  });

  it('/verify and the Digital Link resolver answer a status; unknown items are 200 unknown', async () => {
    const v = await getJson<{ id: string; status: string; alerts: unknown[] }>(`/verify?id=${encodeURIComponent('urn:epc:id:sgtin:0614141.107346.2017')}`);
    expect(v.status).toBe(200);
    expect(['active', 'in_transit', 'dispensed', 'decommissioned', 'recalled', 'destroyed', 'suspect', 'unknown']).toContain(v.body.status);
    const dl = await getJson<{ key: string; status: string }>('/01/10614141073464/21/2017');
    expect(dl.status).toBe(200);
    expect(dl.body.key).toBe('https://id.gs1.org/01/10614141073464/21/2017');
    const unknown = await getJson<{ status: string; manufacturer: null; custodian: null }>(`/verify?id=${encodeURIComponent('urn:epc:id:sgtin:0614141.107346.99999999')}`);
    expect(unknown.status).toBe(200);
    expect(unknown.body.status).toBe('unknown');
    expect(unknown.body.manufacturer).toBeNull();
    expect((await node.get('/verify?id=not-an-epc')).status).toBe(400);
  });

  it('CLI: verify-proof accepts a saved /trace answer and rejects a tampered one; trace/verify print', async () => {
    const epc = 'urn:epc:id:sgtin:0614141.107346.2017';
    const answer = await (await node.get(`/trace/${encodeURIComponent(epc)}`)).text();
    const file = join(dir, 'trace.json');
    await writeFile(file, answer);
    const ok = await runCli(['verify-proof', file, '--api', node.api]);
    expect(ok.stderr).toBe('');
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/proof\(s\) verified/);
    const doc = JSON.parse(answer) as { events: EventEntry[] };
    const first = doc.events[0] as EventEntry;
    (first.proof as IndependentProof).auditPath = [...(first.proof as IndependentProof).auditPath, 'ab'.repeat(32)];
    await writeFile(file, JSON.stringify(doc));
    const bad = await runCli(['verify-proof', file, '--api', node.api]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL/);

    const trace = await runCli(['trace', epc, '--api', node.api]);
    expect(trace.code).toBe(0);
    expect(trace.stdout).toMatch(/status: /);
    const verify = await runCli(['verify', epc, '--api', node.api, '--json']);
    expect(verify.code).toBe(0);
    expect((JSON.parse(verify.stdout) as { status: string }).status).toBeTruthy();
  }, 60_000);

  it('CLI capture: accepted, and a duplicate exits non-zero naming the original', async () => {
    const file = join(dir, 'cli-doc.json');
    await writeFile(file, JSON.stringify(documentWith([objectEvent('urn:epc:id:sgtin:0614141.107346.7000001')])));
    const first = await runCli(['capture', file, '--api', node.api, '--data', dir, '--wait']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/accepted: tx [0-9a-f]{64}/);
    expect(first.stdout).toMatch(/in block \d+/);
    const again = await runCli(['capture', file, '--api', node.api, '--data', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409/);
    expect(again.stderr).toMatch(/already in tx [0-9a-f]{64} \(block \d+/);
    const noToken = await runCli(['capture', file, '--api', node.api, '--token', 'wrong']);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/401/);
  }, 60_000);

  it('errors: 400 lists every problem and stores nothing; 401; 403; 409; 413; 415; 404', async () => {
    const fresh = 'urn:epc:id:sgtin:0614141.107346.8000001';
    const badDoc = documentWith([
      objectEvent(fresh),
      { ...objectEvent('urn:epc:id:sgtin:0614141.107346.8000002'), action: 'NOT_AN_ACTION' },
      { ...objectEvent('urn:epc:id:sgtin:0614141.107346.8000003'), eventTime: 'yesterday' },
    ]);
    const r400 = await post('/capture', JSON.stringify(badDoc), { type: 'application/json' });
    expect(r400.status).toBe(400);
    expect(r400.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const p400 = (await r400.json()) as Problem;
    expect(p400.type).toBeTruthy();
    expect(p400.title).toBeTruthy();
    expect(p400.detail).toBeTruthy();
    expect(p400.errors?.length).toBeGreaterThanOrEqual(2);
    expect(p400.errors?.some((e) => e.path.startsWith('/epcisBody/eventList/1'))).toBe(true);
    expect(p400.errors?.some((e) => e.path.startsWith('/epcisBody/eventList/2'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1000)); // a block or more later: still nothing
    const after = await getJson<{ epcisBody: { queryResults: { resultsBody: { eventList: unknown[] } } } }>(`/events?MATCH_anyEPC=${encodeURIComponent(fresh)}`);
    expect(after.body.epcisBody.queryResults.resultsBody.eventList).toEqual([]);
    const tr = await getJson<{ status: string; events: unknown[] }>(`/trace/${encodeURIComponent(fresh)}`);
    expect(tr.body.events).toEqual([]);
    expect(tr.body.status).toBe('unknown');
    expect((await post('/capture', '{"type": "EPCISDocument", ', { type: 'application/json' })).status).toBe(400);
    const poisoned = await post('/capture', '{"type":"EPCISDocument","__proto__":{"x":1}}', { type: 'application/json' });
    expect(poisoned.status).toBe(400);

    const good = JSON.stringify(documentWith([objectEvent('urn:epc:id:sgtin:0614141.107346.8000009')]));
    const r401 = await post('/capture', good, { token: null });
    expect(r401.status).toBe(401);
    expect(r401.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(((await r401.json()) as Problem).status).toBe(401);
    // A token the node never issued is 401 like no token (403 is for a token lacking the scope).
    const rBad = await post('/capture', good, { token: 'not-the-token' });
    expect(rBad.status).toBe(401);
    expect(((await rBad.json()) as Problem).code).toBe('BAD_TOKEN');

    expect((await post('/capture', good)).status).toBe(202);
    const r409 = await post('/capture', good);
    expect(r409.status).toBe(409);
    const p409 = (await r409.json()) as Problem;
    expect(p409.duplicates?.[0]?.txId).toMatch(/^[0-9a-f]{64}$/);

    const huge = new Uint8Array(9 * 1024 * 1024).fill(0x20);
    const r413 = await postOversized('/capture', huge);
    expect(r413).toBe(413);
    const r415 = await post('/capture', good, { type: 'text/plain' });
    expect(r415.status).toBe(415);
    expect(((await r415.json()) as Problem).status).toBe(415);

    expect((await node.get(`/events/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await node.get(`/txs/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await node.get('/events/not-an-id')).status).toBe(400);

    // POST /txs: a tx signed elsewhere is fully verified (a bad signature is refused).
    const tx = (await getJson<{ tx: Record<string, unknown> }>(`/txs/${[...txIds][0] as string}`)).body.tx;
    const forged = { ...tx, time: (tx['time'] as number) + 1 };
    const rForged = await post('/txs', JSON.stringify(forged), { type: 'application/json' });
    expect(rForged.status).toBe(400);
    expect(((await rForged.json()) as Problem).code).toBe('BAD_SIGNATURE');
    const rKnown = await post('/txs', JSON.stringify(tx), { type: 'application/json' });
    expect(rKnown.status).toBe(409);
  }, 60_000);

  it('/metrics, /openapi.json and /docs', async () => {
    const m = await (await node.get('/metrics')).text();
    for (const name of ['tracechain_height', 'tracechain_chainwork', 'tracechain_mempool_txs', 'tracechain_mempool_bytes', 'tracechain_peers', 'tracechain_blocks_imported_total', 'tracechain_txs_imported_total', 'tracechain_rejects_total', 'tracechain_reorgs_total', 'tracechain_hashrate', 'tracechain_http_request_duration_seconds']) {
      expect(m, name).toContain(name);
    }
    expect(m).toMatch(/tracechain_rejects_total\{code="DUPLICATE_EVENT",source="api"\} [1-9]/);
    const spec = (await (await node.get('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(spec.openapi).toMatch(/^3\./);
    for (const p of ['/capture', '/txs', '/txs/{id}', '/events', '/events/{eventId}', '/events/{eventId}/proof', '/trace/{epc}', '/verify', '/01/{gtin}/21/{serial}', '/blocks/tip', '/blocks/{id}', '/health', '/metrics']) {
      expect(spec.paths[p], p).toBeDefined();
      for (const op of Object.values(spec.paths[p] ?? {})) expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    }
    const docs = await node.get('/docs');
    expect(docs.status).toBe(200);
  });
});

function objectEvent(epc: string): Record<string, unknown> {
  return {
    type: 'ObjectEvent',
    eventTime: '2024-03-01T10:00:00.000Z',
    eventTimeZoneOffset: '+01:00',
    epcList: [epc],
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
  };
}

function documentWith(events: Record<string, unknown>[]): Record<string, unknown> {
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2024-03-01T10:00:00.000Z',
    epcisBody: { eventList: events },
  };
}
