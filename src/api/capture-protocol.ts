/**
 * Messages between the capture pool (api/capture-pool.ts) and its worker threads
 * (runtime/capture-worker.ts): { id, body: ArrayBuffer, time, format, mode } in, { id, outcome } out,
 * { id, error } for a bug, and { id: -1, ready: true } once a worker has warmed up.
 */
import type { Member } from '../chain/types.js';
import type { CaptureFormat, CaptureMode, CaptureOutcome } from './capture-core.js';

export interface CaptureWorkerInit {
  member: Member;
  secretKeyHex: string;
  chainId: string;
  maxTxBytes: number;
  maxEventsPerTx: number;
}

export interface CaptureRequest {
  id: number;
  body: ArrayBuffer;
  time: number;
  format: CaptureFormat;
  mode: CaptureMode;
}

export type CaptureReply = { id: number; outcome: CaptureOutcome } | { id: number; error: string };
