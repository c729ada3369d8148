/**
 * The REST binding's capture jobs (`POST /capture` → 202 with `Location: /capture/{captureID}`;
 * `GET /capture`, `GET /capture/{captureID}`). A job is what one capture request became: its tx
 * (and event IDs), the problems known when it was answered (a refused document's every problem,
 * or under `proceed` each refused event's), and the error behaviour asked for. Its state is read
 * from the chain each time it is asked for, never stored, so it follows reorgs:
 * - the tx is pending in the mempool: `running: true`;
 * - the tx is in a block of the main chain: `running: false`, finished at that block's time;
 * - the tx is neither (dropped from the mempool): `running: false, success: false`, with the
 *   reason: its events recorded by another tx (DUPLICATE_EVENT), else CAPTURE_DROPPED.
 *
 * Jobs are kept in memory, the newest `maxJobs` (oldest forgotten first); a restart forgets them
 * (the txs themselves are durable: /txs/{txId} and /events/{eventId} still answer).
 */
import { randomBytes } from 'node:crypto';
import type { DuplicateEvent } from '../chain/admission.js';
import { HttpProblem, storeDamaged, toProblem, type Problem } from './problem.js';

/** Jobs a node keeps (in memory; the oldest forgotten first). */
export const MAX_CAPTURE_JOBS = 10_000;

export type CaptureBehaviour = 'rollback' | 'proceed';

/** Where a job's tx is now. */
export type TxWhereabouts =
  | { state: 'pending' }
  | { state: 'mined'; block: { hash: string; height: number }; time: number }
  | { state: 'gone'; duplicates: DuplicateEvent[] };

export interface CaptureJobModules {
  /** Where a tx is now (mempool, main chain, or neither: then its events recorded elsewhere, if any). */
  whereabouts: (txId: string, eventIds: readonly string[]) => Promise<TxWhereabouts>;
  clock: () => number;
}

export interface CaptureJobOptions {
  /** Jobs kept (the oldest forgotten first). */
  maxJobs: number;
}

interface JobRecord {
  seq: number;
  captureID: string;
  createdAt: number;
  behaviour: CaptureBehaviour;
  /** The tx the capture made (absent: the document was refused whole). */
  txId?: string;
  eventIds: string[];
  /** Problems known when the capture was answered. */
  errors: Problem[];
  /** When a refused document's job finished (at once). */
  finishedAt?: number;
}

/** A job as the binding's CaptureJob document, with the node's txId, eventIds and block. */
export interface CaptureJobView {
  captureID: string;
  createdAt: string;
  finishedAt?: string;
  running: boolean;
  success: boolean;
  captureErrorBehaviour: CaptureBehaviour;
  errors: Problem[];
  txId?: string;
  eventIds: string[];
  block?: { hash: string; height: number } | null;
}

/** One problem per listed problem of `p` (`errors: [{path, message, code}]`), else `p` itself. */
export function problemsOf(p: Problem): Problem[] {
  const list = Array.isArray(p['errors']) ? (p['errors'] as { path?: unknown; message?: unknown; code?: unknown }[]) : [];
  if (list.length === 0) {
    const { instance: _instance, ...rest } = p;
    return [rest];
  }
  return list.map((e) => ({
    type: p.type,
    title: p.title,
    status: p.status,
    detail: typeof e.message === 'string' ? e.message : p.detail,
    ...(typeof e.path === 'string' ? { instance: e.path } : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : p.code !== undefined ? { code: p.code } : {}),
  }));
}

export class CaptureJobs {
  private readonly jobs = new Map<string, JobRecord>();
  private seq = 0;

  constructor(
    private readonly opts: CaptureJobOptions,
    private readonly modules: CaptureJobModules,
  ) {
    if (!Number.isSafeInteger(opts.maxJobs) || opts.maxJobs < 1) throw new Error(`maxJobs must be a positive integer, not ${opts.maxJobs}`);
  }

  get size(): number {
    return this.jobs.size;
  }

  /** A job for an accepted capture: its tx, and (proceed) the problems of each event left out. */
  accepted(input: { behaviour: CaptureBehaviour; txId: string; eventIds: string[]; refused?: readonly { index: number; errors: readonly { path: string; message: string; code: string }[] }[] }): string {
    const errors = (input.refused ?? []).flatMap((r) =>
      r.errors.map((e) => ({ ...toProblem(new HttpProblem('DUPLICATE_IN_DOCUMENT', e.message)), title: 'Event not captured', code: e.code, instance: e.path })),
    );
    return this.add({ behaviour: input.behaviour, txId: input.txId, eventIds: input.eventIds, errors });
  }

  /** A job for a document refused whole: finished at once, with every problem. */
  refused(behaviour: CaptureBehaviour, problem: Problem): string {
    return this.add({ behaviour, eventIds: [], errors: problemsOf(problem), finishedAt: this.modules.clock() });
  }

  private add(job: Omit<JobRecord, 'seq' | 'captureID' | 'createdAt'>): string {
    const captureID = randomBytes(12).toString('hex');
    this.jobs.set(captureID, { ...job, seq: ++this.seq, captureID, createdAt: this.modules.clock() });
    while (this.jobs.size > this.opts.maxJobs) {
      const oldest = this.jobs.keys().next().value as string;
      this.jobs.delete(oldest);
    }
    return captureID;
  }

  async get(captureID: string): Promise<CaptureJobView | undefined> {
    const job = this.jobs.get(captureID);
    return job === undefined ? undefined : this.view(job);
  }

  /** Jobs in creation order after the job of sequence number `after`, at most `limit`; `next` when more follow. */
  async list(after: number, limit: number): Promise<{ jobs: CaptureJobView[]; next?: number }> {
    const picked: JobRecord[] = [];
    let more = false;
    for (const job of this.jobs.values()) {
      if (job.seq <= after) continue;
      if (picked.length === limit) {
        more = true;
        break;
      }
      picked.push(job);
    }
    const jobs = await Promise.all(picked.map((j) => this.view(j)));
    const last = picked[picked.length - 1];
    return { jobs, ...(more && last !== undefined ? { next: last.seq } : {}) };
  }

  private async view(job: JobRecord): Promise<CaptureJobView> {
    const base = { captureID: job.captureID, createdAt: new Date(job.createdAt).toISOString(), captureErrorBehaviour: job.behaviour, eventIds: job.eventIds };
    if (job.txId === undefined) {
      return { ...base, running: false, success: false, errors: job.errors, ...(job.finishedAt !== undefined ? { finishedAt: new Date(job.finishedAt).toISOString() } : {}) };
    }
    const where = await this.modules.whereabouts(job.txId, job.eventIds);
    const clean = job.errors.length === 0;
    switch (where.state) {
      case 'pending':
        return { ...base, txId: job.txId, block: null, running: true, success: clean, errors: job.errors };
      case 'mined':
        return { ...base, txId: job.txId, block: where.block, running: false, success: clean, errors: job.errors, finishedAt: new Date(where.time).toISOString() };
      case 'gone': {
        const reason =
          where.duplicates.length > 0
            ? { ...toProblem(new HttpProblem('CAPTURE_DROPPED', `${where.duplicates.length} event(s) of the capture are recorded by another tx, so its tx can never be recorded`)), code: 'DUPLICATE_EVENT', duplicates: where.duplicates }
            : toProblem(new HttpProblem('CAPTURE_DROPPED', 'the capture\'s tx left the mempool without reaching a block of the main chain (the member registry at the next height refused it, or a reorg made it invalid); nothing of it is recorded: capture the document again'));
        return { ...base, txId: job.txId, block: null, running: false, success: false, errors: [...job.errors, reason] };
      }
    }
  }
}

/** The chain calls `chainWhereabouts` needs. */
export interface WhereaboutsChain {
  readonly mempool: { has(idHex: string): boolean };
  readonly store: { getTxLocations(txIds: readonly string[]): Promise<({ blockHash: string; height: number } | undefined)[]> };
  header(hash: string): { time: number } | undefined;
  findDuplicateEvents(eventIds: readonly string[]): Promise<DuplicateEvent[]>;
}

/** Where a tx is on this chain: mined (main chain), pending, or gone (and which of its events another tx records). */
export function chainWhereabouts(chain: WhereaboutsChain): CaptureJobModules['whereabouts'] {
  const mined = async (txId: string): Promise<TxWhereabouts | undefined> => {
    const [loc] = await chain.store.getTxLocations([txId]);
    if (loc === undefined) return undefined;
    const header = chain.header(loc.blockHash);
    if (header === undefined) throw storeDamaged(`main-chain block ${loc.blockHash} of tx ${txId} has no header entry`);
    return { state: 'mined', block: { hash: loc.blockHash, height: loc.height }, time: header.time };
  };
  return async (txId, eventIds) => {
    const first = await mined(txId);
    if (first !== undefined) return first;
    if (chain.mempool.has(txId)) return { state: 'pending' };
    // A connect may have moved it from the pool to a block between the two looks.
    const second = await mined(txId);
    if (second !== undefined) return second;
    if (chain.mempool.has(txId)) return { state: 'pending' };
    const duplicates = (await chain.findDuplicateEvents(eventIds)).filter((d) => d.txId !== txId);
    return { state: 'gone', duplicates };
  };
}
