/** The member gater and the peer scores that feed it. */
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { MultiaddrConnection, PeerId } from '@libp2p/interface';
import { gateDecision, memberGater } from '../../../src/p2p/gater.js';
import { PeerScores, OFFENCE_PENALTY } from '../../../src/p2p/scores.js';

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
