/**
 * The member registry at one height: who may sign txs, who may seal, which peers may connect.
 * A view over the governance state (chain/governance.ts) with the changes due at that height
 * applied; the chain builds one per height it checks (the tip's successor for the mempool, the
 * API and the gater; each block's own height when it connects).
 */
import { fromHex } from '../common/bytes.js';
import { genesisGovernance, memberOfId, signerIn, type GovernanceState, type MemberRecord } from './governance.js';
import type { TxError } from '../common/errors.js';
import type { Genesis, Member } from './types.js';

export class MemberRegistry {
  /** Active members (may sign, seal if allowed, connect). */
  readonly members: readonly MemberRecord[];
  private readonly byPeer = new Map<string, MemberRecord>();

  constructor(
    readonly state: GovernanceState,
    /** The height this view is for. */
    readonly height: number,
  ) {
    this.members = state.members.filter((m) => m.status === 'active');
    for (const m of this.members) this.byPeer.set(m.peerId, m);
  }

  static fromGenesis(genesis: Genesis): MemberRegistry {
    return new MemberRegistry(genesisGovernance(genesis), 1);
  }

  /** Every member ever added (any status), in the order they joined. */
  get all(): readonly MemberRecord[] {
    return this.state.members;
  }

  /** The member with this member ID, or that holds or held this key ID (for naming signers of old txs and blocks). */
  get(id: string): Member | undefined {
    return memberOfId(this.state, id);
  }

  /** The public key of a key ID the consortium has ever known (proofs signed before a rotation keep verifying). */
  publicKey(keyId: string): Uint8Array | undefined {
    const k = this.state.keys[keyId];
    return k === undefined ? undefined : fromHex(k.publicKey, 32);
  }

  /**
   * What the registry says of a peer ID: `active` (an active member's current one), `inactive`
   * (the current peer ID of a suspended or revoked member), or `unknown` (no member holds it: a
   * stranger, or a member added after this height).
   */
  peerStanding(peerId: string): 'active' | 'inactive' | 'unknown' {
    if (this.byPeer.has(peerId)) return 'active';
    return this.state.members.some((m) => m.peerId === peerId) ? 'inactive' : 'unknown';
  }

  /** The active member whose current peer ID this is. */
  byPeerId(peerId: string): Member | undefined {
    return this.byPeer.get(peerId);
  }

  /** The member that may sign new txs with this key at this height, or the coded refusal. */
  signer(keyId: string): { member: MemberRecord } | { error: TxError } {
    return signerIn(this.state, keyId);
  }

  /** Sealing right at this view's height: an active member's current key with the seal right. */
  canSealAt(keyId: string, height: number): boolean {
    if (height !== this.height) return false;
    const s = signerIn(this.state, keyId);
    return 'member' in s && s.member.canSeal;
  }
}
