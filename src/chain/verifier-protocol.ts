/** Messages between the tx verifier pool and its workers (structured-clone friendly). */
import type { TxErrorType } from '../common/errors.js';
import type { GovernanceState } from './governance.js';
import type { SignedTx } from './types.js';

export interface VerifierWorkerInit {
  /** The registry the worker starts with (governance state and its height). */
  registry: { state: GovernanceState; height: number };
  chainId: string;
}

/** The registry at the tip's successor, sent to every worker when the tip moves. */
export interface RegistryMessage {
  kind: 'registry';
  state: GovernanceState;
  height: number;
}

/** Verify txs (verifyTxSync): one result per tx. */
export interface VerifyRequest {
  kind: 'txs';
  id: number;
  txs: SignedTx[];
  txIds: Uint8Array[];
  /** Standing and roles too (see TxVerifier.verify). */
  full: boolean;
  /** Check against this registry instead of the worker's (a block on a side branch). */
  registry?: { state: GovernanceState; height: number };
}

/** One block's sealer signature to check: the block hash, the header's sealer key ID (hex), the signature. */
export interface SealItem {
  hash: Uint8Array;
  sealer: string;
  signature: Uint8Array;
}

/** Verify blocks' sealer signatures (sealSignatureValid): one boolean per item. */
export interface SealRequest {
  kind: 'seals';
  id: number;
  seals: SealItem[];
}

export type VerifierRequest = VerifyRequest | SealRequest;
export type VerifierMessage = VerifierRequest | RegistryMessage;

/** A TxError across the thread boundary: its code with details, and its message without the `CODE: ` prefix. */
export interface TxFailure {
  type: TxErrorType;
  message: string;
}

export type VerifyResponse =
  | { id: number; kind: 'txs'; results: (TxFailure | null)[] }
  | { id: number; kind: 'seals'; valid: boolean[] }
  | { id: number; kind: 'error'; error: string };
