/**
 * Recall fan-out (docs/alerts.md "Recall fan-out"): the packs a recall touches, grouped
 * into one alert per holder (and per owner, when a recall names packs of several manufacturers).
 * A pack counts when it is unsold (active, in transit, or recalled while held) and has a custodian
 * at the recall's position in the chain. Pure: chain/alert-state.ts gathers the candidates.
 */

export interface RecallCandidate {
  key: string;
  /** Custodian at the recall (member ID), or null when unknown. */
  holder: string | null;
  unsold: boolean;
  /** Member ID of the item's manufacturer (the GTIN's company prefix), or null. */
  owner: string | null;
}

export interface RecallGroup {
  holder: string;
  owner: string | null;
  /** Item keys, sorted, each once. */
  keys: string[];
}

/** One group per (holder, owner) that holds an unsold candidate; groups sorted by holder, then owner. */
export function groupRecallHolders(candidates: Iterable<RecallCandidate>): RecallGroup[] {
  const groups = new Map<string, RecallGroup & { set: Set<string> }>();
  for (const c of candidates) {
    if (!c.unsold || c.holder === null) continue;
    const id = `${c.holder}\u0000${c.owner ?? ''}`;
    let g = groups.get(id);
    if (!g) {
      g = { holder: c.holder, owner: c.owner, keys: [], set: new Set() };
      groups.set(id, g);
    }
    g.set.add(c.key);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({ holder: g.holder, owner: g.owner, keys: [...g.set].sort() }));
}
