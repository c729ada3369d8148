/**
 * A pack's trace is its whole journey (issue 14), on a three-member devnet (manufacturer,
 * wholesaler, pharmacy: three node processes). The manufacturer commissions packs of two lots,
 * packs them into a case and the case onto a pallet, and ships the pallet; the wholesaler
 * receives it, unpacks both levels and ships two packs on; the pharmacy receives them and
 * dispenses one; the manufacturer recalls one lot. Each pack's /trace must be the journey worked
 * out by hand below (its own events, its case's and pallet's while it was in them, its lot's
 * recall), the same on every node, every proof checked by the independent verifier against
 * another node's main chain, and `verify-proof` must accept the saved answer.
 *
 * Then the pharmacy's store is turned into one of the previous release (schema 1, no links
 * index): audit says the index is not built yet, the node builds it when it starts and answers
 * the same journeys, audit then checks it and names a missing record, and reindex rebuilds it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { checkProofIndependently, type IndependentProof } from '../helpers/independent-proof.js';
import { randomDevnetBasePort, readDevnetLines, type DevnetLine } from '../helpers/devnet-lines.js';
import { BIN, removeDir, runCli, startNode, stopAll, tempDir, waitFor } from '../helpers/node-process.js';
import { canonicalItemKey, itemKeyInfo } from '../../src/trace/index.js';

type Line = DevnetLine;

interface TraceEntry {
  eventId: string;
  event: Record<string, unknown>;
  txId: string;
  block: { hash: string; height: number };
  proof: IndependentProof;
  via?: string;
  path?: string[];
}

interface TraceAnswer {
  epc: string;
  status: string;
  alerts: unknown[];
  events: TraceEntry[];
  nextPageToken?: string;
}

let devnet: ChildProcess | undefined;
let dir = '';
let nodes: Line[] = [];
const [M, W, PH] = [0, 1, 2];

// Identifiers of this run (the manufacturer owns 0614141).
const RUN = String(Date.now() % 1e8).padStart(8, '0');
const packA1 = `urn:epc:id:sgtin:0614141.107346.A1${RUN}`;
const packA2 = `urn:epc:id:sgtin:0614141.107346.A2${RUN}`;
const packB1 = `urn:epc:id:sgtin:0614141.107346.B1${RUN}`;
const packB2 = `urn:epc:id:sgtin:0614141.107346.B2${RUN}`;
const CASE = `urn:epc:id:sscc:0614141.0${RUN.slice(0, 8)}1`;
const PALLET = `urn:epc:id:sscc:0614141.1${RUN.slice(0, 8)}2`;
const LOT_A = `LA${RUN}`;
const LOT_B = `LB${RUN}`;
const LGTIN_A = `urn:epc:class:lgtin:0614141.107346.${LOT_A}`;

const key = (epc: string): string => canonicalItemKey(epc);

let clock = Date.UTC(2025, 5, 1, 8);
function ev(fields: Record<string, unknown>): Record<string, unknown> {
  clock += 3_600_000;
  return { type: 'ObjectEvent', eventTime: new Date(clock).toISOString(), eventTimeZoneOffset: '+00:00', action: 'OBSERVE', ...fields };
}
const at = (gln: string) => ({ readPoint: { id: `urn:epc:id:sgln:0614141.00001.${gln}` } });
const aggregate = (action: 'ADD' | 'DELETE', parent: string, children: string[]) =>
  ev({ type: 'AggregationEvent', action, bizStep: action === 'ADD' ? 'packing' : 'unpacking', parentID: parent, childEPCs: children });

/** The flow, stage by stage: [capturing node, [label, event][]]. Each stage is one capture (one tx). */
const STAGES: [number, [string, Record<string, unknown>][]][] = [
  [
    M,
    [
      ['commission lot A', ev({ action: 'ADD', bizStep: 'commissioning', disposition: 'active', epcList: [packA1, packA2], ilmd: { 'cbvmda:lotNumber': LOT_A, 'cbvmda:itemExpirationDate': '2030-12-31' }, ...at('1') })],
      ['commission lot B', ev({ action: 'ADD', bizStep: 'commissioning', disposition: 'active', epcList: [packB1, packB2], ilmd: { 'cbvmda:lotNumber': LOT_B, 'cbvmda:itemExpirationDate': '2030-12-31' }, ...at('1') })],
      ['pack the case', aggregate('ADD', CASE, [packA1, packA2, packB1, packB2])],
      ['inspect the pallet', ev({ bizStep: 'inspecting', epcList: [PALLET], ...at('1') })],
      ['case onto the pallet', aggregate('ADD', PALLET, [CASE])],
      ['ship the pallet', ev({ bizStep: 'shipping', disposition: 'in_transit', epcList: [PALLET], ...at('1') })],
    ],
  ],
  [
    W,
    [
      ['receive the pallet', ev({ bizStep: 'receiving', disposition: 'in_progress', epcList: [PALLET], ...at('2') })],
      ['unpack the pallet', aggregate('DELETE', PALLET, [])],
      ['unpack the case', aggregate('DELETE', CASE, [packA1, packA2, packB1, packB2])],
      ['ship the empty case', ev({ bizStep: 'shipping', disposition: 'in_transit', epcList: [CASE], ...at('2') })],
      ['ship A1 and B1', ev({ bizStep: 'shipping', disposition: 'in_transit', epcList: [packA1, packB1], ...at('2') })],
    ],
  ],
  [
    PH,
    [
      ['receive A1 and B1', ev({ bizStep: 'receiving', disposition: 'in_progress', epcList: [packA1, packB1], ...at('3') })],
      ['dispense A1', ev({ bizStep: 'dispensing', disposition: 'dispensed', epcList: [packA1], ...at('3') })],
    ],
  ],
  [M, [['recall lot A', ev({ bizStep: 'holding', disposition: 'recalled', quantityList: [{ epcClass: LGTIN_A }], ...at('1') })]]],
];

/**
 * Each pack's journey, worked out by hand: [label, via (container key, 'class', or none), path].
 * Not in any: the pallet inspected before the case was put on it, the case shipped empty after the
 * packs left it.
 */
const CASE_K = key(CASE);
const PALLET_K = key(PALLET);
const viaCase: [string, string[]] = [CASE_K, [CASE_K]];
const viaPallet: [string, string[]] = [PALLET_K, [CASE_K, PALLET_K]];
const lotA: [string, string[]] = ['class', [`https://id.gs1.org/01/10614141073464/10/${LOT_A}`]];
const inTheCase = (commission: string): [string, [string, string[]] | null][] => [
  [commission, null],
  ['pack the case', null],
  ['case onto the pallet', viaCase],
  ['ship the pallet', viaPallet],
  ['receive the pallet', viaPallet],
  ['unpack the pallet', viaPallet],
  ['unpack the case', null],
];
const JOURNEYS: [string, string, [string, [string, string[]] | null][]][] = [
  [packA1, 'dispensed', [...inTheCase('commission lot A'), ['ship A1 and B1', null], ['receive A1 and B1', null], ['dispense A1', null], ['recall lot A', lotA]]],
  [packA2, 'recalled', [...inTheCase('commission lot A'), ['recall lot A', lotA]]],
  [packB1, 'active', [...inTheCase('commission lot B'), ['ship A1 and B1', null], ['receive A1 and B1', null]]],
  [packB2, 'active', inTheCase('commission lot B')],
];

/** Event ID → label, filled as the stages are captured. */
const labels = new Map<string, string>();

async function post(node: Line, body: unknown): Promise<{ txId: string; eventIds: string[] }> {
  return waitFor(`${node.name} accepts a capture`, async () => {
    const res = await fetch(node.api + '/capture', {
      method: 'POST',
      headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/ld+json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    if (res.status === 503 || res.status === 429) return undefined; // busy: ask again
    const text = await res.text();
    if (res.status !== 202) throw new Error(`capture at ${node.name} answered ${res.status}: ${text}`);
    return JSON.parse(text) as { txId: string; eventIds: string[] };
  }, 60_000, 500).catch((err: unknown) => {
    throw new Error(String(err));
  });
}

async function getJson<T>(api: string, path: string): Promise<T> {
  return waitFor(`GET ${path}`, async () => {
    const res = await fetch(api + path, { signal: AbortSignal.timeout(10_000) });
    if (res.status === 503 || res.status === 429) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }, 30_000, 250);
}

/** Every event in a block on every node (each node has imported it). */
async function minedEverywhere(eventIds: string[], on: readonly Line[] = nodes): Promise<void> {
  for (const n of on) {
    for (const id of eventIds) {
      await waitFor(`${id} in a block at ${n.name}`, async () => {
        const res = await fetch(`${n.api}/events/${encodeURIComponent(id)}/proof`, { signal: AbortSignal.timeout(10_000) });
        return res.status === 200 && ((await res.json()) as { block: unknown }).block !== null;
      }, 90_000, 250);
    }
  }
}


async function stopDevnet(): Promise<void> {
  const p = devnet;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  await exited;
}

/** Every page of a trace (with a small page size, so paging is exercised too). */
async function traceOf(api: string, epc: string, limit?: number): Promise<TraceAnswer> {
  const first = await getJson<TraceAnswer>(api, `/trace/${encodeURIComponent(epc)}${limit ? `?limit=${limit}` : ''}`);
  let page = first;
  while (page.nextPageToken !== undefined) {
    page = await getJson<TraceAnswer>(api, `/trace/${encodeURIComponent(epc)}?${limit ? `limit=${limit}&` : ''}nextPageToken=${encodeURIComponent(page.nextPageToken)}`);
    first.events.push(...page.events);
  }
  delete first.nextPageToken;
  return first;
}

function described(t: TraceAnswer): [string, [string, string[]] | null][] {
  return t.events.map((e) => [labels.get(e.eventId) ?? `unknown event ${e.eventId}`, e.via === undefined ? null : [e.via, e.path ?? []]]);
}

beforeAll(async () => {
  dir = await tempDir('tracechain-journey-');
  const base = randomDevnetBasePort();
  const stderr: string[] = [];
  devnet = spawn(process.execPath, [BIN, 'devnet', '--nodes', '3', '--dir', join(dir, 'net'), '--base-port', String(base), '--block-interval', '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
  devnet.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  nodes = await readDevnetLines(devnet, 3, 120_000, stderr);
  expect(nodes.map((n) => n.role)).toEqual(['manufacturer', 'wholesaler', 'pharmacy']);
  for (const n of nodes) {
    await waitFor(`${n.name} sees both other members`, async () => {
      const res = await fetch(n.api + '/peers', { signal: AbortSignal.timeout(5_000) });
      return res.status === 200 && ((await res.json()) as { peers: unknown[] }).peers.length === 2;
    }, 60_000, 250);
  }
  for (const [who, events] of STAGES) {
    const doc = {
      '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
      type: 'EPCISDocument',
      schemaVersion: '2.0',
      creationDate: new Date(clock).toISOString(),
      epcisBody: { eventList: events.map(([, e]) => e) },
    };
    const accepted = await post(nodes[who] as Line, doc);
    accepted.eventIds.forEach((id, i) => labels.set(id, (events[i] as [string, unknown])[0]));
    // The next stage is captured by another member once this one is in a block everywhere, so
    // the chain holds the stages in this order.
    await minedEverywhere(accepted.eventIds);
  }
}, 420_000);

afterAll(async () => {
  await stopDevnet();
  stopAll();
  if (dir) await removeDir(dir);
});

describe('a pack’s trace is its whole journey (three member nodes)', () => {
  it('each pack’s trace is the journey worked out by hand, the same on every node, with its status and no alerts', async () => {
    for (const [epc, status, journey] of JOURNEYS) {
      const answers = await Promise.all(nodes.map((n) => traceOf(n.api, epc)));
      for (const [i, t] of answers.entries()) {
        expect(described(t), `${epc} at ${nodes[i]?.name}`).toEqual(journey);
        expect(t.status, `${epc} at ${nodes[i]?.name}`).toBe(status);
        expect(t.alerts).toEqual([]);
      }
      // Paged two events at a time: the same steps.
      expect(described(await traceOf(nodes[PH]?.api as string, epc, 2))).toEqual(journey);
      // The status and alerts are /verify's (unchanged by the wider trace).
      const v = await getJson<{ status: string; alerts: unknown[] }>(nodes[M]?.api as string, `/verify?id=${encodeURIComponent(epc)}`);
      expect([v.status, v.alerts]).toEqual([status, []]);
    }
    // GET /events?MATCH_anyEPC keeps its EPCIS meaning: only events naming the pack.
    const q = await getJson<{ epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } }>(nodes[W]?.api as string, `/events?MATCH_anyEPC=${encodeURIComponent(packB2)}`);
    expect(q.epcisBody.queryResults.resultsBody.eventList.map((e) => labels.get(e.eventID))).toEqual(['commission lot B', 'pack the case', 'unpack the case']);
    // The containers' own traces: the case travelled on the pallet; the pallet has no container.
    expect(described(await traceOf(nodes[M]?.api as string, CASE))).toEqual([
      ['pack the case', null],
      ['case onto the pallet', null],
      ['ship the pallet', [PALLET_K, [PALLET_K]]],
      ['receive the pallet', [PALLET_K, [PALLET_K]]],
      ['unpack the pallet', [PALLET_K, [PALLET_K]]],
      ['unpack the case', null],
      ['ship the empty case', null],
    ]);
    expect(described(await traceOf(nodes[M]?.api as string, PALLET)).map(([l, v]) => [l, v])).toEqual([
      ['inspect the pallet', null],
      ['case onto the pallet', null],
      ['ship the pallet', null],
      ['receive the pallet', null],
      ['unpack the pallet', null],
    ]);
  });

  it('every step’s proof checks out with the independent verifier, against another node’s main chain', async () => {
    const blocks = new Map<number, { hash: string; header: string; txIds: string[] }>();
    let checked = 0;
    for (const [epc] of JOURNEYS) {
      const t = await traceOf(nodes[PH]?.api as string, epc);
      for (const e of t.events) {
        const r = checkProofIndependently(e.eventId, e.proof);
        expect(r.problems, `${labels.get(e.eventId)} in ${epc}`).toEqual([]);
        expect(r.txId).toBe(e.txId);
        expect(r.height).toBe(e.block.height);
        let b = blocks.get(r.height);
        if (!b) {
          b = await getJson<{ hash: string; header: string; txIds: string[] }>(nodes[M]?.api as string, `/blocks/${r.height}`);
          blocks.set(r.height, b);
        }
        expect([b.hash, b.header, b.txIds[e.proof.txIndex], b.txIds.length]).toEqual([e.proof.blockHash, e.proof.header, e.txId, e.proof.txCount]);
        // The event is the tx's own, with that ID.
        const tx = JSON.parse(e.proof.tx) as { eventIds: string[]; events: unknown[] };
        expect(tx.events[tx.eventIds.indexOf(e.eventId)]).toEqual(e.event);
        checked++;
      }
    }
    expect(checked).toBe(JOURNEYS.reduce((n, [, , j]) => n + j.length, 0));
  });

  it('verify-proof accepts the saved journey against another node; tracechain trace prints it with what each step came through', async () => {
    const file = join(dir, 'a1-trace.json');
    await writeFile(file, await (await fetch(`${nodes[PH]?.api}/trace/${encodeURIComponent(packA1)}`)).text());
    const r = await runCli(['verify-proof', file, '--api', nodes[W]?.api as string]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('all 11 proof(s) verified');
    expect(r.stdout).toContain(`(via SSCC ${itemKeyInfo(PALLET).sscc as string} (in SSCC ${itemKeyInfo(CASE).sscc as string} on it))`);
    expect(r.stdout).toMatch(/\(via GTIN 10614141073464 lot LA\d+ \(class event\)\)/);
    const printed = await runCli(['trace', packA2, '--api', nodes[M]?.api as string]);
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout.trim().split('\n');
    expect(lines[1]).toBe('status: recalled');
    expect(lines.slice(2)).toHaveLength(8);
    expect(lines[5]).toMatch(/shipping .*via SSCC \d{18} \(in SSCC \d{18} on it\)$/);
    expect(lines[9]).toMatch(/holding .*recalled.*via GTIN 10614141073464 lot LA\d+ \(class event\)$/);
  });

  it('a store of the previous release gets its links index built at start; audit checks it and reindex rebuilds it', async () => {
    const expected = new Map<string, [string, [string, string[]] | null][]>();
    for (const [epc, , journey] of JOURNEYS) expected.set(epc, journey);
    await stopDevnet();
    const data = nodes[PH]?.data as string;
    // The previous release: schema 1, no links bucket (0x0d).
    const withDb = async (fn: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> => {
      const db = new ClassicLevel<Uint8Array, Uint8Array>(join(data, 'chain'), { keyEncoding: 'view', valueEncoding: 'view' });
      await db.open();
      try {
        await fn(db);
      } finally {
        await db.close();
      }
    };
    const linkKeys = async (db: ClassicLevel<Uint8Array, Uint8Array>): Promise<Uint8Array[]> => {
      const out: Uint8Array[] = [];
      for await (const k of db.keys({ gte: Uint8Array.of(0x0d), lt: Uint8Array.of(0x0e) })) out.push(k);
      return out;
    };
    let links = 0;
    await withDb(async (db) => {
      const keys = await linkKeys(db);
      links = keys.length;
      for (const k of keys) await db.del(k);
      await db.put(Uint8Array.from([0x0a, ...Buffer.from('schema')]), Uint8Array.of(0, 0, 0, 1));
    });
    // in ×4, in, emptied, out ×4, left (A1 dispensed)
    expect(links).toBe(11);
    const before = await runCli(['audit', '--data', data, '--json']);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ ok: true, linksChecked: false });

    const node = await startNode(['--no-mine'], { dataDir: data });
    try {
      expect(node.logs.some((l) => l.includes('"links index built"') && l.includes(`"records":${links}`))).toBe(true);
      for (const [epc, journey] of expected) expect(described(await traceOf(node.api, epc))).toEqual(journey);
    } finally {
      await node.kill('SIGTERM');
    }
    const after = await runCli(['audit', '--data', data, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, linksChecked: true });

    // A lost link record is damage audit names; reindex rebuilds the index.
    await withDb(async (db) => {
      const keys = await linkKeys(db);
      await db.del(keys[0] as Uint8Array);
    });
    const damaged = await runCli(['audit', '--data', data]);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toMatch(/audit FAILED .*link record/);
    const re = await runCli(['reindex', '--data', data, '--json']);
    expect(re.code, re.stderr).toBe(0);
    expect((await runCli(['audit', '--data', data])).code).toBe(0);
    await withDb(async (db) => {
      expect(await linkKeys(db)).toHaveLength(links);
    });
  });
});
