/** Messages between the tx verifier pool and its workers (structured-clone friendly). */
import type { Genesis, SignedTx } from './types.js';

export interface VerifierWorkerInit {
  genesis: Genesis;
  chainId: string;
}

export interface VerifyRequest {
  id: number;
  txs: SignedTx[];
  txIds: Uint8Array[];
}

export interface TxFailure {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export type VerifyResponse = { id: number; results: (TxFailure | null)[] } | { id: number; error: string };
