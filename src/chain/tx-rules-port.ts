/**
 * What the chain needs from trace/ (EPCIS rules), injected so chain stays testable and the
 * rule set lives in one place. `node/` wires the real implementation from trace/.
 */
import type { LinkKind, LotKey, StoredItem } from './store.js';
import type { Member, SignedTx } from './types.js';

export interface ItemReader {
  getItem(key: string): Promise<StoredItem | undefined>;
  isLotRecalled(lot: LotKey): Promise<boolean>;
  /** Read these items' state ahead in one batch (a recall's fan-out over a whole lot); getItem then answers from memory. */
  prefetch?(keys: readonly string[]): Promise<void>;
}

export interface EventEffects {
  items: StoredItem[];
  recalledLots: LotKey[];
}

/** What the alert rules (chain/alert-state.ts) read of an item record (whose shape trace/ owns). */
export interface ItemFacts {
  gtin: string | null;
  lot: string | null;
  /** Expiry date, YYYY-MM-DD. */
  expiry: string | null;
  custodian: string | null;
  /** The member that commissioned it. */
  manufacturer: string | null;
  /** Where it is in its lifecycle (trace/status.ts ItemStatus). */
  lifecycle: string;
  /** Not yet sold or taken out: active, in transit, or recalled while held. */
  unsold: boolean;
  /** The business conflicts this event recorded on the item (the status machine's alerts), recalls aside. */
  conflictsBy(eventId: string): { code: string; message: string }[];
  /** Whether this event recalled the item (or a container it is in). */
  recalledBy(eventId: string): boolean;
  /** Whether the item has ever been recalled (an alert on it, as far as its record keeps them). */
  everRecalled: boolean;
}

/** What the alert rules read of an event. */
export interface EventAlertFacts {
  /** The event takes its items out of the supply chain this way (undoable within the window), or null. */
  leaves: 'dispensed' | 'decommissioned' | null;
  /** The event's business location (else read point), or null. */
  location: string | null;
  /** Item keys the event reports stolen (its disposition is `stolen`), whatever it does to them otherwise. */
  stolen: string[];
  /** The event recalls what it names (disposition `recalled`). */
  recalls: boolean;
  /** Scratch-off code commitments a commissioning carries, per item key. */
  codes: { key: string; salt: string; commit: string }[];
}

/** The alert rules' view of the EPCIS rules (trace/alerts.ts implements it). */
export interface AlertRules {
  itemFacts(item: StoredItem): ItemFacts;
  /** The item's GTIN and lot alone (cheap: the lot index is kept for every item a block changes). */
  lotOf(item: StoredItem): { gtin: string; lot: string } | null;
  eventFacts(event: Record<string, unknown>): EventAlertFacts;
  /** The item after an undo of its dispense or decommission: back in `lifecycle` (what it was before). */
  reactivated(item: StoredItem, lifecycle: string): StoredItem;
  /** Whether an expiry date has passed at `time` (ms). */
  expiredAt(expiry: string, time: number): boolean;
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
  /** The alert rules (absent: the chain derives no alerts, e.g. test stand-ins). */
  alerts?: AlertRules;
}
