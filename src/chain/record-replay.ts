/**
 * The alert and pack records (docs/alerts.md) recomputed from the blocks, for the audit: the same
 * connect step (alert-state.ts AlertStep) run over an in-memory record source, one block after
 * another, then compared with the store: every record by key, the store's record count, and
 * every record index range (alerts by height, owner, party, status, lot, change height; items of
 * a lot). Pure: the store is read through the ChainStore interface only.
 */
import { ALERT_INDEX, alertIndexKeys, lotItemKey, lotItemsPrefix, type AlertRecord } from './alerts.js';
import { AlertStep, type AlertStepContext, type RecordSource } from './alert-state.js';
import type { AlertRules } from './tx-rules-port.js';
import type { ChainStore, RecordNs, RecordWrite, StoredItem, StoredRecord } from './store.js';

const SEP = '\u0000';
/** The index ranges compared (every key the connect step writes starts with one of these). */
const INDEX_RANGES = [ALERT_INDEX.all, ALERT_INDEX.changes, `al${SEP}`, `ao${SEP}`, `ap${SEP}`, `as${SEP}`, `il${SEP}`].sort();
const READ = 1024;

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return val;
  });
}

export class RecordReplay implements RecordSource {
  private readonly records = new Map<string, { ns: RecordNs; key: string; value: StoredRecord }>();
  /** Items of each lot (prefix → item keys): what the recall fan-out reads. */
  private readonly lotItems = new Map<string, Set<string>>();
  /** The lot prefix each item is listed under. */
  private readonly lotOfItem = new Map<string, string>();

  constructor(private readonly rules: AlertRules) {}

  async getRecords(ns: RecordNs, keys: readonly string[]): Promise<(StoredRecord | undefined)[]> {
    return keys.map((k) => this.records.get(`${ns}${SEP}${k}`)?.value);
  }

  async scanRecordIndex(prefix: string, opts: { after?: string; limit: number }): Promise<string[]> {
    if (!prefix.startsWith(`il${SEP}`)) throw new Error(`record replay: the connect step read index range ${JSON.stringify(prefix)}, which the replay does not keep`);
    const items = this.lotItems.get(prefix);
    if (items === undefined) return [];
    const keys = [...items].map((k) => `${prefix}${k}`).sort();
    const from = opts.after === undefined ? 0 : keys.findIndex((k) => k > (opts.after as string));
    return from < 0 ? [] : keys.slice(from, from + opts.limit);
  }

  /** The step for one block (the registry and time at its height). */
  step(ctx: AlertStepContext): AlertStep {
    return new AlertStep(ctx, { rules: this.rules, source: this });
  }

  /** Apply the block's record writes and the lot index of the items it wrote (as the store's connect batch does). */
  endBlock(writes: readonly RecordWrite[], items: readonly StoredItem[]): void {
    for (const w of writes) {
      const slot = `${w.ns}${SEP}${w.key}`;
      if (w.value === null) this.records.delete(slot);
      else this.records.set(slot, { ns: w.ns, key: w.key, value: w.value });
    }
    for (const item of items) {
      const lot = this.rules.lotOf(item);
      const prefix = lot === null ? undefined : lotItemsPrefix(lot.gtin, lot.lot);
      const old = this.lotOfItem.get(item.key);
      if (old === prefix) continue;
      if (old !== undefined) this.lotItems.get(old)?.delete(item.key);
      if (prefix === undefined) {
        this.lotOfItem.delete(item.key);
        continue;
      }
      this.lotOfItem.set(item.key, prefix);
      let set = this.lotItems.get(prefix);
      if (set === undefined) this.lotItems.set(prefix, (set = new Set()));
      set.add(item.key);
    }
  }

  get size(): number {
    return this.records.size;
  }

  /** The index keys the replayed records and lots make, sorted. */
  private indexKeys(): string[] {
    const out: string[] = [];
    for (const r of this.records.values()) if (r.ns === 'alert') out.push(...alertIndexKeys(r.value as AlertRecord));
    for (const [prefix, items] of this.lotItems) {
      const [, gtin, lot] = prefix.split(SEP) as [string, string, string];
      for (const k of items) out.push(lotItemKey(gtin, lot, k));
    }
    return out.sort();
  }

  /**
   * Compare with the store: the first difference, naming the record's namespace and key (or the
   * index key), or undefined when the store holds exactly what the blocks make.
   */
  async compare(store: ChainStore): Promise<string | undefined> {
    const all = [...this.records.values()];
    for (const ns of ['alert', 'pack'] as const) {
      const mine = all.filter((r) => r.ns === ns);
      for (let i = 0; i < mine.length; i += READ) {
        const chunk = mine.slice(i, i + READ);
        const stored = await store.getRecords(ns, chunk.map((r) => r.key));
        for (const [j, r] of chunk.entries()) {
          const s = stored[j];
          if (s === undefined) return `${ns} record ${r.key} is missing from the store (a replay of the chain makes it)`;
          if (canonicalJson(s) !== canonicalJson(r.value)) return `${ns} record ${r.key} differs from a replay of the chain`;
        }
      }
    }
    const count = await store.countRecords();
    if (count !== this.records.size) return `the store holds ${count} alert and pack records, a replay of the chain makes ${this.records.size}`;
    const want = this.indexKeys();
    let w = 0;
    for (const range of INDEX_RANGES) {
      let after: string | undefined;
      for (;;) {
        const page = await store.scanRecordIndex(range, after === undefined ? { limit: READ } : { after, limit: READ });
        for (const k of page) {
          const expected = want[w];
          if (expected !== k) {
            // Both lists are sorted: the smaller one is the key the other lacks.
            if (expected !== undefined && expected.startsWith(range) && expected < k) return `record index key ${JSON.stringify(expected)} is missing from the store (a replay of the chain makes it)`;
            return `record index key ${JSON.stringify(k)} in the store is not made by a replay of the chain`;
          }
          w++;
        }
        if (page.length < READ) break;
        after = page[page.length - 1];
      }
      const expected = want[w];
      if (expected !== undefined && expected.startsWith(range)) return `record index key ${JSON.stringify(expected)} is missing from the store (a replay of the chain makes it)`;
    }
    if (w < want.length) return `record index key ${JSON.stringify(want[w])} is missing from the store (a replay of the chain makes it)`;
    return undefined;
  }
}
