/** The member gater and the peer scores that feed it. */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { MultiaddrConnection, PeerId } from '@libp2p/interface';
import { gateDecision, memberGater, registryAdmits } from '../../../src/p2p/gater.js';
import { PeerScores, OFFENCE_PENALTY } from '../../../src/p2p/scores.js';
import { activateAt, applyGovTx, genesisGovernance, type GovernanceState } from '../../../src/chain/governance.js';
import { MemberRegistry } from '../../../src/chain/registry.js';
import { generateKeyPair as memberKeyPair, keyIdHex, type KeyPair } from '../../../src/chain/keys.js';
import { makeGenesis, memberOf } from '../../../src/node/dev-consortium.js';
import { toHex } from '../../../src/common/bytes.js';
import { TEST_PARAMS } from '../../helpers/chain-fixture.js';
import type { GovChange } from '../../../src/chain/types.js';

async function peer(): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
}

describe('memberGater', () => {
  it('admits members, refuses strangers, blocked and banned members, at every stage', async () => {
    const [member, stranger, blocked, banned] = await Promise.all([peer(), peer(), peer(), peer()]);
    const members = new Set([member, blocked, banned].map(String));
    const policy = { isMember: (id: string) => members.has(id), isBlocked: (id: string) => id === blocked.toString(), isBanned: (id: string) => id === banned.toString() };
    const denied: string[] = [];
    const g = memberGater(policy, (id, why) => denied.push(`${id === stranger.toString() ? 'stranger' : id === blocked.toString() ? 'blocked' : 'banned'}:${why}`));
    const conn = {} as MultiaddrConnection;
    for (const p of [member, stranger, blocked, banned]) {
      const expected = p !== member;
      expect(await g.denyDialPeer?.(p)).toBe(expected);
      expect(await g.denyInboundEncryptedConnection?.(p, conn)).toBe(expected);
      expect(await g.denyOutboundEncryptedConnection?.(p, conn)).toBe(expected);
      expect(await g.denyInboundUpgradedConnection?.(p, conn)).toBe(expected);
      expect(await g.denyOutboundUpgradedConnection?.(p, conn)).toBe(expected);
    }
    expect(new Set(denied)).toEqual(new Set(['stranger:not-a-member', 'blocked:blocked', 'banned:banned']));
    expect(gateDecision(policy, member.toString())).toBe('admit');
  });
});

describe('PeerScores', () => {
  it('bans at the threshold, recovers over time, and the ban ends', () => {
    const clock = { now: 1_000_000 };
    const s = new PeerScores({ disconnectAt: -100, banMs: 60_000, recoveryPerSecond: 1 }, () => clock.now);
    expect(s.penalize('a', 'invalid-tx')).toMatchObject({ score: -OFFENCE_PENALTY['invalid-tx'], banned: false });
    clock.now += 10_000;
    expect(s.score('a')).toBeCloseTo(-15);
    expect(s.penalize('b', 'invalid-block')).toMatchObject({ score: -100, banned: true, bannedUntil: clock.now + 60_000 });
    expect(s.isBanned('b')).toBe(true);
    expect(s.banned()).toEqual([{ peerId: 'b', until: clock.now + 60_000 }]);
    // Another offence while banned does not extend or re-announce the ban.
    expect(s.penalize('b', 'stall').banned).toBe(false);
    clock.now += 60_001;
    expect(s.isBanned('b')).toBe(false);
    expect(s.score('b')).toBe(0);
    expect(s.score('nobody')).toBe(0);
    s.penalize('c', 'invalid-headers');
    s.unban('c');
    expect(s.isBanned('c')).toBe(false);
  });
});

describe('the gater follows the member registry (registryAdmits)', () => {
  const CHAIN = 'cd'.repeat(32);
  const [A, B, C] = [memberKeyPair(), memberKeyPair(), memberKeyPair()] as [KeyPair, KeyPair, KeyPair];
  let txn = 0;
  /** A change proposed by A and approved by `approvers` at `height`: effective at height + 1. */
  function decide(state: GovernanceState, change: GovChange, height: number, approvers: KeyPair[] = [B]): GovernanceState {
    const ctx = (by: KeyPair) => ({ chainId: CHAIN, height, txId: (++txn).toString(16).padStart(64, '0'), submitter: keyIdHex(by.publicKey) });
    const proposed = ctx(A);
    let s = applyGovTx(state, { op: 'propose', change, activation: 0 }, proposed);
    for (const k of approvers) s = applyGovTx(s, { op: 'approve', proposal: proposed.txId }, ctx(k));
    expect(s.proposals.find((p) => p.id === proposed.txId)?.effectiveHeight).toBe(height + 1);
    return s;
  }

  it('admits a new member from its activation, refuses a revoked or suspended one even as a bootstrap peer, and a stranger unless named', async () => {
    const [pa, pb, pc, pNew, pStranger, pLater] = (await Promise.all(Array.from({ length: 6 }, () => peer()))).map(String) as [string, string, string, string, string, string];
    const genesis = makeGenesis('gater', [memberOf({ name: 'A', role: 'dev', key: A, peerId: pa }), memberOf({ name: 'B', role: 'dev', key: B, peerId: pb }), memberOf({ name: 'C', role: 'dev', key: C, peerId: pc })], 1_700_000_000_000, TEST_PARAMS);
    const newKey = memberKeyPair();
    const s0 = genesisGovernance(genesis);
    // Add a hospital (decided at 4, effective at 5), then revoke C (decided at 6, effective at 7).
    const added = decide(s0, { type: 'add', member: { name: 'Hospital', role: 'dev', signingKey: toHex(newKey.publicKey), peerId: pNew, gs1CompanyPrefixes: [], canSeal: false } }, 4);
    const s5 = activateAt(added, 5, CHAIN);
    const revoking = decide(s5, { type: 'revoke', member: keyIdHex(C.publicKey) }, 6, [B, newKey]); // 3 of 4
    const s7 = activateAt(revoking, 7, CHAIN);
    const suspending = decide(s7, { type: 'suspend', member: keyIdHex(newKey.publicKey) }, 8);
    const s9 = activateAt(suspending, 9, CHAIN);
    // The registry the gater reads at each height (the tip's successor), and a node that was given
    // C, the hospital and a later member's peer as bootstrap peers.
    const at = (state: GovernanceState, h: number) => new MemberRegistry(state, h);
    const bootstrap = new Set([pc, pNew, pLater]);
    const gate = (reg: MemberRegistry, id: string): boolean => registryAdmits((p) => reg.peerStanding(p), id, bootstrap);
    const noBootstrap = (reg: MemberRegistry, id: string): boolean => registryAdmits((p) => reg.peerStanding(p), id, new Set());
    const views = { before: at(added, 4), added: at(s5, 5), revoked: at(s7, 7), suspended: at(s9, 9) };
    // Before its activation the hospital's peer is admitted only as a bootstrap peer the registry does not know yet.
    expect(noBootstrap(views.before, pNew)).toBe(false);
    expect(gate(views.before, pNew)).toBe(true);
    // From its activation it is a member for every node.
    expect(noBootstrap(views.added, pNew)).toBe(true);
    // C is a member (and a bootstrap peer) until its revocation; afterwards refused, bootstrap or not.
    expect([gate(views.added, pc), gate(views.revoked, pc), noBootstrap(views.revoked, pc)]).toEqual([true, false, false]);
    // The hospital suspended: refused too.
    expect([gate(views.revoked, pNew), gate(views.suspended, pNew)]).toEqual([true, false]);
    // A stranger never; a bootstrap peer the registry has never heard of (a member added later) is.
    for (const v of Object.values(views)) {
      expect(gate(v, pStranger)).toBe(false);
      expect(gate(v, pLater)).toBe(true);
      expect([gate(v, pa), gate(v, pb)]).toEqual([true, true]);
    }
    // And through the libp2p gater: a revoked member's dial and connection are refused.
    const reg = views.revoked;
    const g = memberGater({ isMember: (id) => gate(reg, id), isBanned: () => false, isBlocked: () => false });
    const pcId = (await Promise.all([peer()]))[0] as PeerId;
    expect(await g.denyDialPeer?.(pcId)).toBe(true); // a stranger
    expect(gateDecision({ isMember: (id) => gate(reg, id), isBanned: () => false, isBlocked: () => false }, pc)).toBe('not-a-member');
    expect(gateDecision({ isMember: (id) => gate(reg, id), isBanned: () => false, isBlocked: () => false }, pa)).toBe('admit');
  });
});
