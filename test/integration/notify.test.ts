/**
 * Webhook and WebSocket subscriptions on a real node with a real HTTP receiver (docs/notifications.md):
 * recalls are delivered once each, signed, in chain order, only after their confirmations; a
 * receiver that is down gets every missed recall once, in order, when it is back; a node
 * SIGKILLed while a delivery is in flight loses nothing after its restart, and the one repeated
 * delivery carries the ID of the first copy; a WebSocket client sees the same sequence. (A
 * reorganisation before the confirmations is shown on a real chain and store in
 * test/unit/notify/service.test.ts: one node alone does not fork.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { removeDir, startNode, stopAll, tempDir, waitFor, type NodeProc } from '../helpers/node-process.js';
import { commissioningDocument } from '../helpers/epcis-docs.js';
import { fetchSettled } from '../helpers/retry.js';
import { verifySignature } from '../../src/notify/signature.js';

const SECRET = 'receiver-secret-0123456789';
const dirs: string[] = [];
const servers: Server[] = [];
const sockets: WebSocket[] = [];

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  for (const s of servers) s.closeAllConnections();
  stopAll();
  for (const d of dirs) await removeDir(d);
});

interface Delivery {
  deliveryId: string;
  eventIds: string[];
  signed: boolean;
  signedWithWrongSecret: boolean;
}

/** The receiver: records every delivery it gets; answers 204, or holds the request open ('hang'). */
class Receiver {
  readonly deliveries: Delivery[] = [];
  mode: 'ok' | 'hang' = 'ok';
  private server: Server | undefined;
  private held: ServerResponse[] = [];
  port = 0;

  async listen(): Promise<void> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const doc = JSON.parse(body) as { epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } };
        const signature = req.headers['gs1-signature'] as string | undefined;
        this.deliveries.push({
          deliveryId: String(req.headers['tracechain-delivery-id']),
          eventIds: doc.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID),
          signed: verifySignature(SECRET, body, signature),
          signedWithWrongSecret: verifySignature('not-the-receiver-secret', body, signature),
        });
        if (this.mode === 'hang') this.held.push(res);
        else res.writeHead(204).end();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Down: the port refuses connections. */
  async close(): Promise<void> {
    const s = this.server;
    if (s === undefined) return;
    this.server = undefined;
    for (const r of this.held.splice(0)) r.destroy();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }
}

function recallDocument(lot: string): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: now,
    epcisBody: {
      eventList: [
        { type: 'ObjectEvent', eventTime: now, eventTimeZoneOffset: '+00:00', action: 'OBSERVE', bizStep: 'holding', disposition: 'recalled', quantityList: [{ epcClass: `urn:epc:class:lgtin:0614141.107346.${lot}` }], readPoint: { id: 'urn:epc:id:sgln:0614141.00777.0' } },
      ],
    },
  });
}

async function capture(node: NodeProc, doc: string): Promise<string> {
  // A loaded machine can make the node shed a request (503 + Retry-After): asked again, as a client would.
  const res = await fetchSettled(`${node.api}/capture`, { init: { method: 'POST', headers: { authorization: `Bearer ${await node.token()}`, 'content-type': 'application/ld+json' }, body: doc } });
  expect(res.status, await res.clone().text()).toBe(202);
  const body = (await res.json()) as { eventIds: string[] };
  return body.eventIds[0] as string;
}

async function call(node: NodeProc, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetchSettled(`${node.api}${path}`, {
    init: {
      method,
      headers: { authorization: `Bearer ${await node.token()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    },
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** The distinct event IDs in delivery order, and each one's delivery IDs. */
function sequence(deliveries: Delivery[]): { events: string[]; ids: Map<string, Set<string>>; copies: Map<string, number> } {
  const events: string[] = [];
  const ids = new Map<string, Set<string>>();
  const copies = new Map<string, number>();
  for (const d of deliveries) {
    for (const e of d.eventIds) {
      if (!ids.has(e)) {
        events.push(e);
        ids.set(e, new Set());
      }
      ids.get(e)?.add(d.deliveryId);
      copies.set(e, (copies.get(e) ?? 0) + 1);
    }
  }
  return { events, ids, copies };
}

describe('subscriptions on a real node', () => {
  it('recalls reach a webhook once each, signed, in order, after their confirmations, across a receiver outage and a SIGKILL; a WebSocket sees the same', async () => {
    const dir = await tempDir('tracechain-notify-');
    dirs.push(dir);
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ dev: { blockIntervalMs: 200 }, notify: { retryBaseMs: 200, retryMaxMs: 800, timeoutMs: 60_000 } }));
    const data = join(dir, 'data');
    const receiver = new Receiver();
    await receiver.listen();
    let node = await startNode(['--config', config], { dataDir: data });
    const since = new Date(Date.now() - 1_000).toISOString();

    expect((await call(node, 'POST', '/queries', { name: 'recalls', query: { EQ_disposition: ['recalled'] } })).status).toBe(201);
    const sub = await call(node, 'POST', '/queries/recalls/subscriptions', { dest: receiver.url, signatureToken: SECRET, stream: true, confirmations: 2, initialRecordTime: since });
    expect(sub.status).toBe(201);
    expect(JSON.stringify(sub.json)).not.toContain(SECRET);
    const subPath = `/queries/recalls/subscriptions/${String(sub.json.subscriptionID)}`;

    const ws = new WebSocket(`${node.api.replace(/^http/, 'ws')}/queries/recalls/events?confirmations=2&initialRecordTime=${encodeURIComponent(since)}`);
    sockets.push(ws);
    const streamed: string[] = [];
    ws.on('message', (m: Buffer) => {
      const doc = JSON.parse(m.toString('utf8')) as { epcisBody: { queryResults: { resultsBody: { eventList: { eventID: string }[] } } } };
      streamed.push(...doc.epcisBody.queryResults.resultsBody.eventList.map((e) => e.eventID));
    });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });

    // 1. A recall among commissionings: one signed delivery, once its block has 2 confirmations.
    await capture(node, commissioningDocument());
    const r1 = await capture(node, recallDocument('LOT1'));
    await capture(node, commissioningDocument());
    await waitFor('the first recall delivered', async () => sequence(receiver.deliveries).events.includes(r1), 15_000);
    const r1Block = (await call(node, 'GET', `/events/${encodeURIComponent(r1)}/proof`)).json;
    expect(Number(r1Block.confirmations)).toBeGreaterThanOrEqual(2);

    // 2. The receiver is down: the subscription retries, then gets every missed recall once, in order.
    await receiver.close();
    const r2 = await capture(node, recallDocument('LOT2'));
    const r3 = await capture(node, recallDocument('LOT3'));
    await waitFor('the subscription retrying', async () => (await call(node, 'GET', subPath)).json.status === 'retrying', 15_000);
    await receiver.listen();
    await waitFor('the missed recalls delivered', async () => sequence(receiver.deliveries).events.includes(r3), 15_000);

    // 3. SIGKILL while a delivery is held open by the receiver; restart: nothing lost, the repeat has the same ID.
    receiver.mode = 'hang';
    const r4 = await capture(node, recallDocument('LOT4'));
    await waitFor('the fourth recall in flight', async () => sequence(receiver.deliveries).events.includes(r4), 15_000);
    await waitFor('the WebSocket to see the fourth recall', async () => streamed.includes(r4), 15_000);
    await node.kill('SIGKILL');
    await receiver.close();
    receiver.mode = 'ok';
    await receiver.listen();
    node = await startNode(['--config', config], { dataDir: data });
    const r5 = await capture(node, recallDocument('LOT5'));
    await waitFor('the recall after the restart delivered', async () => sequence(receiver.deliveries).events.includes(r5), 20_000);

    const seen = sequence(receiver.deliveries);
    expect(seen.events).toEqual([r1, r2, r3, r4, r5]);
    // Exactly one delivery per recall, except the one in flight at the kill: repeated under its first ID.
    for (const e of [r1, r2, r3, r5]) expect(seen.copies.get(e), e).toBe(1);
    expect(seen.copies.get(r4)).toBe(2);
    expect(seen.ids.get(r4)?.size).toBe(1);
    for (const e of seen.events) expect(seen.ids.get(e)?.size).toBe(1);
    expect(receiver.deliveries.every((d) => d.signed)).toBe(true);
    expect(receiver.deliveries.some((d) => d.signedWithWrongSecret)).toBe(false);
    // The WebSocket saw the same sequence while the first node ran.
    expect(streamed).toEqual([r1, r2, r3, r4]);

    const view = (await call(node, 'GET', subPath)).json;
    expect(view.status).toBe('active');
    expect(view.delivered).toBe(5);
    const metrics = await (await node.get('/metrics')).text();
    expect(metrics).toMatch(/tracechain_notify_events_delivered_total [1-9]/);
    await node.kill('SIGTERM');
  }, 90_000);
});
