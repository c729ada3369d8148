/**
 * `tracechain alerts …`, `tracechain reactivate` and `tracechain verify --code` (docs/alerts.md):
 * the alert and pack routes from the command line.
 *
 *   alerts list [--owner M] [--party M] [--status S] [--gtin G --lot L] [--limit N]
 *   alerts show ID
 *   alerts status ID investigating|closed [--resolution genuine|counterfeit|process_error] --reason TEXT
 *   reactivate ID [--location L]
 *   verify ID --code CODE [--location L]
 *
 * Exit 0 when the node answered (or accepted: 202), 1 with the problem otherwise.
 */
import { ApiClient, runClientCommand, type ClientFlags } from './client.js';

interface AlertView {
  id: string;
  code: string;
  message: string;
  status: string;
  resolution: string | null;
  ownerName: string | null;
  partyNames: (string | null)[];
  itemCount: number;
  items: string[];
  gtin: string | null;
  lot: string | null;
  raisedBy: { height: number; time: number; txId: string; eventId: string | null };
  history?: { status: string; resolution: string | null; reason: string; byName?: string; by: string; height: number; refused?: string }[];
}

export interface AlertListFlags extends ClientFlags {
  owner?: string;
  party?: string;
  status?: string;
  gtin?: string;
  lot?: string;
  limit?: number;
}

function line(a: AlertView): string {
  const where = a.lot !== null ? ` lot ${a.lot}` : '';
  const state = a.resolution !== null ? `${a.status}/${a.resolution}` : a.status;
  return `${a.id}  ${a.code}  ${state}  owner ${a.ownerName ?? '-'}  block ${a.raisedBy.height}  ${a.itemCount} pack(s)${where}  — ${a.message}`;
}

export function alertsListCommand(flags: AlertListFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('alerts list', async () => {
    const client = await ApiClient.fromFlags(flags);
    const q = new URLSearchParams();
    for (const k of ['owner', 'party', 'status', 'gtin', 'lot'] as const) if (flags[k] !== undefined) q.set(k, String(flags[k]));
    if (flags.limit !== undefined) q.set('limit', String(flags.limit));
    const r = await client.get<{ alerts: AlertView[]; next: string | null }>(`/alerts${q.size > 0 ? `?${q.toString()}` : ''}`);
    if (flags.json) out.write(JSON.stringify(r) + '\n');
    else {
      if (r.alerts.length === 0) out.write('no alerts\n');
      for (const a of r.alerts) out.write(line(a) + '\n');
      if (r.next !== null) out.write(`… more alerts follow (use --json and the API's after=${r.next})\n`);
    }
    return 0;
  });
}

export function alertsShowCommand(id: string, flags: ClientFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('alerts show', async () => {
    const client = await ApiClient.fromFlags(flags);
    const a = await client.get<AlertView>(`/alerts/${encodeURIComponent(id)}`);
    if (flags.json) {
      out.write(JSON.stringify(a) + '\n');
      return 0;
    }
    const lines = [line(a), `parties: ${a.partyNames.map((p) => p ?? '-').join(', ')}`, `raised in block ${a.raisedBy.height} by tx ${a.raisedBy.txId}${a.raisedBy.eventId !== null ? ` (event ${a.raisedBy.eventId})` : ''}`];
    for (const k of a.items.slice(0, 20)) lines.push(`  pack ${k}`);
    if (a.itemCount > 20) lines.push(`  … and ${a.itemCount - 20} more`);
    for (const h of a.history ?? []) {
      lines.push(`${h.refused !== undefined ? `refused (${h.refused}): ` : ''}→ ${h.status}${h.resolution !== null ? ` (${h.resolution})` : ''} by ${h.byName ?? h.by} in block ${h.height}: ${h.reason}`);
    }
    out.write(lines.join('\n') + '\n');
    return 0;
  });
}

export interface AlertStatusFlags extends ClientFlags {
  resolution?: string;
  reason: string;
}

export function alertsStatusCommand(id: string, status: string, flags: AlertStatusFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('alerts status', async () => {
    if (status !== 'investigating' && status !== 'closed') throw new Error(`status must be investigating or closed, not ${status}`);
    if (status === 'closed' && flags.resolution === undefined) throw new Error('closing an alert needs --resolution genuine|counterfeit|process_error');
    const client = await ApiClient.fromFlags(flags);
    const body = JSON.stringify({ status, reason: flags.reason, ...(flags.resolution !== undefined ? { resolution: flags.resolution } : {}) });
    const r = await client.request<{ txId: string }>('POST', `/alerts/${encodeURIComponent(id)}/status`, { data: body, contentType: 'application/json' });
    out.write(flags.json ? JSON.stringify(r.json) + '\n' : `accepted: alert ${id} → ${status} in tx ${r.json.txId}\n`);
    return 0;
  });
}

export interface LocationFlags extends ClientFlags {
  location?: string;
}

export function reactivateCommand(id: string, flags: LocationFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('reactivate', async () => {
    const client = await ApiClient.fromFlags(flags);
    const r = await client.request<{ txId: string; item: string }>('POST', '/reactivations', { data: JSON.stringify({ id, location: flags.location ?? null }), contentType: 'application/json' });
    out.write(
      flags.json
        ? JSON.stringify(r.json) + '\n'
        : `accepted: undo of ${r.json.item} in tx ${r.json.txId}; once mined the pack is active again, or the refusal is an alert (tracechain alerts list --party …)\n`,
    );
    return 0;
  });
}

interface CodeCheckAnswer {
  id: string;
  status: string;
  codeCheck: { result: string; message: string; txId: string | null };
}

export function checkCodeCommand(id: string, code: string, flags: LocationFlags, out: NodeJS.WritableStream): Promise<number> {
  return runClientCommand('verify', async () => {
    const client = await ApiClient.fromFlags(flags);
    const q = new URLSearchParams({ id, code });
    if (flags.location !== undefined) q.set('location', flags.location);
    const v = await client.get<CodeCheckAnswer>(`/verify?${q.toString()}`);
    out.write(flags.json ? JSON.stringify(v) + '\n' : `${v.id}\nstatus: ${v.status}\ncode:   ${v.codeCheck.message}\n`);
    return 0;
  });
}
