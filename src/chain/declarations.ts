/**
 * The chain's rule for EPCIS error declarations (corrections, trace/correction.ts): a tx may
 * declare an event erroneous only if that event is recorded (on the main chain, or pending
 * when a tx is admitted to the pool; in a block: on the main chain or in the same block), and
 * only its submitter or a member with the regulator role may. Run at admission (a clear error
 * for the client) and at every block's connect (the rule every node enforces).
 */
import { TxError } from '../common/errors.js';
import type { Block } from './block.js';
import type { ChainStore, EventLocation } from './store.js';
import type { TxRules } from './tx-rules-port.js';
import type { Member, SignedTx } from './types.js';

/** One declaration of a tx: the event index in the tx and the ID of the event it declares. */
export interface DeclarationOfTx {
  index: number;
  declaredId: string;
}

/** The error declarations a tx carries (none for rules without corrections or a governance tx). */
export function declarationsOf(rules: TxRules, tx: SignedTx): DeclarationOfTx[] {
  const of = rules.declaredEventOf;
  if (of === undefined || tx.kind !== 'epcis') return [];
  const out: DeclarationOfTx[] = [];
  tx.events.forEach((event, index) => {
    const declaredId = of(event);
    if (declaredId !== undefined) out.push({ index, declaredId });
  });
  return out;
}

/**
 * Who submitted each declared event: a member key ID, or undefined when the event is not
 * recorded where the caller looks (reads batched by the caller).
 */
export type SubmitterLookup = (eventIds: readonly string[]) => Promise<(string | undefined)[]>;

/**
 * Throws TxError DECLARED_EVENT_UNKNOWN (the declared event is not recorded) or NOT_DECLARANT
 * (the submitter may not declare it) for the first declaration of `tx` that breaks the rule.
 * `ownEarlier`: events of this same tx come before their declarations (their submitter is the tx's).
 */
export async function checkDeclarations(tx: SignedTx, submitter: Member, decls: readonly DeclarationOfTx[], lookup: SubmitterLookup): Promise<void> {
  if (decls.length === 0) return;
  const own = new Map<string, number>();
  tx.eventIds.forEach((id, i) => own.set(id, i));
  const outside = decls.filter((d) => !((own.get(d.declaredId) ?? Infinity) < d.index));
  const submitters = outside.length === 0 ? [] : await lookup(outside.map((d) => d.declaredId));
  outside.forEach((d, i) => {
    const by = submitters[i];
    if (by === undefined) {
      throw new TxError('DECLARED_EVENT_UNKNOWN', `event ${d.index} declares event ${d.declaredId} erroneous, but that event is not recorded`, { eventId: d.declaredId });
    }
    if (by !== submitter.id && submitter.role !== 'regulator') {
      throw new TxError('NOT_DECLARANT', `event ${d.index} declares event ${d.declaredId} erroneous, but only its submitter ${by} or a regulator may`, { eventId: d.declaredId, submitter: by });
    }
  });
}

/** The submitters of events on the main chain (batched location reads; the block of each read once). */
export function chainSubmitters(store: Pick<ChainStore, 'getEventLocations' | 'getTxLocations'>, readBlock: (hash: string) => Promise<Block>): SubmitterLookup {
  return async (eventIds) => {
    const locs = await store.getEventLocations(eventIds);
    const txIds = [...new Set(locs.filter((l): l is EventLocation => l !== undefined).map((l) => l.txId))];
    const txLocs = txIds.length === 0 ? [] : await store.getTxLocations(txIds);
    const byTx = new Map<string, string | undefined>();
    for (const [i, t] of txLocs.entries()) {
      if (t === undefined) continue;
      const block = await readBlock(t.blockHash);
      byTx.set(txIds[i] as string, block.txs[t.index]?.submitter);
    }
    return locs.map((l) => (l === undefined ? undefined : byTx.get(l.txId)));
  };
}

/** A lookup that asks `first`, then `then` for the events `first` does not know. */
export function eitherSubmitters(first: SubmitterLookup, then: SubmitterLookup): SubmitterLookup {
  return async (eventIds) => {
    const a = await first(eventIds);
    const missing = eventIds.filter((_, i) => a[i] === undefined);
    if (missing.length === 0) return a;
    const b = await then(missing);
    let k = 0;
    return a.map((v) => v ?? b[k++]);
  };
}
