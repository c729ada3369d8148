/**
 * The notification records of one node (named queries, subscriptions, delivery cursors) over the
 * chain store's `notify` bucket: text values by kind and name. notify/ parses and checks them;
 * this file only reads and writes (node/ wires it to notify's RecordStore port).
 */
import type { LevelChainStore } from './level-store.js';
import type { NotifyKind } from './repositories.js';

export interface NotifyRecordWrite {
  kind: NotifyKind;
  name: string;
  /** The record's text; null deletes it. */
  value: string | null;
}

export class NotifyRecords {
  constructor(private readonly store: LevelChainStore) {}

  list(kind: NotifyKind): Promise<[string, string][]> {
    return this.store.repositories.notify.list(kind);
  }

  get(kind: NotifyKind, name: string): Promise<string | undefined> {
    return this.store.repositories.notify.get({ kind, name });
  }

  /** Several writes in one atomic batch; `sync` waits for the disk (a process crash loses nothing either way). */
  write(ops: readonly NotifyRecordWrite[], opts: { sync: boolean }): Promise<void> {
    return this.store.writeNotify(
      ops.map((o) => ({ key: { kind: o.kind, name: o.name }, value: o.value })),
      opts,
    );
  }
}
