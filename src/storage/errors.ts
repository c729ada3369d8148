/**
 * Typed storage errors. Nothing in storage/ swallows a LevelDB error: each one surfaces as one
 * of these, with the original error as `cause`.
 */

import { ErrorWithCode } from '../common/errors.js';

export type StorageErrorCode =
  /** Stored bytes failed to decode (wrong length, bad UTF-8/JSON, impossible value). */
  | 'CORRUPTION'
  /** A write (batch/put) failed: disk full, I/O error, database closed. */
  | 'WRITE_FAILED'
  /** Writes are refused until the store recovers (disk space low, or an earlier write failed). */
  | 'WRITE_SUSPENDED'
  /** A read failed for a reason other than corruption (I/O error, database closed). */
  | 'READ_FAILED'
  /** Another process (or another handle in this one) holds the database lock. */
  | 'LOCKED'
  /** The data was written by a newer schema than this build understands. */
  | 'SCHEMA_UNSUPPORTED'
  /** The database could not be opened for another reason. */
  | 'OPEN_FAILED'
  /** An argument cannot be encoded (bad hex, NUL in an item key, number out of range). */
  | 'BAD_ARGUMENT'
  /** A write would break a store invariant (e.g. connect not extending the tip). */
  | 'BAD_STATE';

export class StorageError extends ErrorWithCode<StorageErrorCode> {
  override readonly name: string = 'StorageError';
}

/** Stored bytes do not decode. `bucket` is the bucket name, `key` the hex of the key inside it. */
export class StorageCorruptionError extends StorageError {
  override readonly name = 'StorageCorruptionError';
  constructor(
    readonly bucket: string,
    readonly key: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('CORRUPTION', `corrupt ${bucket} entry ${key === '' ? '(empty key)' : key}: ${detail}`, options);
  }
}

/** A read or write the database failed; `operation` names what was read or written. */
abstract class StorageIoError extends StorageError {
  constructor(
    code: 'WRITE_FAILED' | 'READ_FAILED',
    readonly operation: string,
    cause: unknown,
  ) {
    super(code, `storage ${code === 'WRITE_FAILED' ? 'write' : 'read'} failed (${operation}): ${describe(cause)}`, { cause });
  }
}

/** A write failed; `operation` names what was being written. */
export class StorageWriteError extends StorageIoError {
  override readonly name = 'StorageWriteError';
  constructor(operation: string, cause: unknown) {
    super('WRITE_FAILED', operation, cause);
  }
}

/**
 * The store refuses writes for now: free disk space fell below the configured minimum, or a
 * write failed and the store has not recovered yet. Nothing was written; retry later.
 */
export class StorageSuspendedError extends StorageError {
  override readonly name = 'StorageSuspendedError';
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super('WRITE_SUSPENDED', `storage writes suspended (${operation} refused): ${reason}`);
  }
}

/** A read failed for a reason other than corruption; `operation` names what was being read. */
export class StorageReadError extends StorageIoError {
  override readonly name = 'StorageReadError';
  constructor(operation: string, cause: unknown) {
    super('READ_FAILED', operation, cause);
  }
}

/** Opening the store failed; `dir` is the database directory. */
export class StorageOpenError extends StorageError {
  override readonly name = 'StorageOpenError';
  constructor(
    code: 'LOCKED' | 'SCHEMA_UNSUPPORTED' | 'OPEN_FAILED' | 'CORRUPTION',
    readonly dir: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A caller passed something storage cannot encode (a programming or input-validation error). */
export class StorageArgumentError extends StorageError {
  override readonly name = 'StorageArgumentError';
  constructor(message: string) {
    super('BAD_ARGUMENT', message);
  }
}

export class StorageStateError extends StorageError {
  override readonly name = 'StorageStateError';
  constructor(message: string) {
    super('BAD_STATE', message);
  }
}

/** A LevelDB error code (`LEVEL_LOCKED`, `LEVEL_CORRUPTION`, …) on the error or its cause chain. */
export function levelErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'LEVEL_DATABASE_NOT_OPEN') return code;
    e = (e as { cause?: unknown }).cause;
  }
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const inner = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return err.message + inner;
  }
  return String(err);
}
