/**
 * Several stores on one disk watched by one WriteGuard: the chain store and the tx log. Writes
 * are refused while any refuses them (the first reason is reported), the guard's suspension
 * applies to all, and recovery is tried on each that failed.
 */
import type { StorageWriteError } from './errors.js';
import type { GuardedStore } from './write-guard.js';

export function guardedGroup(primary: GuardedStore, ...others: GuardedStore[]): GuardedStore {
  const all = [primary, ...others];
  return {
    /** Free space is read here: the primary's directory (the others live beside it). */
    get dir() {
      return primary.dir;
    },
    get writable() {
      return all.every((s) => s.writable);
    },
    get writeBlockedReason() {
      for (const s of all) if (s.writeBlockedReason !== undefined) return s.writeBlockedReason;
      return undefined;
    },
    get writeFailure() {
      for (const s of all) if (s.writeFailure !== undefined) return s.writeFailure;
      return undefined;
    },
    onWriteFailure(listener: (err: StorageWriteError) => void) {
      const offs = all.map((s) => s.onWriteFailure(listener));
      return () => offs.forEach((off) => off());
    },
    suspendWrites(reason: string) {
      for (const s of all) s.suspendWrites(reason);
    },
    resumeWrites() {
      for (const s of all) s.resumeWrites();
    },
    async recover() {
      let first: unknown;
      for (const s of all) {
        if (s.writeFailure === undefined) continue;
        try {
          await s.recover();
        } catch (err) {
          first ??= err;
        }
      }
      if (first !== undefined) throw first;
    },
  };
}
