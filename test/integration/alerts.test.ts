/**
 * Alerts, undo and scratch-off codes with real `tracechain start` processes (docs/alerts.md): a
 * manufacturer's node (mining) and a pharmacy's node. A pack dispensed twice raises an alert with
 * the same ID, in the same block, on both nodes; the pharmacy cannot change it (403
 * ALERT_NOT_OWNER), the manufacturer moves it through the CLI and both nodes show the change. A
 * scratch-off code checked at the pharmacy answers genuine; checked again at the manufacturer's
 * node it answers "already checked on … at …" and both nodes hold the SCRATCH_CODE_REUSED alert;
 * ten wrong codes are rate limited and alerted. An undo by the manufacturer is refused with an
 * alert, the pharmacy's own undo makes the pack active again; a recall of the lot then reaches
 * the pharmacy with an alert naming exactly its unsold packs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';
import { fetchSettled } from '../helpers/retry.js';
import { initMember } from '../../src/node/commands/init.js';
import { DataDir } from '../../src/node/data-dir.js';
import { makeGenesis } from '../../src/node/dev-consortium.js';
import { paramsForInterval } from '../../src/chain/genesis.js';
import { alertId } from '../../src/chain/alerts.js';
import { itemKeyInfo } from '../../src/trace/identifiers.js';
import { commitScratchCode } from '../../src/trace/scratch-code.js';
import type { JsonObject } from '../../src/common/json.js';
import type { Member } from '../../src/chain/types.js';
import { commission, dispense, receive, recallLot, ship, type Ev } from '../helpers/epcis-events.js';

const NODE_ARGS = ['--p2p', '/ip4/127.0.0.1/tcp/0', '--workers', '1', '--log-level', 'info'];
const SHOP = 'urn:epc:id:sgln:4012345.00001.0';
const CODE = 'ZX81-4K7P';
const SALT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/epcis-context.jsonld';

const dirs: string[] = [];
afterAll(async () => {
  stopAll();
  for (const d of dirs) await removeDir(d);
});

interface Alert {
  id: string;
  code: string;
  status: string;
  owner: string;
  parties: string[];
  items: string[];
  raisedBy: { blockHash: string; height: number };
}

async function json<T>(n: NodeProc, path: string): Promise<T> {
  return (await (await fetchSettled(n.api + path)).json()) as T;
}

async function post(n: NodeProc, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetchSettled(n.api + path, { init: { method: 'POST', headers: { authorization: `Bearer ${await n.token()}`, 'content-type': 'application/json' }, body: JSON.stringify(body) } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Capture the events as one EPCIS document (the tracechain namespace in its context); returns the tx and event IDs. */
async function capture(n: NodeProc, evs: Ev[]): Promise<{ txId: string; eventIds: string[] }> {
  const eventList = evs.map((e) => {
    const { '@context': _c, ...event } = e.event as JsonObject;
    return event;
  });
  const doc = { '@context': [EPCIS_CONTEXT, { tc: 'https://tracechain.dev/epcis/' }], type: 'EPCISDocument', schemaVersion: '2.0', creationDate: new Date().toISOString(), epcisBody: { eventList } };
  const res = await fetchSettled(n.api + '/capture', { requestTimeoutMs: 20_000, init: { method: 'POST', headers: { authorization: `Bearer ${await n.token()}`, 'content-type': 'application/ld+json' }, body: JSON.stringify(doc) } });
  const body = (await res.json()) as { txId: string; eventIds: string[] };
  expect(res.status, JSON.stringify(body)).toBe(202);
  return body;
}

/** Wait until the tx is in a block on every node given. */
async function mined(txId: string, ...nodes: NodeProc[]): Promise<void> {
  for (const n of nodes) {
    await waitFor(`tx ${txId.slice(0, 12)} in a block at ${n.api}`, async () => {
      const res = await fetchSettled(`${n.api}/txs/${txId}`);
      return res.status === 200 && ((await res.json()) as { block: unknown }).block !== null;
    }, 60_000);
  }
}

async function alerts(n: NodeProc, query: string): Promise<Alert[]> {
  return (await json<{ alerts: Alert[] }>(n, `/alerts?${query}`)).alerts;
}

/** A GET's status, asked again only while the node sheds it (503 UNDER_PRESSURE); a 429 is an answer here. */
async function statusNotShed(url: string): Promise<number> {
  for (let i = 0; ; i++) {
    const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    if (res.status !== 503 || i === 20) return res.status;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const cli = async (args: string[]): Promise<string> => {
  const r = await runCli(args, { timeoutMs: 60_000 });
  expect(r.code, `tracechain ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
};

describe('alerts, undo and scratch-off codes (real processes)', () => {
  it('same alert IDs on both nodes; lifecycle by the owner only; code checks across nodes; undo; recall reaches the holder', async () => {
    const t0 = Date.now();
    const step = (what: string): void => void process.stderr.write(`[alerts test] ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const makerDir = await tempDir('tracechain-alerts-');
    const shopDir = await tempDir('tracechain-alerts-');
    dirs.push(makerDir, shopDir);
    const members: Member[] = [
      await initMember({ data: makerDir, name: 'Maker', role: 'manufacturer', prefixes: ['0614141'], seal: true }),
      await initMember({ data: shopDir, name: 'Shop', role: 'pharmacy', prefixes: [], seal: false }),
    ];
    const [makerId, shopId] = members.map((m) => m.id) as [string, string];
    const genesis = makeGenesis('alerts integration', members, Date.now(), { ...paramsForInterval(250), powLimitBits: 0x207fffff });
    for (const d of [makerDir, shopDir]) await new DataDir(d).writeGenesis(genesis);
    const a = await startNode(NODE_ARGS, { dataDir: makerDir });
    const addrA = (await json<{ self: { addresses: string[] } }>(a, '/peers')).self.addresses[0] as string;
    const b = await startNode([...NODE_ARGS, '--no-mine', '--bootstrap', addrA], { dataDir: shopDir });
    await waitFor('the two members connected', async () => (await Promise.all([a, b].map((n) => json<{ peers: number }>(n, '/health')))).every((h) => h.peers >= 1), 60_000);
    step('two nodes started');

    const run = `${process.pid}${Date.now() % 100_000}`;
    const [p1, p2, p3, p4] = [1, 2, 3, 4].map((i) => `urn:epc:id:sgtin:0614141.107346.${run}${i}`) as [string, string, string, string];
    const key = (epc: string): string => itemKeyInfo(epc).key;
    const lot = `L${run}`.slice(0, 20);
    const made = await capture(a, [commission([p1, p2, p3, p4], lot, '2030-12-31', [commitScratchCode(p1, CODE, SALT)]), ship([p1, p2, p3])]);
    await mined(made.txId, a, b);
    const second = dispense([p2], SHOP);
    const sold = await capture(b, [receive([p1, p2, p3]), dispense([p2], SHOP), dispense([p3], SHOP), second]);
    await mined(sold.txId, a, b);
    step('packs made, received, dispensed (one twice)');

    // The same alert, same ID, same block, on both nodes.
    const twice = alertId('event', sold.eventIds[3] as string, 'DISPENSED_TWICE', key(p2));
    const onA = (await alerts(a, 'owner=Maker')).filter((x) => x.code === 'DISPENSED_TWICE');
    const onB = (await alerts(b, `owner=${makerId}`)).filter((x) => x.code === 'DISPENSED_TWICE');
    expect(onA.map((x) => x.id)).toEqual([twice]);
    expect(onB).toEqual(onA);
    expect(onA[0]?.parties).toContain(shopId);

    // Only the owner (or a regulator) changes it.
    const notOwner = await post(b, `/alerts/${twice}/status`, { status: 'investigating', reason: 'not mine to say' });
    expect([notOwner.status, notOwner.body.code]).toEqual([403, 'ALERT_NOT_OWNER']);
    await cli(['alerts', 'status', twice, 'investigating', '--reason', 'asked the shop', '--api', a.api, '--data', makerDir]);
    await waitFor('the change on the pharmacy node', async () => (await json<Alert>(b, `/alerts/${twice}`)).status === 'investigating', 60_000);
    expect(await cli(['alerts', 'list', '--status', 'investigating', '--api', b.api])).toContain(`${twice}  DISPENSED_TWICE  investigating  owner Maker`);
    step('lifecycle');

    // Scratch-off code: first check at the shop, second at the maker's node.
    const first = JSON.parse(await cli(['verify', p1, '--code', CODE, '--location', SHOP, '--api', b.api, '--json'])) as { codeCheck: { result: string; txId: string } };
    expect(first.codeCheck.result).toBe('genuine');
    await mined(first.codeCheck.txId, a);
    const again = await json<{ codeCheck: { result: string; message: string; firstCheck: { location: string; by: string }; txId: string } }>(a, `/verify?id=${encodeURIComponent(p1)}&code=${CODE}&location=${encodeURIComponent('urn:epc:id:sgln:0614141.00777.0')}`);
    expect(again.codeCheck).toMatchObject({ result: 'already_checked', firstCheck: { location: SHOP, by: 'Shop' } });
    expect(again.codeCheck.message).toMatch(new RegExp(`^already checked on \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z at ${SHOP.replace(/\./g, '\\.')}`));
    const wrong: number[] = [];
    for (let i = 0; i < 10; i++) wrong.push(await statusNotShed(`${a.api}/verify?id=${encodeURIComponent(p1)}&code=BAD-${i}`));
    expect(wrong).toEqual([422, 422, 422, 422, 422, 429, 429, 429, 429, 429]);
    await mined(again.codeCheck.txId, a, b);
    await waitFor('the code alerts on both nodes', async () => {
      const codes = await Promise.all([a, b].map(async (n) => (await alerts(n, 'owner=Maker')).filter((x) => x.code.startsWith('SCRATCH_CODE_'))));
      return codes.every((c) => c.length === 2) && JSON.stringify(codes[0]) === JSON.stringify(codes[1]);
    }, 60_000);
    expect((await alerts(b, 'owner=Maker')).filter((x) => x.code.startsWith('SCRATCH_CODE_')).map((x) => x.code).sort()).toEqual(['SCRATCH_CODE_GUESSING', 'SCRATCH_CODE_REUSED']);
    step('scratch-off codes');

    // Undo: the maker did not dispense p3 (refused with an alert); the shop may.
    const foreign = await post(a, '/reactivations', { id: p3, location: SHOP });
    expect(foreign.status).toBe(202);
    await mined(foreign.body.txId as string, a, b);
    const undo = await cli(['reactivate', p3, '--location', SHOP, '--api', b.api, '--data', shopDir, '--json']);
    await mined((JSON.parse(undo) as { txId: string }).txId, a, b);
    expect((await json<{ status: string }>(b, `/verify?id=${encodeURIComponent(p3)}`)).status).toBe('active');
    expect((await alerts(a, `party=${makerId}`)).filter((x) => x.code.startsWith('REACTIVATE_')).map((x) => [x.code, x.items])).toEqual([['REACTIVATE_OTHER_MEMBER', [key(p3)]]]);
    step('undo');

    // A recall of the lot reaches the shop (p1 and p3 unsold there; p2 sold) and the maker (p4).
    const recall = await capture(a, [recallLot(lot, 4)]);
    await mined(recall.txId, a, b);
    const recalls = await Promise.all([a, b].map((n) => alerts(n, `gtin=10614141073464&lot=${lot}`)));
    const toShop = recalls[1]?.filter((x) => x.code === 'RECALL' && x.parties.includes(shopId));
    expect(toShop?.map((x) => x.items)).toEqual([[key(p1), key(p3)].sort()]);
    expect(toShop?.[0]?.id).toBe(alertId('event', recall.eventIds[0] as string, 'RECALL', `${shopId}\u0000${makerId}`));
    expect(recalls[0]?.filter((x) => x.code === 'RECALL')).toEqual(recalls[1]?.filter((x) => x.code === 'RECALL'));
    step('recall');
    await Promise.all([a.kill(), b.kill()]);
  });
});
