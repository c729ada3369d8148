/**
 * The tx log port: where the chain makes a tx it accepted locally (POST /capture, POST /txs)
 * durable before the node acknowledges it. storage/tx-log.ts implements it as an append-only,
 * checksummed segment log under DATA/txlog, fsynced with group commit.
 *
 * Contract: appendTx resolves only once the record is on stable storage (the fsync of the
 * write that holds it has completed); it rejects with a TxLogError, and then the tx is not
 * acknowledged. A record stays live until settle() drops it (chain/tx-log-finality.ts decides
 * when: its tx is in a block at finality depth, or can never be recorded). At start the live
 * records are replayed through the normal admission checks (node/tx-log-replay.ts).
 *
 * Records are typed by kind with a 32-byte key, so later record kinds (the capture jobs of the
 * EPCIS binding: key = job ID, payload = the job's state) can share the same log, group commit
 * and replay; only txs exist today.
 */

export type TxLogErrorCode =
  /** The log cannot be written (disk full, I/O error, writes suspended for low disk space). */
  | 'TX_LOG_UNWRITABLE'
  /** Too many bytes are waiting for the disk already (the append queue is bounded). */
  | 'TX_LOG_BUSY'
  /** The log is closed (the node is stopping). */
  | 'TX_LOG_CLOSED';

export class TxLogError extends Error {
  override readonly name = 'TxLogError';
  constructor(
    readonly code: TxLogErrorCode,
    message: string,
    /** How long a client should wait before asking again. */
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface TxLog {
  /** Append a tx's record (key: its ID; payload: its canonical bytes). Resolves once fsynced; throws TxLogError. */
  appendTx(id: Uint8Array, bytes: Uint8Array): Promise<void>;
  /** Hex IDs of the txs with a live record, oldest first. */
  liveTxIds(): Iterable<string>;
  /** A live record's canonical tx bytes (undefined when none is live for that ID). */
  readTx(idHex: string): Promise<Uint8Array | undefined>;
  /** Drop these txs' records; a segment whose records are all dropped is deleted. Resolves once that is done. */
  settle(idHexes: readonly string[]): Promise<void>;
}

/** What the log reports for /metrics. */
export interface TxLogStats {
  segments: number;
  bytes: number;
  liveRecords: number;
  /** Records appended since start (each acknowledged after its fsync). */
  appends: number;
  /** fsyncs since start: appends / fsyncs is how many records shared each (group commit). */
  fsyncs: number;
  queuedBytes: number;
}
