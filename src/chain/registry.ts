/** The member registry from genesis: who may sign txs, who may seal, which peers may connect. */
import { fromHex } from '../common/bytes.js';
import type { Genesis, Member } from './types.js';

export class MemberRegistry {
  private readonly byId = new Map<string, Member>();
  private readonly byPeer = new Map<string, Member>();
  private readonly keys = new Map<string, Uint8Array>();

  constructor(readonly members: readonly Member[]) {
    for (const m of members) {
      this.byId.set(m.id, m);
      this.byPeer.set(m.peerId, m);
      this.keys.set(m.id, fromHex(m.signingKey, 32));
    }
  }

  static fromGenesis(genesis: Genesis): MemberRegistry {
    return new MemberRegistry(genesis.members);
  }

  get(id: string): Member | undefined {
    return this.byId.get(id);
  }

  publicKey(id: string): Uint8Array | undefined {
    return this.keys.get(id);
  }

  byPeerId(peerId: string): Member | undefined {
    return this.byPeer.get(peerId);
  }

  /** Sealing right at a height. Membership is fixed at genesis for now, so height is unused. */
  canSealAt(id: string, _height: number): boolean {
    return this.byId.get(id)?.canSeal === true;
  }
}
