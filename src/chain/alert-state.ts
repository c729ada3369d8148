/**
 * Alert state as chain state: the step of a block's connect that turns what the block did into
 * alert and pack records (docs/alerts.md). For every event it raises an alert per business
 * conflict the status machine recorded and one per holder of unsold packs a recall touches, and
 * notes how packs left the chain, theft, and scratch-off code commitments; for every `alert` tx it
 * applies (or, in a race, notes as refused) a lifecycle change; for every `pack` tx it undoes a
 * dispense or raises the refusal's alert, and records scratch-off code checks.
 *
 * The step works over an overlay of its own writes (so later txs of the block see earlier ones)
 * and returns the writes, the values before the block (undo data, as item state has) and the
 * index keys to change; a disconnect restores the values and reverses the index keys
 * (`disconnectIndexOps`). Everything here is derived from the block and the state before it, so
 * every node holds the same records, with the same IDs, after the same block.
 */
import { TxError } from '../common/errors.js';
import { fromHex, toHex } from '../common/bytes.js';
import { sha256 } from './sha256.js';
import {
  MAX_ALERT_ITEMS,
  MAX_PACK_CHECKS,
  alertId,
  alertIndexKeys,
  applyAlertChange,
  checkAlertTransition,
  emptyPack,
  itemOfLotKey,
  lotItemKey,
  lotItemsPrefix,
  noteRefusedChange,
  ownerOfGtin,
  type AlertRecord,
  type AlertSource,
  type PackRecord,
} from './alerts.js';
import { groupRecallHolders, type RecallCandidate } from './recall-fanout.js';
import { reactivationVerdict } from './reactivation.js';
import type { MemberRegistry } from './registry.js';
import type { AlertRules, ItemFacts, ItemReader } from './tx-rules-port.js';
import type { LotKey, RecordIndexOps, RecordNs, RecordWrite, StoredItem, StoredRecord, UndoRecord } from './store.js';
import type { Member, PackAction, SignedTx } from './types.js';

/** The reads the step needs of the store. */
export interface RecordSource {
  getRecords(ns: RecordNs, keys: readonly string[]): Promise<(StoredRecord | undefined)[]>;
  scanRecordIndex(prefix: string, opts: { after?: string; limit: number }): Promise<string[]>;
}

export interface AlertStepContext {
  height: number;
  /** Block time (ms). */
  time: number;
  blockHash: string;
  /** The registry at the block's height (owners by GS1 prefix, signers). */
  registry: MemberRegistry;
}

export interface AlertStepResult {
  records: RecordWrite[];
  undo: NonNullable<UndoRecord['records']>;
  index: RecordIndexOps;
}

const SCAN_PAGE = 5_000;

function slot(ns: RecordNs, key: string): string {
  return `${ns}\u0000${key}`;
}

/** Every key of a lot in the lot index (paged range reads). */
async function lotKeys(source: RecordSource, lot: LotKey): Promise<string[]> {
  const prefix = lotItemsPrefix(lot.gtin, lot.lot);
  const out: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await source.scanRecordIndex(prefix, after === undefined ? { limit: SCAN_PAGE } : { after, limit: SCAN_PAGE });
    for (const k of page) out.push(itemOfLotKey(prefix, k));
    if (page.length < SCAN_PAGE) return out;
    after = page[page.length - 1];
  }
}

function lotIndexKeys(rules: AlertRules, item: StoredItem | null | undefined): string[] {
  if (!item) return [];
  const l = rules.lotOf(item);
  return l !== null ? [lotItemKey(l.gtin, l.lot, item.key)] : [];
}

function diffInto(ops: RecordIndexOps, before: readonly string[], after: readonly string[]): void {
  const a = new Set(after);
  const b = new Set(before);
  for (const k of b) if (!a.has(k)) ops.del.push(k);
  for (const k of a) if (!b.has(k)) ops.put.push(k);
}

function recordIndexKeys(ns: RecordNs, v: StoredRecord | null | undefined): string[] {
  return ns === 'alert' && v ? alertIndexKeys(v as AlertRecord) : [];
}

export class AlertStep {
  private readonly overlay = new Map<string, { ns: RecordNs; key: string; value: StoredRecord | null }>();
  private readonly before = new Map<string, StoredRecord | null>();
  /** Item keys of each lot that this block's events gave a lot (the lot index has them only after the block). */
  private readonly lotAdds = new Map<string, Set<string>>();

  constructor(
    private readonly ctx: AlertStepContext,
    private readonly modules: { rules: AlertRules; source: RecordSource },
  ) {}

  private async get(ns: RecordNs, key: string): Promise<StoredRecord | null> {
    const s = slot(ns, key);
    const mine = this.overlay.get(s);
    if (mine) return mine.value;
    if (this.before.has(s)) return this.before.get(s) ?? null;
    const [v] = await this.modules.source.getRecords(ns, [key]);
    this.before.set(s, v ?? null);
    return v ?? null;
  }

  /** Read these records ahead in one batch (a dispense of thousands of packs writes a pack record each). */
  private async warm(ns: RecordNs, keys: readonly string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((k) => !this.overlay.has(slot(ns, k)) && !this.before.has(slot(ns, k)));
    for (let i = 0; i < missing.length; i += SCAN_PAGE) {
      const page = missing.slice(i, i + SCAN_PAGE);
      const got = await this.modules.source.getRecords(ns, page);
      page.forEach((k, j) => this.before.set(slot(ns, k), got[j] ?? null));
    }
  }

  private async put(ns: RecordNs, key: string, value: StoredRecord): Promise<void> {
    const s = slot(ns, key);
    if (!this.overlay.has(s) && !this.before.has(s)) await this.get(ns, key);
    this.overlay.set(s, { ns, key, value });
  }

  private async pack(key: string): Promise<PackRecord> {
    const v = (await this.get('pack', key)) as PackRecord | null;
    return v ? { ...v, checks: [...v.checks], reactivations: [...v.reactivations] } : emptyPack(key);
  }

  private owner(f: { gtin: string | null; manufacturer: string | null }): string | null {
    return ownerOfGtin(f.gtin, this.ctx.registry.all) ?? f.manufacturer;
  }

  private async raise(a: {
    source: AlertSource;
    ref: string;
    txId: string;
    code: string;
    subject: string;
    message: string;
    owner: string | null;
    parties: (string | null)[];
    items: string[];
    gtin: string | null;
    lot: string | null;
  }): Promise<void> {
    const id = alertId(a.source, a.ref, a.code, a.subject);
    // An ID is raised once (the same event or tx cannot come twice).
    if ((await this.get('alert', id)) !== null) return;
    const items = [...new Set(a.items)].sort();
    const rec: AlertRecord = {
      id,
      code: a.code,
      message: a.message,
      owner: a.owner,
      parties: [...new Set(a.parties.filter((p): p is string => p !== null))].sort(),
      items: items.slice(0, MAX_ALERT_ITEMS),
      itemCount: items.length,
      gtin: a.gtin,
      lot: a.lot,
      raisedBy: { source: a.source, eventId: a.source === 'event' ? a.ref : null, txId: a.txId, blockHash: this.ctx.blockHash, height: this.ctx.height, time: this.ctx.time },
      status: 'new',
      resolution: null,
      history: [],
    };
    await this.put('alert', id, rec);
  }

  /** After one event went through the status machine: `items` are its writes, `prior` the state before it. */
  async onEvent(input: {
    event: Record<string, unknown>;
    eventId: string;
    txId: string;
    submitter: Member;
    items: readonly StoredItem[];
    prior: ReadonlyMap<string, StoredItem | null>;
    recalledLots: readonly LotKey[];
    reader: ItemReader;
  }): Promise<void> {
    const { rules } = this.modules;
    const { eventId, txId, submitter } = input;
    const ev = rules.eventFacts(input.event);
    const recalled: RecallCandidate[] = [];
    const codeFor = new Map(ev.codes.map((c) => [c.key, c]));
    // Events that may write pack records (a dispense, a decommission, a recall, commitments, theft): their packs' records in one read.
    if (ev.leaves !== null || ev.recalls || ev.codes.length > 0 || ev.stolen.length > 0) {
      await this.warm('pack', [...input.items.map((i) => i.key), ...ev.stolen]);
    }
    for (const item of input.items) {
      const f = rules.itemFacts(item);
      const priorItem = input.prior.get(item.key) ?? null;
      const pf = priorItem ? rules.itemFacts(priorItem) : null;
      for (const c of f.conflictsBy(eventId)) {
        await this.raise({
          source: 'event',
          ref: eventId,
          txId,
          code: c.code,
          subject: item.key,
          message: c.message,
          owner: this.owner(f),
          parties: [submitter.id, pf?.custodian ?? null, f.custodian],
          items: [item.key],
          gtin: f.gtin,
          lot: f.lot,
        });
      }
      const touched = f.recalledBy(eventId);
      if (touched) recalled.push({ key: item.key, holder: f.custodian, unsold: f.unsold, owner: this.owner(f) });
      const left = ev.leaves !== null && f.lifecycle === ev.leaves && pf !== null && pf.lifecycle !== f.lifecycle;
      const code = codeFor.get(item.key);
      if (touched || left || code !== undefined) {
        const p = await this.pack(item.key);
        if (touched) p.recalled = true;
        if (left && ev.leaves !== null) {
          p.left = { lifecycle: ev.leaves, before: pf?.lifecycle ?? 'active', by: submitter.id, time: this.ctx.time, height: this.ctx.height, location: ev.location, eventId };
        }
        if (code !== undefined && p.code === null) p.code = { salt: code.salt, commit: code.commit, eventId };
        await this.put('pack', item.key, p);
      }
      if (f.gtin !== null && f.lot !== null) {
        const lk = `${f.gtin}\u0000${f.lot}`;
        let s = this.lotAdds.get(lk);
        if (!s) this.lotAdds.set(lk, (s = new Set()));
        s.add(item.key);
      }
    }
    // Theft: the pack's fact (an undo is refused from now on) and one alert per owner naming the packs newly reported stolen.
    const stolenBy = new Map<string, { owner: string | null; keys: string[]; custodians: (string | null)[]; gtin: string | null; lot: string | null }>();
    for (const key of ev.stolen) {
      const p = await this.pack(key);
      if (p.stolen) continue;
      p.stolen = true;
      await this.put('pack', key, p);
      const item = await input.reader.getItem(key);
      const f = item ? rules.itemFacts(item) : null;
      const owner = f ? this.owner(f) : null;
      const g = stolenBy.get(owner ?? '') ?? { owner, keys: [], custodians: [], gtin: f?.gtin ?? null, lot: f?.lot ?? null };
      g.keys.push(key);
      g.custodians.push(f?.custodian ?? null);
      if (g.gtin !== (f?.gtin ?? null) || g.lot !== (f?.lot ?? null)) g.gtin = g.lot = null;
      stolenBy.set(owner ?? '', g);
    }
    for (const [subject, g] of [...stolenBy].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      await this.raise({
        source: 'event',
        ref: eventId,
        txId,
        code: 'REPORTED_STOLEN',
        subject,
        message: `${g.keys.length} pack(s) reported stolen by ${submitter.name}`,
        owner: g.owner,
        parties: [submitter.id, ...g.custodians],
        items: g.keys,
        gtin: g.gtin,
        lot: g.lot,
      });
    }
    // A recall of a lot reaches every unsold pack of it, wherever it is (custodian at this point).
    for (const lot of input.recalledLots) {
      const keys = new Set(await lotKeys(this.modules.source, lot));
      for (const k of this.lotAdds.get(`${lot.gtin}\u0000${lot.lot}`) ?? []) keys.add(k);
      const list = [...keys];
      for (let i = 0; i < list.length; i += SCAN_PAGE) await input.reader.prefetch?.(list.slice(i, i + SCAN_PAGE));
      for (const k of list) {
        const item = await input.reader.getItem(k);
        if (!item) continue;
        const f = rules.itemFacts(item);
        if (f.gtin !== lot.gtin || f.lot !== lot.lot) continue;
        recalled.push({ key: k, holder: f.custodian, unsold: f.unsold, owner: this.owner(f) });
      }
    }
    const lots = input.recalledLots;
    for (const g of groupRecallHolders(recalled)) {
      const single = lots.length === 1 ? (lots[0] as LotKey) : null;
      const holderName = this.ctx.registry.get(g.holder)?.name ?? g.holder;
      await this.raise({
        source: 'event',
        ref: eventId,
        txId,
        code: 'RECALL',
        subject: `${g.holder}\u0000${g.owner ?? ''}`,
        message: `recalled by ${submitter.name}: ${g.keys.length} unsold pack(s) held by ${holderName}${single ? ` (lot ${single.lot} of ${single.gtin})` : ''}`,
        owner: g.owner,
        parties: [g.holder, submitter.id],
        items: g.keys,
        gtin: single?.gtin ?? null,
        lot: single?.lot ?? null,
      });
    }
  }

  /** An `alert` tx: the change applied, or (the rule refuses it: a race the mempool could not see) noted as refused. */
  async onAlertTx(tx: SignedTx, txId: string): Promise<void> {
    const action = tx.alert;
    if (action === undefined) return;
    const member = this.ctx.registry.get(tx.submitter);
    if (!member) return;
    const rec = (await this.get('alert', action.alert)) as AlertRecord | null;
    const ctx = { by: member.id, txId, height: this.ctx.height, time: this.ctx.time };
    try {
      checkAlertTransition(rec ?? undefined, action, member);
    } catch (err) {
      if (!(err instanceof TxError)) throw err;
      if (rec) await this.put('alert', rec.id, noteRefusedChange(rec, action, err.code, ctx));
      return;
    }
    await this.put('alert', action.alert, applyAlertChange(rec as AlertRecord, action, ctx));
  }

  /** A `pack` tx; returns the item records it changes (an undone dispense). */
  async onPackTx(tx: SignedTx, txId: string, reader: ItemReader): Promise<StoredItem[]> {
    const action = tx.pack;
    const member = this.ctx.registry.get(tx.submitter);
    if (action === undefined || !member) return [];
    const item = await reader.getItem(action.item);
    const f = item ? this.modules.rules.itemFacts(item) : null;
    const base = { source: 'tx' as const, ref: txId, txId, subject: action.item, owner: f ? this.owner(f) : null, items: [action.item], gtin: f?.gtin ?? null, lot: f?.lot ?? null };
    switch (action.op) {
      case 'reactivate':
        return this.reactivate(action, item, f, member, txId, reader, base);
      case 'code-check':
        await this.codeCheck(action, member, txId, base);
        return [];
      case 'code-guess':
        await this.raise({ ...base, code: 'SCRATCH_CODE_GUESSING', message: `${action.failures} wrong scratch-off codes entered for this pack at ${action.location ?? member.name}; further tries are rate limited`, parties: [member.id] });
        return [];
    }
  }

  private async reactivate(
    action: Extract<PackAction, { op: 'reactivate' }>,
    item: StoredItem | undefined,
    f: ItemFacts | null,
    member: Member,
    txId: string,
    reader: ItemReader,
    base: Omit<Parameters<AlertStep['raise']>[0], 'code' | 'message' | 'parties'>,
  ): Promise<StoredItem[]> {
    const { rules } = this.modules;
    const p = await this.pack(action.item);
    const lotRecalled = f !== null && f.gtin !== null && f.lot !== null && (await reader.isLotRecalled({ gtin: f.gtin, lot: f.lot }));
    const verdict = reactivationVerdict({
      lifecycle: f?.lifecycle ?? 'unknown',
      left: p.left,
      stolen: p.stolen,
      recalled: p.recalled || lotRecalled || (f?.everRecalled ?? false),
      expired: f !== null && f.expiry !== null && rules.expiredAt(f.expiry, this.ctx.time),
      by: member.id,
      time: this.ctx.time,
      location: action.location,
    });
    if (!verdict.ok || item === undefined || p.left === null) {
      const code = verdict.ok ? 'REACTIVATE_NOT_INACTIVE' : verdict.code;
      const message = verdict.ok ? 'undo refused: the pack is unknown' : verdict.message;
      await this.raise({ ...base, code, message: `${message} (asked by ${member.name})`, parties: [member.id, p.left?.by ?? null, f?.custodian ?? null] });
      return [];
    }
    const back = rules.reactivated(item, p.left.before);
    p.reactivations = [...p.reactivations, { txId, height: this.ctx.height, time: this.ctx.time, by: member.id }].slice(-MAX_PACK_CHECKS);
    p.left = null;
    await this.put('pack', action.item, p);
    return [back];
  }

  private async codeCheck(action: Extract<PackAction, { op: 'code-check' }>, member: Member, txId: string, base: Omit<Parameters<AlertStep['raise']>[0], 'code' | 'message' | 'parties'>): Promise<void> {
    const p = await this.pack(action.item);
    if (p.code === null || toHex(sha256(fromHex(action.proof, 32))) !== p.code.commit) {
      await this.raise({ ...base, code: 'SCRATCH_CODE_INVALID_PROOF', message: `a scratch-off code check for this pack by ${member.name} does not match ${p.code === null ? 'any commitment (none was made)' : 'its commitment'}`, parties: [member.id] });
      return;
    }
    const first = p.checks[0];
    const check = { txId, height: this.ctx.height, time: this.ctx.time, member: member.id, location: action.location };
    p.checks = p.checks.length < MAX_PACK_CHECKS ? [...p.checks, check] : [...p.checks.slice(0, 1), ...p.checks.slice(2), check];
    await this.put('pack', action.item, p);
    if (first !== undefined) {
      const firstName = this.ctx.registry.get(first.member)?.name ?? first.member;
      await this.raise({
        ...base,
        code: 'SCRATCH_CODE_REUSED',
        message: `scratch-off code checked again at ${action.location ?? member.name}; it was first checked on ${new Date(first.time).toISOString()} at ${first.location ?? firstName} (a copied code: a possible counterfeit)`,
        parties: [first.member, member.id],
      });
    }
  }

  /**
   * The block's record writes, their undo data and the index changes: the alerts' index keys, and
   * the lot index from the items' state before the block (`itemUndo`) and after it (`itemsAfter`).
   */
  finish(itemUndo: UndoRecord['items'], itemsAfter: readonly StoredItem[]): AlertStepResult {
    const { rules } = this.modules;
    const records: RecordWrite[] = [];
    const undo: AlertStepResult['undo'] = [];
    const index: RecordIndexOps = { del: [], put: [] };
    for (const [s, w] of this.overlay) {
      const prev = this.before.get(s) ?? null;
      records.push({ ns: w.ns, key: w.key, value: w.value });
      undo.push({ ns: w.ns, key: w.key, prev });
      diffInto(index, recordIndexKeys(w.ns, prev), recordIndexKeys(w.ns, w.value));
    }
    const after = new Map(itemsAfter.map((i) => [i.key, i]));
    for (const u of itemUndo) diffInto(index, lotIndexKeys(rules, u.prev), lotIndexKeys(rules, after.get(u.key)));
    return { records, undo, index };
  }
}

/**
 * The index changes that undo a block: keys of the values the block wrote (read from the store
 * now) out, keys of the values before it in.
 */
export async function disconnectIndexOps(
  rules: AlertRules,
  source: RecordSource & { getItems(keys: readonly string[]): Promise<(StoredItem | undefined)[]> },
  undo: UndoRecord,
): Promise<RecordIndexOps> {
  const index: RecordIndexOps = { del: [], put: [] };
  const records = undo.records ?? [];
  for (const ns of ['alert', 'pack'] as const) {
    const mine = records.filter((r) => r.ns === ns);
    if (mine.length === 0) continue;
    const now = await source.getRecords(ns, mine.map((r) => r.key));
    mine.forEach((r, i) => diffInto(index, recordIndexKeys(ns, now[i]), recordIndexKeys(ns, r.prev)));
  }
  if (undo.items.length > 0) {
    // One entry per key carries the state before the block (connect writes the first prev of each key).
    const firstPrev = new Map<string, StoredItem | null>();
    for (const u of undo.items) if (!firstPrev.has(u.key)) firstPrev.set(u.key, u.prev);
    const keys = [...firstPrev.keys()];
    const now = await source.getItems(keys);
    keys.forEach((k, i) => diffInto(index, lotIndexKeys(rules, now[i]), lotIndexKeys(rules, firstPrev.get(k))));
  }
  return index;
}

/** Mempool admission of an `alert` tx: the lifecycle rule against the alert at the tip. Throws TxError. */
export async function checkAlertTx(source: RecordSource, registry: MemberRegistry, tx: SignedTx): Promise<void> {
  if (tx.alert === undefined) return;
  const member = registry.get(tx.submitter);
  if (!member) throw new TxError('UNKNOWN_SUBMITTER', `submitter ${tx.submitter} is not a member of this consortium`);
  const [rec] = await source.getRecords('alert', [tx.alert.alert]);
  checkAlertTransition(rec as AlertRecord | undefined, tx.alert, member);
}
