/**
 * Where the worker pools find their thread entry points. Every worker entry file lives in
 * runtime/ (the one place besides node/ allowed to wire modules together: an entry installs the
 * shims and hands pure code its collaborators), so the pools in chain/, consensus/ and api/ name
 * their entry through here instead of importing it.
 */
import { builtFileUrl } from './built-file.js';

export type WorkerEntry = 'verifier' | 'miner' | 'capture';

/** The compiled entry file of a worker kind (dist/…/runtime/<kind>-worker.js). */
export function workerEntryUrl(kind: WorkerEntry): URL {
  return builtFileUrl(`./${kind}-worker.js`, import.meta.url);
}
