/**
 * What the node knows of one connected member (GET /peers). Types only: p2p/network.ts builds
 * these and api/ shows them, so this is the one file of p2p/ that api/ may import.
 */
import type { Role } from '../chain/types.js';

export interface PeerInfo {
  peerId: string;
  name: string;
  role: Role;
  memberId: string;
  address: string | null;
  direction: 'inbound' | 'outbound' | null;
  /** Round trip in ms (libp2p's connection monitor, else our last status request). */
  latencyMs: number | null;
  tip: { height: number; hash: string } | null;
  /** Offence score (0 is clean; banned at -100). */
  score: number;
}
