/**
 * What the chain needs from trace/ (EPCIS rules), injected so chain stays testable and the
 * rule set lives in one place. `node/` wires the real implementation from trace/.
 */
import type { LinkKind, LotKey, StoredItem } from './store.js';
import type { Member, SignedTx } from './types.js';

export interface ItemReader {
  getItem(key: string): Promise<StoredItem | undefined>;
  isLotRecalled(lot: LotKey): Promise<boolean>;
}

export interface EventEffects {
  items: StoredItem[];
  recalledLots: LotKey[];
}

export interface TxRules {
  /**
   * Stateless checks of a tx's events for its submitter: each event ID recomputed from the
   * event, each event allowed by the member's role and prefixes (skipped when member is null:
   * checkRoles runs them later). Throws TxError.
   */
  checkEvents(tx: SignedTx, member: Member | null): void;
  /** The role and prefix rules alone (cheap): run at a block's connect with the member at its height. Throws TxError. */
  checkRoles(tx: SignedTx, member: Member): void;
  /** Canonical item keys an event names (for the EPC history index). */
  itemKeysOf(event: Record<string, unknown>): string[];
  /** The link records an event makes (containment, leaving, transformations: for the links index). */
  linksOf(event: Record<string, unknown>): { key: string; kind: LinkKind; other?: string }[];
  /**
   * For an EPCIS error declaration (corrections: trace/correction.ts), the ID of the event it
   * declares erroneous; undefined for any other event. Optional: rules without corrections have none.
   */
  declaredEventOf?(event: Record<string, unknown>): string | undefined;
  /**
   * The query index's term keys of an event (trace/query-terms.ts: bizStep, places, classes, day),
   * written in the history index beside the item keys. Optional: rules without a query index have none.
   */
  queryTermsOf?(event: Record<string, unknown>): string[];
  /** The item-state changes one event makes, given the state before it. Never throws on business conflicts. */
  applyEvent(reader: ItemReader, input: { event: Record<string, unknown>; eventId: string; submitter: Member; blockTime: number }): Promise<EventEffects>;
}
