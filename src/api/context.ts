/** What the API reads from the node: the chain (read side), node status, auth. */
import type { Writable } from 'node:stream';
import type { Chain } from '../chain/chain.js';
import type { Member } from '../chain/types.js';
import type { NodeMetrics } from './metrics.js';
import type { StorageHealth } from '../storage/write-guard.js';
import type { PeerInfo } from '../p2p/peer-info.js';
import type { AuthOutcome } from './tokens.js';
import type { QueryService } from './notify-port.js';
import type { TokenAdmin } from './token-admin.js';

export interface NodeStatus {
  peers(): number;
  /** Whether the node is within finality depth of the best known tip (always true alone). */
  synced(): boolean;
  /** Recent hash rate of this node's miner, H/s (0 when not mining). */
  hashrate(): number;
  /** False while the node cannot write (store closed, disk full). */
  storeOpen(): boolean;
  /** Whether this node is part of a network (then /health wants peers). */
  networked(): boolean;
  /** The chain store's write state (disk space guard); absent: always writable. */
  storage?(): StorageHealth;
}

export interface ApiContext {
  chain: Chain;
  status: NodeStatus;
  /** Who a presented bearer secret is and what it may do, or why it is refused (api/tokens.ts). */
  authenticate(secret: string): AuthOutcome;
  /** Who a verified client certificate (SHA-256 of its DER, hex) is (mTLS); absent: certificates name nobody. */
  authenticateCert?(sha256: string): AuthOutcome;
  /** The audit log of write requests (GET /audit reads it); absent: writes are not recorded. */
  audit?: AuditSink;
  /** This node's member and signing key: POST /capture signs its tx with them. Absent: capture answers 503. */
  signer?: CaptureSigner;
  /** Prometheus metrics (GET /metrics); when absent the API makes its own. */
  metrics?: NodeMetrics;
  /** Clock for tx times (default Date.now). */
  clock?: () => number;
  /** The p2p service (GET /peers, /admin/partition); absent on a node without a network. */
  network?: NetworkView;
  /** Online backups (POST /admin/backup); absent: 503. */
  backup?: BackupSource;
  /** Named queries, subscriptions and WebSocket streams (notify/); absent: /queries is not served. */
  queries?: QueryService;
  /** Client tokens over HTTP (/admin/tokens, api.tokenApi); absent: 409 TOKEN_API_OFF. */
  tokenAdmin?: TokenAdmin;
}

/** Writes an online backup of the node (node/backup.ts) to a sink, one at a time. */
export interface BackupSource {
  /** True while a backup is being written. */
  running(): boolean;
  /** Approximate bytes of the store (for the client's progress bar). */
  approximateBytes(): Promise<number>;
  /** Write one backup (a single store snapshot) to `out`, with backpressure; resolves when it ends. */
  write(out: Writable): Promise<{ tip: { hash: string; height: number }; entries: number }>;
}

export interface CaptureSigner {
  member: Member;
  /** Ed25519 seed (32 bytes) of the member key. */
  secretKey: Uint8Array;
}

export interface SyncInfo {
  height: number;
  /** Best height any peer has shown. */
  bestKnownHeight: number;
  syncing: boolean;
  synced: boolean;
}

/** The p2p service as the API sees it (GET /peers, /admin/partition); node/ adapts p2p to it. */
export interface NetworkView {
  self(): { peerId: string; addresses: string[] };
  peers(): PeerInfo[];
  sync(): SyncInfo;
  blocked(): string[];
  /** Refuse and disconnect these members (an empty list heals). */
  setBlocked(peerIds: string[]): void;
  banned(): { peerId: string; until: number }[];
  isMember(peerId: string): boolean;
}

/** One audited write request. */
export interface AuditEntry {
  /** Position in the log (1, 2, …; never reused): the paging cursor. */
  seq: number;
  /** ISO 8601 time the answer was sent. */
  time: string;
  /** Token name (null: none or refused). */
  token: string | null;
  /** How the client proved it: bearer token, client certificate, or nothing. */
  via: 'bearer' | 'cert' | 'member' | 'none';
  remote: string;
  method: string;
  /** The route pattern (`/admin/partition`) and the path asked for. */
  route: string;
  path: string;
  status: number;
  /** The problem code of a refusal. */
  code?: string;
  /** What the request changed: the capture's tx ID, the partition's block list, … */
  txId?: string;
  change?: Record<string, unknown>;
  location?: string;
}

export interface AuditQuery {
  token?: string;
  /** Entries at or after this time (ms since the epoch). */
  since?: number;
  /** Entries after this seq (the `next` of the previous page). */
  after?: number;
  limit: number;
}

/** The audit log as the API sees it; node/ wires storage's file log to it. */
export interface AuditSink {
  /** Append (in the kernel's page cache when it resolves: the answer is sent after it). */
  append(entry: Omit<AuditEntry, 'seq'>): Promise<void>;
  read(q: AuditQuery): Promise<{ entries: AuditEntry[]; next: number | null }>;
}
