/** Types of proof.js (plain ES module served to browsers; imported by the unit tests). */
export type Sha256 = (data: Uint8Array) => Promise<Uint8Array>;
/** The part of WebCrypto's SubtleCrypto used here. */
export interface DigestLike {
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}
export interface EventProof {
  tx: string;
  txIndex: number;
  txCount: number;
  auditPath: string[];
  merkleRoot: string;
  blockHash: string;
  header: string;
}
export interface ProofCheck {
  ok: boolean;
  problems: string[];
  txId: string | null;
  height: number | null;
  time: number | null;
  blockHash: string | null;
  submitter: string | null;
  engine: 'webcrypto' | 'fallback';
}
export function canonicalJson(value: unknown): string;
export function hexToBytes(hex: string): Uint8Array | null;
export function bytesToHex(bytes: Uint8Array): string;
export function sha256Fallback(data: Uint8Array): Uint8Array;
export function sha256Engine(cryptoLike?: { subtle?: DigestLike | undefined } | undefined): { sha256: Sha256; engine: 'webcrypto' | 'fallback' };
export function compactTarget(bits: number): bigint | null;
export function rootFromAuditPath(sha256: Sha256, leaf: Uint8Array, index: number, size: number, path: Uint8Array[]): Promise<Uint8Array | null>;
export function verifyEventProof(eventId: string, proof: EventProof, opts?: { sha256?: Sha256; engine?: 'webcrypto' | 'fallback' }): Promise<ProofCheck>;
export function verifyPrivateBody(eventId: string, body: { event: unknown; salt: string }, opts?: { sha256?: Sha256 }): Promise<string[]>;
