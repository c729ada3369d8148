/**
 * Worker-pool TxVerifier: splits a batch into chunks and verifies them on worker threads, so
 * bulk signature and event checks never block the event loop. The same workers check blocks'
 * sealer signatures ahead of import (verifySeals, used by sync). Bounded: past `maxPending`
 * chunks in flight it refuses with MEMPOOL_FULL (the API answers 503, peers are ignored). When the
 * work cannot be done (pool closed, a worker failed) it throws VerifierError, never a verdict.
 */
import { Worker } from 'node:worker_threads';
import { invariant, TxError, VerifierError } from '../common/errors.js';
import { genesisBlock } from './genesis.js';
import { txId as computeTxId } from './tx.js';
import { workerEntryUrl } from '../runtime/worker-entries.js';
import type { TxVerifier } from './tx-verifier.js';
import type { Genesis, SignedTx } from './types.js';
import { MemberRegistry } from './registry.js';
import type { GovernanceState } from './governance.js';
import type { RegistryMessage, SealItem, VerifierRequest, VerifierWorkerInit, VerifyResponse } from './verifier-protocol.js';

/** Sealer signatures per message to a worker (one sync chunk of blocks). */
const SEAL_CHUNK = 64;

export interface VerifierPoolOptions {
  workers: number;
  /** Txs per message to a worker. */
  chunkSize?: number;
  /** Chunks in flight across all workers before new work is refused. */
  maxPending?: number;
}

interface Pending {
  resolve: (r: VerifyResponse) => void;
  reject: (e: Error) => void;
  worker: number;
}

export class WorkerPoolTxVerifier implements TxVerifier {
  private readonly threads: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly chunkSize: number;
  private readonly maxPending: number;
  private registry: MemberRegistry;

  constructor(
    private readonly opts: VerifierPoolOptions,
    private readonly modules: { genesis: Genesis },
  ) {
    this.chunkSize = opts.chunkSize ?? 32;
    this.maxPending = opts.maxPending ?? 4096;
    this.registry = MemberRegistry.fromGenesis(modules.genesis);
    for (let i = 0; i < Math.max(1, opts.workers); i++) this.spawn(i);
  }

  private spawn(i: number): void {
    const init: VerifierWorkerInit = { registry: { state: this.registry.state, height: this.registry.height }, chainId: genesisBlock(this.modules.genesis).hashHex };
    const w = new Worker(workerEntryUrl('verifier'), { workerData: init, name: `tracechain-verifier-${i}` });
    w.unref();
    w.on('message', (res: VerifyResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      this.load[i] = (this.load[i] ?? 1) - 1;
      p.resolve(res);
    });
    const fail = (err: Error): void => {
      for (const [id, p] of this.pending) {
        if (p.worker !== i) continue;
        this.pending.delete(id);
        p.reject(err);
      }
      this.load[i] = 0;
    };
    w.on('error', (err) => fail(new VerifierError('WORKER_FAILED', `verifier worker ${i} failed: ${err.message}`, { cause: err })));
    w.on('exit', (code) => {
      if (this.closed) return;
      fail(new VerifierError('WORKER_FAILED', `verifier worker ${i} exited with code ${code}`));
      this.spawn(i); // keep the pool at strength
    });
    this.threads[i] = w;
    this.load[i] = 0;
  }

  /** Every worker gets the new registry before any request sent after this call (a worker's messages are handled in order). */
  setRegistry(registry: MemberRegistry): void {
    if (registry.state === this.registry.state && registry.height === this.registry.height) return;
    this.registry = registry;
    const msg: RegistryMessage = { kind: 'registry', state: registry.state, height: registry.height };
    for (const w of this.threads) w.postMessage(msg);
  }

  private send(body: { kind: 'txs'; txs: SignedTx[]; txIds: Uint8Array[]; full: boolean; registry?: { state: GovernanceState; height: number } } | { kind: 'seals'; seals: SealItem[] }): Promise<VerifyResponse> {
    let worker = 0;
    for (let i = 1; i < this.threads.length; i++) if ((this.load[i] ?? 0) < (this.load[worker] ?? 0)) worker = i;
    const id = this.nextId++;
    const req: VerifierRequest = { id, ...body };
    return new Promise<VerifyResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      this.load[worker] = (this.load[worker] ?? 0) + 1;
      (this.threads[worker] as Worker).postMessage(req);
    });
  }

  async verify(txs: readonly SignedTx[], txIds?: readonly Uint8Array[], full = true, registry?: MemberRegistry): Promise<(TxError | null)[]> {
    if (this.closed) throw new VerifierError('CLOSED', 'verifier pool is closed');
    const ids = txIds ?? txs.map((t) => computeTxId(t));
    const chunks: Promise<VerifyResponse>[] = [];
    const n = Math.ceil(txs.length / this.chunkSize);
    if (this.pending.size + n > this.maxPending) {
      throw new TxError('MEMPOOL_FULL', `the verifier is saturated (${this.pending.size} batches in flight); retry later`);
    }
    for (let i = 0; i < txs.length; i += this.chunkSize) {
      chunks.push(this.send({ kind: 'txs', txs: txs.slice(i, i + this.chunkSize), txIds: ids.slice(i, i + this.chunkSize), full, ...(registry ? { registry: { state: registry.state, height: registry.height } } : {}) }));
    }
    const out: (TxError | null)[] = [];
    for (const res of await Promise.all(chunks)) {
      if (res.kind === 'error') throw new VerifierError('WORKER_FAILED', `verifier worker error: ${res.error}`);
      invariant(res.kind === 'txs', `verifier worker answered a tx batch with ${res.kind}`);
      for (const r of res.results) out.push(r ? TxError.of(r.type, r.message) : null);
    }
    return out;
  }

  async verifySeals(seals: readonly SealItem[]): Promise<boolean[]> {
    if (this.closed) throw new VerifierError('CLOSED', 'verifier pool is closed');
    const n = Math.ceil(seals.length / SEAL_CHUNK);
    if (this.pending.size + n > this.maxPending) {
      throw new TxError('MEMPOOL_FULL', `the verifier is saturated (${this.pending.size} batches in flight); retry later`);
    }
    const chunks: Promise<VerifyResponse>[] = [];
    for (let i = 0; i < seals.length; i += SEAL_CHUNK) chunks.push(this.send({ kind: 'seals', seals: seals.slice(i, i + SEAL_CHUNK) }));
    const out: boolean[] = [];
    for (const res of await Promise.all(chunks)) {
      if (res.kind === 'error') throw new VerifierError('WORKER_FAILED', `verifier worker error: ${res.error}`);
      invariant(res.kind === 'seals', `verifier worker answered a seal batch with ${res.kind}`);
      out.push(...res.valid);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new VerifierError('CLOSED', 'verifier pool closed'));
    this.pending.clear();
    await Promise.all(this.threads.map((w) => w.terminate()));
  }
}
