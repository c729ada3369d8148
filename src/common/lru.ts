/**
 * A small least-recently-used cache bounded by a cost budget (bytes, leaves, entries: the
 * caller says what one entry costs). Never unbounded: inserting past the budget evicts the
 * least recently used entries; an entry costing more than the whole budget is not kept.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(readonly budget: number) {
    if (!(Number.isFinite(budget) && budget >= 0)) throw new RangeError('cache budget must be a non-negative number');
  }

  get size(): number {
    return this.map.size;
  }

  get cost(): number {
    return this.used;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: K, value: V, cost = 1): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.used -= old.cost;
      this.map.delete(key);
    }
    if (cost > this.budget) return;
    this.map.set(key, { value, cost });
    this.used += cost;
    while (this.used > this.budget) {
      const first = this.map.keys().next();
      if (first.done === true) break;
      const e = this.map.get(first.value) as { value: V; cost: number };
      this.used -= e.cost;
      this.map.delete(first.value);
    }
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}
