/** Core chain types shared across modules. Pure data, no behaviour. */

/** Organisation roles (DESIGN.md, Permissioning). `dev` holds every role and any GS1 prefix. */
export type Role = 'manufacturer' | 'wholesaler' | 'pharmacy' | 'hospital' | 'regulator' | 'dev';

export const ROLES: readonly Role[] = ['manufacturer', 'wholesaler', 'pharmacy', 'hospital', 'regulator', 'dev'];

export interface Member {
  /** Member key ID: lowercase hex of the first 20 bytes of SHA-256(Ed25519 public key). */
  id: string;
  name: string;
  role: Role;
  /** Ed25519 public key, 32 bytes as lowercase hex. */
  signingKey: string;
  /** libp2p peer ID (base58btc string) of the member's node. */
  peerId: string;
  /** GS1 company prefixes the member owns (digits). Empty for non-manufacturers. */
  gs1CompanyPrefixes: string[];
  /** May seal (sign) blocks. */
  canSeal: boolean;
}

export interface ConsortiumParams {
  /** Target block interval, milliseconds. */
  blockIntervalMs: number;
  /** Easiest allowed target as compact bits. */
  powLimitBits: number;
  /** Bits of the genesis block (and the ASERT anchor). */
  genesisBits: number;
  /** ASERT half-life in milliseconds. */
  asertHalfLifeMs: number;
  /** A block this much later than its parent re-anchors the schedule (outage, see retarget.ts). */
  asertAnchorResetMs: number;
  /** Max milliseconds a block's time may be ahead of the local clock. */
  futureWindowMs: number;
  /** Confirmations at which a tx is final. */
  finalityDepth: number;
  maxBlockBytes: number;
  maxTxBytes: number;
  maxEventsPerTx: number;
}

/** Approvals needed: more than `num/den` of the voting (active) members. */
export interface GovernancePolicy {
  quorumNum: number;
  quorumDen: number;
  /** A proposal not approved within this many blocks after its own block expires. */
  proposalLifetimeBlocks: number;
}

/** A member's public part, as `tracechain init` prints it (its ID is the key ID of signingKey). */
export interface MemberPublic {
  name: string;
  role: Role;
  signingKey: string;
  peerId: string;
  gs1CompanyPrefixes: string[];
  canSeal: boolean;
}

export type GovChange =
  | { type: 'add'; member: MemberPublic }
  | { type: 'update'; member: string; role?: Role; gs1CompanyPrefixes?: string[]; canSeal?: boolean }
  /** Signed by the member's current key; `proof`: the new key's signature (rotationMessage) when signingKey changes. */
  | { type: 'rotate'; member: string; signingKey?: string; peerId?: string; proof?: string }
  | { type: 'suspend'; member: string }
  | { type: 'resume'; member: string }
  | { type: 'revoke'; member: string }
  | { type: 'policy'; policy: GovernancePolicy };

export type GovAction = { op: 'propose'; change: GovChange; activation: number } | { op: 'approve'; proposal: string };

export interface Genesis {
  /** Format version of this genesis document. */
  v: 1;
  name: string;
  /** Milliseconds since the Unix epoch; the genesis block's time. */
  time: number;
  params: ConsortiumParams;
  members: Member[];
  /** Governance policy (absent: chain/governance.ts DEFAULT_POLICY, more than half, 1,000 blocks). */
  governance?: GovernancePolicy;
}

export type AlertStatus = 'new' | 'investigating' | 'closed';
export type AlertResolution = 'genuine' | 'counterfeit' | 'process_error';

/** An alert's status change, signed by its owner or a regulator (docs/alerts.md, Alerts). */
export interface AlertAction {
  op: 'status';
  /** The alert ID (32 bytes, lowercase hex). */
  alert: string;
  status: 'investigating' | 'closed';
  /** Given exactly when the status is `closed`. */
  resolution?: AlertResolution;
  reason: string;
}

/**
 * A pack action (docs/alerts.md): `reactivate` undoes a dispense or decommission; `code-check`
 * records a right scratch-off code check (`proof` = SHA-256(domain ‖ salt ‖ code), whose SHA-256 the
 * commissioning committed); `code-guess` reports wrong codes past the rate limit.
 */
export type PackAction =
  | { op: 'reactivate'; item: string; location: string | null }
  | { op: 'code-check'; item: string; proof: string; location: string | null }
  | { op: 'code-guess'; item: string; failures: number; location: string | null };

/** The signed part of a transaction (DESIGN.md, Formats). Hashed as RFC 8785 JCS. */
export interface TxBody {
  v: 1;
  /** Genesis hash (chain ID), lowercase hex. */
  chain: string;
  /** 'epcis': events; 'governance': `gov` and no events (docs/governance.md); 'alert': `alert`, 'pack': `pack`, no events (docs/alerts.md). */
  kind: 'epcis' | 'governance' | 'alert' | 'pack';
  /** Member key ID of the signer. */
  submitter: string;
  /** Milliseconds since the Unix epoch when the tx was built. */
  time: number;
  /** EPCIS events, each self-contained (see trace/) so every node can recompute its ID. */
  events: Record<string, unknown>[];
  /** CBV 2.0 event IDs, same order as events. */
  eventIds: string[];
  /** The governance action of a 'governance' tx (absent on 'epcis' txs). */
  gov?: GovAction;
  /** The lifecycle change of an 'alert' tx (chain/alert-tx.ts). */
  alert?: AlertAction;
  /** The pack action of a 'pack' tx: undo of a dispense, a scratch-off code check (chain/alert-tx.ts). */
  pack?: PackAction;
}

export interface SignedTx extends TxBody {
  /** Ed25519 signature, 64 bytes lowercase hex, over "tracechain/tx/v1" ‖ txid. */
  sig: string;
}
