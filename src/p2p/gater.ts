/**
 * The connection gater: only peers whose ID is in the member registry may connect, checked
 * once the connection is encrypted (the first point where the remote peer ID is proven by the
 * noise handshake), on both inbound and outbound connections, and again before dialling.
 * Members that are banned (score) or blocked by the operator (partition switch) are refused
 * the same way.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface';

/** What the member registry at our tip's successor says of a peer ID (chain/registry.ts). */
export type PeerStanding = 'active' | 'inactive' | 'unknown';

/**
 * Membership as the gater sees it, following the chain: an active member's peer is admitted; a
 * peer the operator named as a bootstrap peer is admitted while the registry does not know it (a
 * member added after our tip: a newcomer syncing from genesis meets it before it has replayed
 * its admission); a peer the registry knows as suspended or revoked is refused even if named as
 * a bootstrap peer.
 */
export function registryAdmits(standing: (peerId: string) => PeerStanding, peerId: string, bootstrapIds: ReadonlySet<string>): boolean {
  const s = standing(peerId);
  return s === 'active' || (s === 'unknown' && bootstrapIds.has(peerId));
}

export interface GatePolicy {
  isMember(peerId: string): boolean;
  isBanned(peerId: string): boolean;
  isBlocked(peerId: string): boolean;
}

export type GateDecision = 'admit' | 'not-a-member' | 'banned' | 'blocked';

export function gateDecision(policy: GatePolicy, peerId: string): GateDecision {
  if (!policy.isMember(peerId)) return 'not-a-member';
  if (policy.isBlocked(peerId)) return 'blocked';
  if (policy.isBanned(peerId)) return 'banned';
  return 'admit';
}

export function memberGater(policy: GatePolicy, onDeny?: (peerId: string, why: GateDecision, where: string) => void): ConnectionGater {
  const deny =
    (where: string) =>
    (peer: PeerId): boolean => {
      const id = peer.toString();
      const why = gateDecision(policy, id);
      if (why === 'admit') return false;
      onDeny?.(id, why, where);
      return true;
    };
  return {
    denyDialPeer: deny('dial'),
    denyInboundEncryptedConnection: deny('inbound'),
    denyOutboundEncryptedConnection: deny('outbound'),
    denyInboundUpgradedConnection: deny('inbound-upgraded'),
    denyOutboundUpgradedConnection: deny('outbound-upgraded'),
  };
}
