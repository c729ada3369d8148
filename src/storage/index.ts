/** storage/: the LevelDB ChainStore and its repositories (DESIGN.md, Storage). */
export { LevelChainStore, SCHEMA_VERSION } from './level-store.js';
export type { ClearResult, LevelChainStoreOptions, StoreLogger, StoreSnapshot, StoreStats } from './level-store.js';
export {
  StorageArgumentError,
  StorageCorruptionError,
  StorageError,
  StorageOpenError,
  StorageReadError,
  StorageStateError,
  StorageSuspendedError,
  StorageWriteError,
} from './errors.js';
export type { StorageErrorCode } from './errors.js';
export { BUCKETS, BUCKET_NAMES, INDEX_BUCKETS, Repositories, Repository } from './repositories.js';
export type { BucketName, BucketReader, InnerRange } from './repositories.js';
export type { HistoryKey, HistoryPosition } from './codecs.js';
export { WriteGuard, readDiskSpace } from './write-guard.js';
export type { DiskSpace, GuardedStore, StorageHealth, WriteGuardOptions } from './write-guard.js';
export { guardedGroup } from './guarded-group.js';
export { FileTxLog } from './tx-log.js';
export type { FileTxLogOptions, LogRecord, TxLogDamage, TxLogOpenReport } from './tx-log.js';
export { NotifyRecords } from './notify-records.js';
export type { NotifyRecordWrite } from './notify-records.js';
