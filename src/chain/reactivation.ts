/**
 * Undo of a dispense or decommission (EU FMD style, docs/alerts.md "Undo of a dispense"):
 * the member that took the pack out of the supply chain may put it back within 10 days of block
 * time, at the same location, unless the pack is destroyed, stolen, recalled or expired. Pure: the
 * verdict from the facts; chain/alert-state.ts applies it (the item active again, or an alert).
 */

/** The undo window: 10 days of block time. */
export const REACTIVATION_WINDOW_MS = 10 * 86_400_000;

export type ReactivationRefusal =
  | 'REACTIVATE_DESTROYED'
  | 'REACTIVATE_STOLEN'
  | 'REACTIVATE_RECALLED'
  | 'REACTIVATE_EXPIRED'
  | 'REACTIVATE_NOT_INACTIVE'
  | 'REACTIVATE_OTHER_MEMBER'
  | 'REACTIVATE_TOO_LATE'
  | 'REACTIVATE_OTHER_LOCATION';

/** How the pack left the supply chain (recorded from the dispense or decommission event). */
export interface LeftRecord {
  lifecycle: 'dispensed' | 'decommissioned';
  /** Its lifecycle before it left (what an undo restores). */
  before: string;
  /** Member ID that dispensed or decommissioned it. */
  by: string;
  /** Block time of the block that carried the event (ms). */
  time: number;
  height: number;
  location: string | null;
  eventId: string;
}

export interface ReactivationInput {
  /** The item's lifecycle now. */
  lifecycle: string;
  left: LeftRecord | null;
  stolen: boolean;
  recalled: boolean;
  expired: boolean;
  /** Member asking for the undo, block time of its tx, the location it names. */
  by: string;
  time: number;
  location: string | null;
}

export type ReactivationVerdict = { ok: true } | { ok: false; code: ReactivationRefusal; message: string };

function refuse(code: ReactivationRefusal, message: string): ReactivationVerdict {
  return { ok: false, code, message };
}

/** The verdict on an undo; refusals in a fixed order, so every node names the same reason. */
export function reactivationVerdict(x: ReactivationInput): ReactivationVerdict {
  if (x.lifecycle === 'destroyed') return refuse('REACTIVATE_DESTROYED', 'undo refused: the pack was destroyed');
  if (x.stolen) return refuse('REACTIVATE_STOLEN', 'undo refused: the pack was reported stolen');
  if (x.recalled) return refuse('REACTIVATE_RECALLED', 'undo refused: the pack is recalled');
  if (x.expired) return refuse('REACTIVATE_EXPIRED', 'undo refused: the pack is past its expiry date');
  const left = x.left;
  if (left === null || left.lifecycle !== x.lifecycle) return refuse('REACTIVATE_NOT_INACTIVE', `undo refused: the pack is ${x.lifecycle}, not dispensed or decommissioned`);
  if (left.by !== x.by) return refuse('REACTIVATE_OTHER_MEMBER', `undo refused: member ${x.by} did not ${left.lifecycle === 'dispensed' ? 'dispense' : 'decommission'} the pack (${left.by} did)`);
  if (x.time - left.time > REACTIVATION_WINDOW_MS) {
    const days = Math.floor((x.time - left.time) / 86_400_000);
    return refuse('REACTIVATE_TOO_LATE', `undo refused: ${days} days after the pack was ${left.lifecycle} (the window is 10 days of block time)`);
  }
  if (left.location !== x.location) return refuse('REACTIVATE_OTHER_LOCATION', `undo refused: the pack was ${left.lifecycle} at ${left.location ?? 'no location'}, not at ${x.location ?? 'no location'}`);
  return { ok: true };
}
