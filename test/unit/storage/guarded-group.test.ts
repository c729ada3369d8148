import { describe, expect, it } from 'vitest';
import { guardedGroup } from '../../../src/storage/guarded-group.js';
import { StorageWriteError } from '../../../src/storage/errors.js';
import type { GuardedStore } from '../../../src/storage/write-guard.js';

class FakeStore implements GuardedStore {
  suspended: string | undefined;
  writeFailure: StorageWriteError | undefined;
  recovers = 0;
  recoverFails = false;
  private listeners: ((e: StorageWriteError) => void)[] = [];
  constructor(readonly dir: string) {}
  get writable(): boolean {
    return this.writeBlockedReason === undefined;
  }
  get writeBlockedReason(): string | undefined {
    return this.suspended ?? this.writeFailure?.message;
  }
  onWriteFailure(l: (e: StorageWriteError) => void): () => void {
    this.listeners.push(l);
    return () => (this.listeners = this.listeners.filter((x) => x !== l));
  }
  fail(op: string): void {
    this.writeFailure = new StorageWriteError(op, new Error('EIO'));
    for (const l of this.listeners) l(this.writeFailure);
  }
  suspendWrites(reason: string): void {
    this.suspended = reason;
  }
  resumeWrites(): void {
    this.suspended = undefined;
  }
  async recover(): Promise<void> {
    this.recovers++;
    if (this.recoverFails) throw new Error('still failing');
    this.writeFailure = undefined;
  }
}

describe('guardedGroup: the chain store and the tx log under one write guard', () => {
  it('refuses while any refuses (first reason), suspends and resumes all, recovers only the failed ones, forwards failures', async () => {
    const store = new FakeStore('/data/chain');
    const log = new FakeStore('/data/txlog');
    const g = guardedGroup(store, log);
    expect([g.dir, g.writable, g.writeBlockedReason]).toEqual(['/data/chain', true, undefined]);
    const seen: string[] = [];
    const off = g.onWriteFailure((e) => seen.push(e.operation));
    log.fail('tx log append');
    expect(seen).toEqual(['tx log append']);
    expect(g.writable).toBe(false);
    expect(g.writeBlockedReason).toMatch(/tx log append/);
    expect(g.writeFailure).toBe(log.writeFailure);
    log.recoverFails = true;
    await expect(g.recover()).rejects.toThrow(/still failing/);
    log.recoverFails = false;
    await g.recover();
    expect([store.recovers, log.recovers, g.writable]).toEqual([0, 2, true]);
    g.suspendWrites('disk space low');
    expect([store.suspended, log.suspended]).toEqual(['disk space low', 'disk space low']);
    g.resumeWrites();
    expect(g.writable).toBe(true);
    off();
    store.fail('connect');
    expect(seen).toEqual(['tx log append']);
  });
});
