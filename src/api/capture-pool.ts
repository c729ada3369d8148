/**
 * Worker threads that prepare captures (parse, validate, hash, sign) so the main thread only
 * admits the finished tx: a 10,000-event document costs the main thread a JSON.parse of the
 * signed tx, not ~0.5 s of validation. `workers: 0` runs inline (tests, tiny nodes). The queue is
 * bounded: past `maxQueue` in-flight captures the API answers 503 with Retry-After.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { workerEntryUrl } from '../runtime/worker-entries.js';
import { prepareCapture, type CaptureFormat, type CaptureMode, type CaptureOutcome, type CaptureSetup } from './capture-core.js';
import type { CaptureReply, CaptureRequest, CaptureWorkerInit } from './capture-protocol.js';
import { toHex } from '../common/bytes.js';
import { HttpProblem } from './problem.js';

export interface CapturePoolOptions {
  workers: number;
  /** Most captures in flight (queued or running) across the pool. */
  maxQueue: number;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, { resolve: (o: CaptureOutcome) => void; reject: (e: Error) => void }>;
}

export class CapturePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;
  private inFlight = 0;
  private readonly log: Logger;

  private constructor(
    private readonly opts: CapturePoolOptions,
    private readonly setup: CaptureSetup,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'capture' });
  }

  static async start(opts: CapturePoolOptions, setup: CaptureSetup, logger: Logger): Promise<CapturePool> {
    const pool = new CapturePool(opts, setup, logger);
    await Promise.all(Array.from({ length: opts.workers }, (_, i) => pool.spawn(i)));
    return pool;
  }

  get workers(): number {
    return this.slots.length;
  }

  get pending(): number {
    return this.inFlight;
  }

  private spawn(index: number): Promise<void> {
    const init: CaptureWorkerInit = {
      member: this.setup.member,
      secretKeyHex: toHex(this.setup.secretKey),
      chainId: this.setup.chainId,
      maxTxBytes: this.setup.maxTxBytes,
      maxEventsPerTx: this.setup.maxEventsPerTx,
    };
    const worker = new Worker(workerEntryUrl('capture'), { workerData: init, name: `tracechain-capture-${index}` });
    const slot: Slot = { worker, inFlight: new Map() };
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: CaptureReply | { id: -1; ready: true }) => {
        if ('ready' in m) {
          ready = true;
          worker.unref();
          resolve();
          return;
        }
        const p = slot.inFlight.get(m.id);
        if (p === undefined) return;
        slot.inFlight.delete(m.id);
        this.inFlight--;
        if (slot.inFlight.size === 0) worker.unref();
        if ('outcome' in m) p.resolve(m.outcome);
        else p.reject(new Error(`capture worker failed: ${m.error}`));
      });
      const fail = (err: Error): void => {
        for (const p of slot.inFlight.values()) p.reject(err);
        this.inFlight -= slot.inFlight.size;
        slot.inFlight.clear();
        if (!ready) {
          reject(err);
          return;
        }
        if (!this.closing) {
          this.log.error({ err, worker: index }, 'capture worker died; starting a new one');
          this.spawn(index).catch((e: unknown) => this.log.error({ err: e }, 'capture worker restart failed'));
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closing) fail(new Error(`capture worker ${index} exited with code ${code}`));
      });
    });
  }

  /** Prepare one capture body. Throws HttpProblem 503 when the queue is full. */
  prepare(body: Uint8Array, time: number, format: CaptureFormat = 'json', mode: CaptureMode = { behaviour: 'rollback' }): Promise<CaptureOutcome> {
    if (this.slots.length === 0) return Promise.resolve(prepareCapture(body, this.setup, time, format, mode));
    if (this.closing) return Promise.reject(new HttpProblem('SHUTTING_DOWN', 'the node is shutting down'));
    if (this.inFlight >= this.opts.maxQueue) {
      return Promise.reject(new HttpProblem('CAPTURE_BUSY', `${this.inFlight} captures are being prepared; retry shortly`));
    }
    let slot = this.slots[0] as Slot;
    for (const s of this.slots) if (s.inFlight.size < slot.inFlight.size) slot = s;
    const id = this.nextId++;
    const copy = new Uint8Array(body.byteLength);
    copy.set(body);
    const req: CaptureRequest = { id, body: copy.buffer, time, format, mode };
    this.inFlight++;
    return new Promise<CaptureOutcome>((resolve, reject) => {
      // Referenced while it has work, so a pending capture keeps the process alive.
      if (slot.inFlight.size === 0) slot.worker.ref();
      slot.inFlight.set(id, { resolve, reject });
      slot.worker.postMessage(req, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) {
      for (const p of s.inFlight.values()) p.reject(new Error('capture pool closed'));
      s.inFlight.clear();
    }
    this.inFlight = 0;
  }
}
