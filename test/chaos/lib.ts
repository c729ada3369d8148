/**
 * Shared helpers of the reliability suite (test/integration/reliability*.test.ts) and the chaos
 * soak (test/chaos): unique EPCIS documents, captures that record what was acknowledged, and
 * the "nothing lost" check against a node's API.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchSettled } from '../helpers/retry.js';

export const FAST = ['--block-interval', '200', '--workers', '1', '--log-level', 'info'];

let seq = 0;
/** An EPCIS 2.0 document commissioning `n` fresh packs (unique serials, so unique event IDs). */
export function commissionDoc(tag: string, n = 1): Record<string, unknown> {
  const events = Array.from({ length: n }, () => {
    const serial = `${tag}${process.pid}x${++seq}`;
    return {
      type: 'ObjectEvent',
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      epcList: [`urn:epc:id:sgtin:0614141.107346.${serial}`],
      eventTime: new Date(Date.UTC(2024, 0, 1) + seq * 1000).toISOString(),
      eventTimeZoneOffset: '+00:00',
      readPoint: { id: 'urn:epc:id:sgln:0614141.07346.1234' },
    };
  });
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2024-01-01T00:00:00Z',
    epcisBody: { eventList: events },
  };
}

export async function tokenOf(dataDir: string): Promise<string> {
  return (await readFile(join(dataDir, 'api-token'), 'utf8')).trim();
}

export interface CaptureResult {
  status: number;
  body: { txId?: string; eventIds?: string[]; code?: string; detail?: string } | undefined;
}

export async function capture(api: string, token: string, doc: unknown, timeoutMs = 5_000): Promise<CaptureResult> {
  const res = await fetch(api + '/capture', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(doc),
    signal: AbortSignal.timeout(timeoutMs),
  });
  let body: CaptureResult['body'];
  try {
    body = (await res.json()) as CaptureResult['body'];
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/**
 * capture(), asking again while the node sheds the request (429, 503 with Retry-After: nothing
 * was stored, and capture is idempotent). For tests that need the capture accepted, not the
 * refusal itself (those use capture()).
 */
export async function captureSettled(api: string, token: string, doc: unknown): Promise<CaptureResult> {
  const res = await fetchSettled(api + '/capture', {
    requestTimeoutMs: 15_000,
    init: { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(doc) },
  });
  let body: CaptureResult['body'];
  try {
    body = (await res.json()) as CaptureResult['body'];
  } catch {
    body = undefined; // not JSON: the status is reported, the body is not needed
  }
  return { status: res.status, body };
}

export interface EventView {
  status: number;
  block: { hash: string; height: number } | null;
  /** Answers the node asked us to retry (429, 503 with Retry-After) before this one. */
  retries: number;
  /** The tx holding the event (200 only). */
  txId?: string;
}

/**
 * A node that is busy (right after a restart on a loaded machine) may shed a read with 503 and
 * Retry-After, or 429: those say nothing about the data, so the read is asked again
 * (test/helpers/retry.ts). Any other answer, a 500 `STORE_DAMAGED` included, is the answer.
 */
export async function eventOf(api: string, eventId: string): Promise<EventView> {
  let retries = 0;
  const res = await fetchSettled(`${api}/events/${encodeURIComponent(eventId)}/proof`, { onRetry: () => retries++ });
  if (res.status !== 200) {
    await res.arrayBuffer();
    return { status: res.status, block: null, retries };
  }
  const body = (await res.json()) as { block: { hash: string; height: number } | null; txId?: string };
  return { status: 200, block: body.block, retries, ...(typeof body.txId === 'string' ? { txId: body.txId } : {}) };
}

/** How many times an EPC's trace lists this event (1 when recorded once; 0 while pending or unknown); throws on any other answer. */
export async function timesInTrace(api: string, epc: string, eventId: string): Promise<number> {
  const res = await fetchSettled(`${api}/trace/${encodeURIComponent(epc)}`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return 0;
  }
  if (res.status !== 200) throw new Error(`GET ${api}/trace/${epc} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const trace = (await res.json()) as { events?: { eventId: string }[] };
  return (trace.events ?? []).filter((e) => e.eventId === eventId).length;
}

/** The node's tip; throws (naming the answer) unless it is a 200 with a numeric height. */
export async function tipOf(api: string): Promise<{ hash: string; height: number }> {
  const res = await fetchSettled(api + '/blocks/tip');
  const text = await res.text();
  let tip: { hash?: unknown; height?: unknown } | undefined;
  try {
    tip = JSON.parse(text) as typeof tip;
  } catch {
    tip = undefined;
  }
  if (res.status !== 200 || typeof tip?.height !== 'number' || typeof tip.hash !== 'string') {
    throw new Error(`GET ${api}/blocks/tip answered ${res.status}: ${text.slice(0, 300)}`);
  }
  return { hash: tip.hash, height: tip.height };
}

export async function blockAt(api: string, height: number): Promise<{ status: number; hash?: string }> {
  const res = await fetchSettled(`${api}/blocks/${height}`);
  if (res.status !== 200) {
    await res.arrayBuffer();
    return { status: res.status };
  }
  return { status: 200, hash: ((await res.json()) as { hash: string }).hash };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Deterministic PRNG (mulberry32) so a failing run can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
