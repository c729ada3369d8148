/**
 * Private events between three organisations, with real `tracechain start` processes
 * (docs/confidentiality.md). The manufacturer commissions two packs and ships them to the
 * wholesaler in private mode while the wholesaler's node is down. The pharmacy's node validates
 * and mines on the projections only: its LevelDB stores, its other files and its API answers hold
 * none of the shipment's locations, quantity or purchase order; its `/verify` of a pack is right
 * (in transit, made by the manufacturer, the lot); asking it for the body answers 403. The
 * wholesaler's node, started again, fetches the body it is entitled to from the manufacturer's,
 * and `tracechain verify-proof` accepts the proof with the body. The same scan of the
 * wholesaler's store finds every string (the scan can find what it looks for).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';
import { fetchSettled } from '../helpers/retry.js';
import { initMember } from '../../src/node/commands/init.js';
import { DataDir } from '../../src/node/data-dir.js';
import { makeGenesis } from '../../src/node/dev-consortium.js';
import { paramsForInterval } from '../../src/chain/genesis.js';
import { commitmentOfId } from '../../src/trace/private-event.js';
import type { Member } from '../../src/chain/types.js';

const NODE_ARGS = ['--p2p', '/ip4/127.0.0.1/tcp/0', '--workers', '1', '--log-level', 'info'];

/** What the shipment says that only its parties may read, each as written in the event. */
const SECRETS = {
  source: 'urn:epc:id:sgln:0614141.00001.0',
  destination: 'urn:epc:id:sgln:0614141.00002.0',
  readPoint: 'urn:epc:id:sgln:0614141.00777.0',
  purchaseOrder: 'urn:epcglobal:cbv:bt:0614141000010:PO-778899',
  quantity: 4242.125,
};
/** The strings looked for: nothing shorter than these distinctive parts. */
const NEEDLES = ['sgln:0614141.00001', 'sgln:0614141.00002', 'sgln:0614141.00777', 'PO-778899', '4242.125'];

const dirs: string[] = [];
afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

async function json<T>(n: NodeProc, path: string): Promise<{ status: number; body: T; text: string }> {
  const res = await fetchSettled(n.api + path, { requestTimeoutMs: 10_000, init: { headers: { authorization: `Bearer ${await n.token()}` } } });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as T, text };
}

function document(epcs: string[]): string {
  const t0 = Date.now() - 60_000;
  const at = (s: number): string => new Date(t0 + s * 1_000).toISOString();
  return JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: at(30),
    epcisBody: {
      eventList: [
        {
          type: 'ObjectEvent',
          eventTime: at(0),
          eventTimeZoneOffset: '+00:00',
          epcList: epcs,
          action: 'ADD',
          bizStep: 'commissioning',
          disposition: 'active',
          readPoint: { id: SECRETS.readPoint },
          ilmd: { 'cbvmda:lotNumber': 'LOTC1', 'cbvmda:itemExpirationDate': '2030-06-30' },
        },
        {
          type: 'ObjectEvent',
          eventTime: at(10),
          eventTimeZoneOffset: '+00:00',
          epcList: epcs,
          action: 'OBSERVE',
          bizStep: 'shipping',
          disposition: 'in_transit',
          readPoint: { id: SECRETS.readPoint },
          bizTransactionList: [{ type: 'po', bizTransaction: SECRETS.purchaseOrder }],
          sourceList: [{ type: 'owning_party', source: SECRETS.source }],
          destinationList: [{ type: 'owning_party', destination: SECRETS.destination }],
          quantityList: [{ epcClass: 'urn:epc:class:lgtin:0614141.107346.LOTC1', quantity: SECRETS.quantity, uom: 'KGM' }],
        },
      ],
    },
  });
}

/** Every byte a data directory holds, LevelDB databases read entry by entry (their files are compressed). */
async function contentsOf(dir: string): Promise<string> {
  const parts: string[] = [];
  const entries = await readdir(dir);
  if (entries.includes('CURRENT')) {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    for await (const [k, v] of db.iterator()) parts.push(Buffer.from(k).toString('latin1'), Buffer.from(v).toString('latin1'));
    await db.close();
    return parts.join('\n');
  }
  for (const e of entries) {
    const p = join(dir, e);
    parts.push((await stat(p)).isDirectory() ? await contentsOf(p) : (await readFile(p)).toString('latin1'));
  }
  return parts.join('\n');
}

describe('private events between three organisations (real processes)', () => {
  it('the wholesaler (down during the shipment) gets the body and a proof verify-proof accepts; the pharmacy holds none of it, still verifies the pack, and gets 403', async () => {
    const t0 = Date.now();
    const step = (what: string): void => void process.stderr.write(`[confidential test] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    // Party identifiers as the registry holds them (Digital Link): the shipment writes them as URNs.
    const setup: [string, Member['role'], string[], string[], boolean][] = [
      ['maker', 'manufacturer', ['0614141'], ['https://id.gs1.org/417/0614141000012'], true],
      ['wholesaler', 'wholesaler', [], ['https://id.gs1.org/417/0614141000029'], false],
      ['pharmacy', 'pharmacy', [], ['https://id.gs1.org/417/0614141000036'], false],
    ];
    const memberDirs: string[] = [];
    const members: Member[] = [];
    for (const [name, role, prefixes, parties, seal] of setup) {
      const d = await tempDir('tracechain-private-');
      dirs.push(d);
      memberDirs.push(d);
      members.push(await initMember({ data: d, name, role, prefixes, parties, seal }));
    }
    const genesis = makeGenesis('confidentiality integration', members, Date.now(), { ...paramsForInterval(200), powLimitBits: 0x207fffff });
    for (const d of memberDirs) await new DataDir(d).writeGenesis(genesis);
    const [makerDir, wholesalerDir, pharmacyDir] = memberDirs as [string, string, string];

    const maker = await startNode(NODE_ARGS, { dataDir: makerDir });
    const addr = (await json<{ self: { addresses: string[] } }>(maker, '/peers')).body.self.addresses[0] as string;
    const pharmacy = await startNode([...NODE_ARGS, '--no-mine', '--bootstrap', addr], { dataDir: pharmacyDir });
    step('maker and pharmacy started (the wholesaler is down)');

    // GET /members shows each member's party identifiers.
    const registry = (await json<{ members: { name: string; parties?: string[] }[] }>(pharmacy, '/members')).body;
    expect(registry.members.find((m) => m.name === 'wholesaler')?.parties).toEqual(['https://id.gs1.org/417/0614141000029']);

    const serial = `${process.pid}`.slice(-6);
    const packs = [`urn:epc:id:sgtin:0614141.107346.9${serial}1`, `urn:epc:id:sgtin:0614141.107346.9${serial}2`];
    const res = await fetchSettled(maker.api + '/capture?sharing=private', {
      requestTimeoutMs: 20_000,
      init: { method: 'POST', headers: { authorization: `Bearer ${await maker.token()}`, 'content-type': 'application/ld+json' }, body: document(packs) },
    });
    const accepted = (await res.json()) as { eventIds: string[]; cbvEventIds: string[]; sharing: string };
    expect(res.status, JSON.stringify(accepted)).toBe(202);
    expect(accepted.sharing).toBe('private');
    const [commissionId, shipId] = accepted.eventIds as [string, string];
    const ship = commitmentOfId(shipId) as string;
    expect(ship).toMatch(/^[0-9a-f]{64}$/);

    await waitFor('the shipment in a block at the pharmacy', async () => {
      const r = await json<{ block: unknown }>(pharmacy, `/events/${encodeURIComponent(shipId)}/proof`);
      return r.status === 200 && r.body.block !== null;
    }, 30_000, 150);
    step('shipment mined, seen by the pharmacy');

    // The pharmacy: /verify is right from the projections alone.
    const verify = (await json<{ status: string; manufacturer: string; lot: string; expiry: string }>(pharmacy, `/verify?id=${encodeURIComponent(packs[0] as string)}`)).body;
    expect(verify).toMatchObject({ status: 'in_transit', manufacturer: 'maker', lot: 'LOTC1', expiry: '2030-06-30' });
    // Its answers carry the commitment and the projection only; the body is not its to read.
    const answers: string[] = [];
    for (const path of [`/events/${encodeURIComponent(shipId)}/proof`, `/events/${encodeURIComponent(commissionId)}/proof`, `/trace/${encodeURIComponent(packs[0] as string)}`, '/blocks/tip']) {
      answers.push((await json<unknown>(pharmacy, path)).text);
    }
    const tip = (await json<{ height: number }>(pharmacy, '/blocks/tip')).body.height;
    for (let h = 1; h <= tip; h++) answers.push((await json<unknown>(pharmacy, `/blocks/${h}`)).text);
    const refused = await json<{ code: string }>(pharmacy, `/private/${ship}`);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('NOT_ENTITLED');
    answers.push(refused.text);
    for (const needle of NEEDLES) expect(answers.join('\n'), `a pharmacy answer holds ${needle}`).not.toContain(needle);

    // The wholesaler comes back: it syncs and fetches the body it is entitled to.
    const wholesaler = await startNode([...NODE_ARGS, '--no-mine', '--bootstrap', addr], { dataDir: wholesalerDir });
    step('wholesaler started');
    const proof = await waitFor('the body at the wholesaler', async () => {
      const r = await json<{ body?: { eventId: string; event: Record<string, unknown> } }>(wholesaler, `/private/${ship}`);
      return r.status === 200 ? r : undefined;
    }, 30_000, 200);
    step('body received by the wholesaler');
    expect(proof.body.body?.eventId).toBe(accepted.cbvEventIds[1]);
    expect(proof.body.body?.event['bizTransactionList']).toEqual([{ type: 'po', bizTransaction: SECRETS.purchaseOrder }]);
    const file = join(wholesalerDir, 'shipment-proof.json');
    await writeFile(file, proof.text);
    const checked = await runCli(['verify-proof', file, '--api', wholesaler.api, '--data', wholesalerDir], { timeoutMs: 20_000 });
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toContain('private body verified');

    // The pharmacy's disk, read after it stopped: nothing of the shipment; the wholesaler's has it all.
    await pharmacy.kill();
    await wholesaler.kill();
    const pharmacyDisk = (await contentsOf(pharmacyDir)) + pharmacy.logs.join('\n');
    for (const needle of NEEDLES) expect(pharmacyDisk.includes(needle), `the pharmacy's data holds ${needle}`).toBe(false);
    const wholesalerDisk = await contentsOf(join(wholesalerDir, 'private'));
    for (const needle of NEEDLES) expect(wholesalerDisk.includes(needle), `the wholesaler's private store lacks ${needle}`).toBe(true);
    step('disks scanned');
    // Three node starts are most of its time: 34-56 s measured on a 2-core machine loaded by other runs.
  }, 150_000);
});
