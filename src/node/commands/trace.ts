/**
 * `tracechain trace ID` and `tracechain verify ID`: where an item has been (timeline of its
 * events, in chain order) and whether it is genuine and usable (status, manufacturer, lot,
 * expiry, custodian, alerts). ID is an EPC URN or a GS1 Digital Link. --json prints the answer.
 */
import { ApiClient, runClientCommand, type ClientFlags } from './client.js';

interface Alert {
  code: string;
  message: string;
  eventId: string;
  time: number;
}

interface TraceEvent {
  eventId: string;
  event: Record<string, unknown>;
  txId: string;
  block: { hash: string; height: number } | null;
  confirmations: number;
  /** Absent for events naming the item: the container key, `class`, `input` or `output`. */
  via?: string;
  path?: string[];
}

interface TraceAnswer {
  epc: string;
  key?: string;
  status: string;
  alerts: Alert[];
  events: TraceEvent[];
  linksTruncated?: boolean;
  nextPageToken?: string;
}

interface VerifyAnswer {
  id: string;
  key?: string;
  status: string;
  manufacturer: string | null;
  lot: string | null;
  expiry: string | null;
  custodian: string | null;
  alerts: Alert[];
}

function word(v: unknown): string {
  if (typeof v !== 'string') return '';
  const m = /(?:[:/-])([A-Za-z_]+)$/.exec(v);
  return m ? (m[1] as string) : v;
}

function place(v: unknown): string {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : '';
}

/** A canonical key for people: "SSCC 006141410000000012", "GTIN 10614141073464 lot L1", … (else as is). */
export function describeKey(key: string): string {
  const m = /^https:\/\/id\.gs1\.org\/(00|01)\/(\d+)(?:\/(10|21)\/([^/]+))?$/.exec(key);
  if (!m) return key;
  if (m[1] === '00') return `SSCC ${m[2] as string}`;
  const rest = m[3] === undefined ? '' : ` ${m[3] === '10' ? 'lot' : 'serial'} ${decodeURIComponent(m[4] as string)}`;
  return `GTIN ${m[2] as string}${rest}`;
}

/** How a journey step belongs to the item, for people ('' for events naming it). */
export function describeVia(e: Pick<TraceEvent, 'via' | 'path'>): string {
  if (e.via === undefined) return '';
  const path = e.path ?? [];
  if (e.via === 'class') return `via ${describeKey(path[0] ?? '')} (class event)`;
  if (e.via === 'input' || e.via === 'output') {
    const what = `via ${e.via} ${describeKey(path[0] ?? '')}`;
    return path.length > 1 ? `${what}, in ${path.slice(1).map(describeKey).join(' in ')}` : what;
  }
  return path.length > 1 ? `via ${describeKey(e.via)} (in ${path.slice(0, -1).map(describeKey).join(' in ')} on it)` : `via ${describeKey(e.via)}`;
}

export function formatTrace(t: TraceAnswer): string {
  const lines = [`${t.epc}${t.key !== undefined && t.key !== t.epc ? `  (${t.key})` : ''}`, `status: ${t.status}`];
  for (const a of t.alerts) lines.push(`alert: ${a.code} — ${a.message} (${new Date(a.time).toISOString()})`);
  if (t.events.length === 0) lines.push('no events on the chain');
  for (const e of t.events) {
    const ev = e.event;
    const what = [word(ev['bizStep']) || String(ev['type'] ?? ''), ev['action'] !== undefined ? String(ev['action']) : '', word(ev['disposition'])].filter((s) => s !== '').join(' ');
    const where = place(ev['bizLocation']) || place(ev['readPoint']);
    const when = typeof ev['eventTime'] === 'string' ? ev['eventTime'] : '?';
    const block = e.block ? `block ${e.block.height}, ${e.confirmations} conf.` : 'pending';
    const via = describeVia(e);
    lines.push(`${when}  ${what}${where ? ` at ${where}` : ''}  [${block}]${via ? `  ${via}` : ''}`);
  }
  if (t.linksTruncated) lines.push('(the item took part in more transformations than a trace follows: not every linked item is shown)');
  if (t.nextPageToken !== undefined) lines.push('… more events follow (use --json and nextPageToken)');
  return lines.join('\n');
}

export function formatVerify(v: VerifyAnswer): string {
  const lines = [
    `${v.id}${v.key !== undefined && v.key !== v.id ? `  (${v.key})` : ''}`,
    `status:       ${v.status}`,
    `manufacturer: ${v.manufacturer ?? '-'}`,
    `lot:          ${v.lot ?? '-'}`,
    `expiry:       ${v.expiry ?? '-'}`,
    `custodian:    ${v.custodian ?? '-'}`,
  ];
  for (const a of v.alerts) lines.push(`alert: ${a.code} — ${a.message}`);
  return lines.join('\n');
}

export function traceCommand(id: string, flags: ClientFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('trace', async () => {
    const client = await ApiClient.fromFlags(flags);
    const t = await client.get<TraceAnswer>(`/trace/${encodeURIComponent(id)}`);
    out.write((flags.json ? JSON.stringify(t) : formatTrace(t)) + '\n');
    return 0;
  });
}

export function verifyCommand(id: string, flags: ClientFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('verify', async () => {
    const client = await ApiClient.fromFlags(flags);
    const v = await client.get<VerifyAnswer>(`/verify?id=${encodeURIComponent(id)}`);
    out.write((flags.json ? JSON.stringify(v) : formatVerify(v)) + '\n');
    return 0;
  });
}
