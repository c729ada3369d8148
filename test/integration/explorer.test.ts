/**
 * The explorer page end to end, in Debian's headless Chromium (playwright-core, no browser
 * download): a real dev node, a GS1 example captured with the node's token and mined, then
 * searched on the page; the timeline renders with every proof verified by the page's own
 * JavaScript (WebCrypto), a tampered proof is caught, block/tx/event views and the health
 * panel work, and a screenshot of the timeline is a real PNG. Plus the static file route's
 * HTTP behaviour (types, CSP, ETag, nothing outside the asset list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { itemKeyInfo } from '../../src/trace/index.js';
import { initMember } from '../../src/node/commands/init.js';
import { removeDir, runCli, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';
import { findChromium, gate } from '../helpers/prerequisites.js';
import { fetchSettled } from '../helpers/retry.js';

const chromiumFound = findChromium();
const EXAMPLE = fileURLToPath(new URL('../../../shared/vectors/gs1-epcis-examples/Example_9.6.1-ObjectEvent.jsonld', import.meta.url));
// CI installs Chromium (.ci/run) and must run this (without it every test here fails, naming
// what is missing); a developer machine without it skips, saying why in the describe title.
const chromiumGate = gate(chromiumFound.missing);

let node: NodeProc;
let shots: string;
let browser: Browser;
let token: string;

async function capture(body: string): Promise<{ txId: string; eventIds: string[] }> {
  const res = await fetchSettled(`${node.api}/capture`, {
    requestTimeoutMs: 20_000,
    init: { method: 'POST', headers: { 'content-type': 'application/ld+json', authorization: `Bearer ${token}` }, body },
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { txId: string; eventIds: string[] };
}

async function mined(eventIds: string[]): Promise<void> {
  for (const id of eventIds) {
    await waitFor(`event ${id} in a block`, async () => {
      const r = await node.get(`/events/${encodeURIComponent(id)}/proof`);
      return r.status === 200 && ((await r.json()) as { block: unknown }).block !== null;
    });
  }
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (err) => {
    throw err;
  });
  return page;
}

async function search(page: Page, q: string): Promise<void> {
  await page.fill('#q', q);
  await page.click('#search button');
}

/** Width and height from a PNG's IHDR; throws when the bytes are not a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

async function keepShot(path: string): Promise<void> {
  const keep = process.env.EXPLORER_SCREENSHOTS;
  if (keep) {
    await mkdir(keep, { recursive: true });
    await copyFile(path, join(keep, path.split('/').pop() as string));
  }
}

// A pack's whole journey, dispensed twice: the second dispense is recorded and turns the pack suspect.
const SERIAL = 'PK' + Date.now().toString(36).toUpperCase();
const EPC = `urn:epc:id:sgtin:4012345.011111.${SERIAL}`;
function journey(): string {
  const ev = (t: string, step: string, action: string, disp: string, loc: string, extra = ''): string =>
    `{"type":"ObjectEvent","eventTime":"${t}","eventTimeZoneOffset":"+01:00","epcList":["${EPC}"],"action":"${action}","bizStep":"${step}","disposition":"${disp}","readPoint":{"id":"urn:epc:id:sgln:4012345.00001.${loc}"}${extra}}`;
  return JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2025-03-01T08:00:00Z',
    epcisBody: {
      eventList: [
        ev('2025-03-01T08:00:00+01:00', 'commissioning', 'ADD', 'active', '1', ',"ilmd":{"cbvmda:lotNumber":"LOT42","cbvmda:itemExpirationDate":"2027-06-30"}'),
        ev('2025-03-02T09:30:00+01:00', 'shipping', 'OBSERVE', 'in_transit', '2'),
        ev('2025-03-03T14:10:00+01:00', 'receiving', 'OBSERVE', 'in_progress', '3'),
        ev('2025-03-10T11:05:00+01:00', 'dispensing', 'OBSERVE', 'dispensed', '4'),
        ev('2025-03-11T16:45:00+01:00', 'dispensing', 'OBSERVE', 'dispensed', '5'),
      ].map((s) => JSON.parse(s) as unknown),
    },
  });
}

// A pack that travelled in a case: the case's shipping is in the pack's journey, via the case.
const CASED = `urn:epc:id:sgtin:4012345.011111.C${SERIAL}`;
const CASE_SSCC = `urn:epc:id:sscc:4012345.0${String(Date.now() % 1e9).padStart(9, '0')}`;
function casedJourney(): string {
  const t = (n: number): string => `2025-04-0${n}T10:00:00+01:00`;
  const base = { eventTimeZoneOffset: '+01:00', readPoint: { id: 'urn:epc:id:sgln:4012345.00001.9' } };
  return JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2025-04-01T08:00:00Z',
    epcisBody: {
      eventList: [
        { ...base, type: 'ObjectEvent', eventTime: t(1), epcList: [CASED], action: 'ADD', bizStep: 'commissioning', disposition: 'active', ilmd: { 'cbvmda:lotNumber': 'LOT43' } },
        { ...base, type: 'AggregationEvent', eventTime: t(2), parentID: CASE_SSCC, childEPCs: [CASED], action: 'ADD', bizStep: 'packing' },
        { ...base, type: 'ObjectEvent', eventTime: t(3), epcList: [CASE_SSCC], action: 'OBSERVE', bizStep: 'shipping', disposition: 'in_transit' },
        { ...base, type: 'AggregationEvent', eventTime: t(4), parentID: CASE_SSCC, childEPCs: [CASED], action: 'DELETE', bizStep: 'unpacking' },
      ],
    },
  });
}

describe.skipIf(chromiumGate.skip)(`explorer page in headless Chromium${chromiumGate.title}`, () => {
  let example: { txId: string; eventIds: string[] };
  let pack: { txId: string; eventIds: string[] };
  let cased: { txId: string; eventIds: string[] };

  beforeAll(async () => {
    chromiumGate.check();
    shots = await tempDir('tracechain-explorer-shots-');
    node = await startNode(['--block-interval', '200', '--workers', '1']);
    token = (await readFile(join(node.dataDir, 'api-token'), 'utf8')).trim();
    browser = await chromium.launch({
      executablePath: chromiumFound.path as string,
      // playwright runs it headless with a fresh profile (a new temp --user-data-dir) of its own
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    example = await capture(readFileSync(EXAMPLE, 'utf8'));
    pack = await capture(journey());
    cased = await capture(casedJourney());
    await mined([...example.eventIds, ...pack.eventIds, ...cased.eventIds]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await node?.kill('SIGTERM');
    stopAll();
    if (shots) await removeDir(shots);
  });

  it('serves the page and its files with the right types, a CSP, ETags, and nothing else', async () => {
    const index = await node.get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('/explorer/app.js');
    for (const [file, type] of [
      ['app.js', 'text/javascript'],
      ['proof.js', 'text/javascript'],
      ['style.css', 'text/css'],
      ['icon.svg', 'image/svg+xml'],
    ] as const) {
      const r = await node.get(`/explorer/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers.get('content-type')).toContain(type);
      const etag = r.headers.get('etag') as string;
      const again = await fetch(`${node.api}/explorer/${file}`, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    for (const bad of ['/explorer/proof.d.ts', '/explorer/tsconfig.json', '/explorer/..%2Fpackage.json', '/explorer/%2e%2e%2f%2e%2e%2fpackage.json', '/explorer/nope.js']) {
      const r = await node.get(bad);
      expect(r.status, bad).toBe(404);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    const c = (await (await node.get('/explorer/consortium.json')).json()) as { name: string; self: { name: string }; members: { id: string; name: string; role: string }[] };
    expect(c.members).toHaveLength(1);
    expect(c.self.name).toBe(c.members[0]?.name);
    expect(c.members[0]?.role).toBe('dev');
  });

  it('shows the tip, recent blocks and the health panel', async () => {
    const page = await newPage();
    await page.goto(`${node.api}/`);
    await page.waitForSelector('table.blocks tbody tr');
    const health = (await (await node.get('/health')).json()) as { height: number };
    await waitFor('health panel filled', async () => Number(await page.textContent('#h-height .v')) >= health.height, 10_000);
    expect(await page.textContent('#h-status .v')).toBe('ready');
    expect(await page.textContent('#h-peers .v')).toBe('0');
    expect(await page.textContent('#h-hashrate .v')).toMatch(/H\/s$/);
    expect(await page.textContent('#h-age .v')).toMatch(/ago$/);
    expect(await page.textContent('#h-mempool .v')).toMatch(/^[0-9]+ txs?$/);
    expect(await page.textContent('.tip')).toMatch(/chain tip#[0-9]+/);
    // The tip line and the table agree (both refresh when the tip moves: poll for a settled view).
    await waitFor('tip line and recent blocks agree', async () => {
      const tipHeight = Number((await page.textContent('.tip a'))?.slice(1));
      const rows = await page.locator('table.blocks tbody tr').count();
      const first = await page.textContent('table.blocks tbody tr:first-child td:first-child');
      return rows === Math.min(10, tipHeight + 1) && first === String(tipHeight);
    }, 10_000);
    const path = join(shots, 'explorer-home.png');
    await page.screenshot({ path, fullPage: true });
    await keepShot(path);
    await page.close();
  });

  it('searches a GS1 Digital Link and shows the journey, every proof verified in the browser', async () => {
    const page = await newPage();
    await page.goto(`${node.api}/`);
    // urn:epc:id:sgtin:0614141.107346.2018 of GS1's example, asked for as a GS1 Digital Link
    const dl = itemKeyInfo('urn:epc:id:sgtin:0614141.107346.2018').key;
    expect(dl).toMatch(/^https:\/\/id\.gs1\.org\/01\/[0-9]{14}\/21\/2018$/);
    await search(page, dl);
    await page.waitForSelector('#proof-summary[data-state="verified"]', { timeout: 20_000 });
    const steps = page.locator('#timeline li.step');
    expect(await steps.count()).toBe(2);
    expect(await steps.nth(0).textContent()).toContain('Shipping');
    expect(await steps.nth(1).textContent()).toContain('Receiving');
    expect(await steps.nth(1).textContent()).toContain('GLN 0012345111112 · ext 400');
    expect(await page.locator('#timeline li.step[data-verified="true"] .mark.ok').count()).toBe(2);
    expect(await page.textContent('#proof-summary')).toContain('All 2 proofs verified in your browser');
    expect(await page.textContent('#proof-summary')).toContain('WebCrypto');
    const trace = (await (await node.get(`/trace/${encodeURIComponent(dl)}`)).json()) as { status: string };
    expect(await page.textContent('#item-status')).toBe(trace.status.replace('_', ' '));
    const ids = await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-event-id')));
    expect(ids).toEqual(example.eventIds);
    const path = join(shots, 'explorer-gs1-example.png');
    await page.screenshot({ path, fullPage: true });
    const png = await readFile(path);
    const size = pngSize(png);
    expect(size.width).toBe(1280);
    expect(size.height).toBeGreaterThanOrEqual(600);
    expect((await stat(path)).size).toBeGreaterThan(20_000);
    await keepShot(path);
    await page.close();
  });

  it('shows a whole journey with its alert (dispensed twice: suspect), by EPC URN', async () => {
    const page = await newPage();
    await page.goto(`${node.api}/#/item/${encodeURIComponent(EPC)}`);
    await page.waitForSelector('#proof-summary[data-state="verified"]', { timeout: 20_000 });
    expect(await page.locator('#timeline li.step').count()).toBe(5);
    expect(await page.textContent('#item-status')).toBe('suspect');
    expect(await page.textContent('.status-text')).toContain('SUSPECT');
    expect(await page.textContent('ul.alerts')).toBeTruthy();
    expect(await page.locator('#timeline li.step').nth(4).locator('.badge.suspect').count()).toBe(1);
    const card = await page.textContent('.card');
    expect(card).toContain('LOT42');
    expect(card).toContain('2027-06-30');
    expect(await page.textContent('#timeline')).toContain('Commissioning');
    // The timeline screenshot: a real PNG of a real page, not a blank one.
    const path = join(shots, 'explorer-timeline.png');
    await page.locator('section.item').screenshot({ path });
    const png = await readFile(path);
    const size = pngSize(png);
    expect(size.width).toBeGreaterThan(600);
    expect(size.height).toBeGreaterThan(700);
    expect(png.length).toBeGreaterThan(30_000);
    await keepShot(path);
    await page.close();
  });

  it("lists the node's member's open alerts (the pack dispensed twice), each linking to its pack", async () => {
    const page = await newPage();
    await page.goto(`${node.api}/#/alerts`);
    await page.waitForSelector('section.alerts', { timeout: 20_000 });
    const text = (await page.textContent('section.alerts')) ?? '';
    expect(text).toContain('Open alerts of');
    expect(text).toContain('DISPENSED_TWICE');
    const key = itemKeyInfo(EPC).key;
    expect(await page.locator(`section.alerts a[href="#/item/${encodeURIComponent(key)}"]`).count()).toBeGreaterThan(0);
    await page.close();
  });

  it('keeps the journey in chain order when the proof checks finish out of order', async () => {
    const page = await newPage();
    // Slow down the first SHA-256 of each step's check, the first step's most: the five checks
    // (five events of one tx in one block) then finish last step first. A MutationObserver
    // records the order in which the steps' checks finished.
    await page.addInitScript(`
      const subtle = crypto.subtle;
      const digest = subtle.digest.bind(subtle);
      let calls = 0;
      Object.defineProperty(subtle, 'digest', {
        value: async (alg, data) => {
          const n = calls++;
          if (n < 5) await new Promise((r) => setTimeout(r, (5 - n) * 300));
          return digest(alg, data);
        },
      });
      // A step's check is done when it is on the page with its verdict (set then, or added then).
      window.checkedOrder = [];
      const done = (el) => {
        if (el.nodeType === 1 && el.matches('li.step') && el.dataset.verified !== 'pending') window.checkedOrder.push(el.dataset.eventId);
      };
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type === 'attributes') done(r.target);
          else r.addedNodes.forEach(done);
        }
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-verified'] });
    `);
    await page.goto(`${node.api}/#/item/${encodeURIComponent(EPC)}`);
    await page.waitForSelector('#proof-summary[data-state="verified"]', { timeout: 20_000 });
    const checked = (await page.evaluate('window.checkedOrder')) as string[];
    expect([...checked].sort()).toEqual([...pack.eventIds].sort());
    // The checks did finish out of order (the first step's, slowed down most, last).
    expect(checked).not.toEqual(pack.eventIds);
    expect(checked[checked.length - 1]).toBe(pack.eventIds[0]);
    const shown = await page.locator('#timeline li.step').evaluateAll((els) => els.map((e) => e.getAttribute('data-event-id')));
    const trace = (await (await node.get(`/trace/${encodeURIComponent(EPC)}`)).json()) as { events: { eventId: string }[] };
    expect(trace.events.map((e) => e.eventId)).toEqual(pack.eventIds);
    expect(shown).toEqual(pack.eventIds); // and the page shows the journey's order
    expect(await page.locator('#timeline li.step').first().textContent()).toContain('Commissioning');
    await page.close();
  });

  it('shows the steps a pack made in its case, marked with the case', async () => {
    const page = await newPage();
    await page.goto(`${node.api}/#/item/${encodeURIComponent(CASED)}`);
    await page.waitForSelector('#proof-summary[data-state="verified"]', { timeout: 20_000 });
    const steps = page.locator('#timeline li.step');
    expect(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-event-id')))).toEqual(cased.eventIds);
    const shipping = steps.nth(2);
    expect(await shipping.textContent()).toContain('Shipping');
    const sscc = itemKeyInfo(CASE_SSCC).sscc as string;
    expect(await shipping.getAttribute('data-via')).toBe(itemKeyInfo(CASE_SSCC).key);
    expect(await shipping.locator('.via').textContent()).toBe(`via SSCC ${sscc}`);
    expect(await steps.locator('.via').count()).toBe(1);
    expect(await page.locator('#timeline li.step[data-verified="true"] .mark.ok').count()).toBe(4);
    await page.close();
  });

  it('catches a tampered proof: the node is not trusted', async () => {
    const page = await newPage();
    // Serve the page's /trace answers through a man in the middle that moves one event to another tx index.
    await page.route('**/trace/**', async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { events: { proof: { txIndex: number; txCount: number; tx: string } }[] };
      const first = body.events[0];
      if (first) first.proof.tx = first.proof.tx.replace('"OBSERVE"', '"DELETE"');
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(`${node.api}/#/item/${encodeURIComponent('urn:epc:id:sgtin:0614141.107346.2018')}`);
    await page.waitForSelector('#proof-summary[data-state="failed"]', { timeout: 20_000 });
    expect(await page.textContent('#proof-summary')).toContain('1 of 2 proofs did not check out');
    expect(await page.locator('#timeline .mark.bad').count()).toBe(1);
    expect(await page.textContent('#timeline .mark.bad')).toContain('audit path');
    await page.close();
  });

  it('asks for the token when the node requires it for reads, and then works', async () => {
    const locked = await startNode(['--block-interval', '200', '--workers', '1', '--no-mine'], { env: { TRACECHAIN_REQUIRE_TOKEN_FOR_READS: 'true' } });
    try {
      expect((await locked.get('/blocks/tip')).status).toBe(401);
      expect((await locked.get('/')).status).toBe(200); // the page itself is open
      const page = await newPage();
      await page.goto(`${locked.api}/`);
      await page.waitForSelector('#token-dialog[open]');
      expect(await page.textContent('#h-status .v')).toBe('ready'); // /health stays open
      await page.fill('#token-input', await locked.token());
      await page.click('#token-ok');
      await page.waitForSelector('table.blocks tbody tr');
      expect(await page.textContent('.tip')).toContain('#0');
      expect(await page.evaluate('sessionStorage.getItem("tracechain.token")')).toBe(await locked.token());
      await page.close();
    } finally {
      await locked.kill('SIGTERM');
      await removeDir(locked.dataDir);
    }
  });

  it('opens event, tx and block views from the timeline, each checked in the browser', async () => {
    const page = await newPage();
    await page.goto(`${node.api}/#/item/${encodeURIComponent(EPC)}`);
    await page.waitForSelector('#proof-summary[data-state="verified"]');
    await page.locator('#timeline li.step').first().locator('.proof a[href^="#/event/"]').click();
    await page.waitForSelector('section.event .mark.ok');
    expect(await page.textContent('section.event h1')).toBe('Commissioning');
    await page.locator('section.event a[href^="#/tx/"]').click();
    await page.waitForSelector('section.tx .mark.ok');
    expect(await page.locator('section.tx ol.events li').count()).toBe(5);
    await page.locator('section.tx a[href^="#/block/"]').click();
    await page.waitForSelector('section.block .mark.ok');
    expect(await page.textContent('section.block .mark.ok')).toContain('proof of work checked in your browser');
    // search by height, by tx ID, by event ID
    await search(page, '1');
    await page.waitForSelector('section.block h1:text("Block #1")');
    await search(page, pack.txId);
    await page.waitForSelector('section.tx .mark.ok');
    await search(page, pack.eventIds[1] as string);
    await page.waitForSelector('section.event h1:text("Shipping")');
    // an event ID leads to the pack's journey too, with that event marked
    await page.waitForSelector('#proof-summary[data-state="verified"]');
    expect(await page.locator('#timeline li.step').count()).toBe(5);
    expect(await page.getAttribute('#timeline li.step.highlight', 'data-event-id')).toBe(pack.eventIds[1]);
    // a wrong identifier: the API's problem, shown
    await search(page, 'urn:epc:id:sgtin:not-an-epc');
    await page.waitForSelector('.error');
    expect(await page.textContent('.error')).toMatch(/GS1|EPC/);
    await page.close();
  });

  it('shows the members with their key history after a rotation (a second dev node rotates its key and restarts with the new one)', async () => {
    const dir = await tempDir('tracechain-explorer-rotation-');
    const keysDir = await tempDir('tracechain-explorer-new-key-');
    const args = ['--block-interval', '200', '--workers', '1'];
    let n2 = await startNode(args, { dataDir: dir });
    try {
      interface Members { members: { name: string; keys: string[]; history: { change: string; height: number }[] }[] }
      interface Proposals { proposals: { id: string; status: string; effectiveHeight?: number }[] }
      const json = async <T,>(n: NodeProc, path: string): Promise<T> => (await (await n.get(path)).json()) as T;
      const oldKey = (await json<Members>(n2, '/members')).members[0]?.keys[0] as string;
      await initMember({ data: keysDir, name: 'dev', role: 'dev', prefixes: [], seal: true }); // what `tracechain init` does
      const proposed = await runCli(['member', 'propose', 'rotate', '--new-data', keysDir, '--keep-peer', '--api', n2.api, '--data', dir]);
      expect(proposed.code, proposed.stderr).toBe(0);
      const id = /proposal ([0-9a-f]{64})/.exec(proposed.stdout)?.[1] as string;
      // One member: its proposal is the quorum. The old key stops sealing at the activation height;
      // the operator restarts the node with the new key, which seals it.
      await waitFor('the rotation approved', async () => (await json<Proposals>(n2, '/governance/proposals')).proposals.find((p) => p.id === id)?.effectiveHeight !== undefined, 20_000, 200);
      expect(await n2.kill()).toBe(0);
      await copyFile(join(keysDir, 'member.key'), join(dir, 'member.key'));
      n2 = await startNode(args, { dataDir: dir });
      await waitFor('the rotation applied', async () => (await json<Proposals>(n2, '/governance/proposals')).proposals.find((p) => p.id === id)?.status === 'applied', 20_000, 200);
      const newKey = (await json<Members>(n2, '/members')).members[0]?.keys[1] as string;
      expect(newKey).toBeDefined();

      const page = await newPage();
      await page.goto(`${n2.api}/#/members`);
      const members = page.locator('section.members table.blocks').first();
      await members.locator('tbody tr').first().waitFor();
      const keys = members.locator('tbody tr td:nth-child(5) code');
      expect(await keys.count()).toBe(2);
      expect([await keys.nth(0).getAttribute('title'), await keys.nth(1).getAttribute('title')]).toEqual(['retired key', 'current key']);
      expect(await keys.nth(0).textContent()).toMatch(new RegExp(`^${oldKey.slice(0, 8)}.*\\(retired\\)`));
      expect(await keys.nth(1).textContent()).toMatch(new RegExp(`^${newKey.slice(0, 8)}`));
      expect(await members.locator('tbody tr td:nth-child(6)').textContent()).toMatch(/genesis at #0.*rotate at #[0-9]+/);
      const proposalRow = page.locator('section.members table.blocks').nth(1).locator('tbody tr').first();
      expect(await proposalRow.textContent()).toMatch(/rotate.*applied/);
      await page.close();
    } finally {
      await n2.kill();
      await removeDir(dir);
      await removeDir(keysDir);
    }
  }, 90_000);
});
