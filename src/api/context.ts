/** What the API reads from the node: the chain (read side), node status, auth. */
import type { Chain } from '../chain/chain.js';

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
}

export interface ApiContext {
  chain: Chain;
  status: NodeStatus;
  /** Accepts a presented bearer token. */
  checkToken(token: string): boolean;
}
