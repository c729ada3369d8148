/**
 * Application-level peer scores. Every offence a peer commits (an invalid block or tx on
 * gossip, bad headers or replies on sync, a stalled request) costs points; the score recovers
 * slowly towards zero. A peer that falls to the disconnect threshold is hung up and banned for
 * a while (the gater refuses it); once the ban is served its score starts again from zero. The same score feeds gossipsub's own peer score as its
 * application-specific part, so a penalised peer also loses its mesh standing.
 *
 * Bounded: only peers the registry admits are ever scored (at most one entry per member), and
 * the table is capped regardless.
 */

export type Offence = 'invalid-block' | 'invalid-tx' | 'invalid-headers' | 'bad-reply' | 'stall';

export const OFFENCE_PENALTY: Readonly<Record<Offence, number>> = {
  'invalid-block': 100,
  'invalid-tx': 25,
  'invalid-headers': 100,
  'bad-reply': 50,
  stall: 20,
};

export interface ScorePolicy {
  /** A peer whose score falls to this is disconnected and banned. */
  disconnectAt: number;
  /** How long a banned peer is refused. */
  banMs: number;
  /** Points a score recovers per second towards zero. */
  recoveryPerSecond: number;
}

export const DEFAULT_SCORE_POLICY: ScorePolicy = { disconnectAt: -100, banMs: 60_000, recoveryPerSecond: 1 };

const MAX_ENTRIES = 4_096;

interface Entry {
  score: number;
  at: number;
  bannedUntil: number;
  offences: number;
}

export interface PenaltyResult {
  score: number;
  /** The peer crossed the threshold with this offence: hang up and refuse it until bannedUntil. */
  banned: boolean;
  bannedUntil: number;
}

export class PeerScores {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly policy: ScorePolicy = DEFAULT_SCORE_POLICY,
    private readonly clock: () => number = Date.now,
  ) {}

  private current(peerId: string): Entry {
    const now = this.clock();
    let e = this.entries.get(peerId);
    if (!e) {
      if (this.entries.size >= MAX_ENTRIES) this.evictOne();
      e = { score: 0, at: now, bannedUntil: 0, offences: 0 };
      this.entries.set(peerId, e);
      return e;
    }
    if (e.bannedUntil !== 0 && e.bannedUntil <= now) {
      // The ban is served: start clean.
      e.bannedUntil = 0;
      e.score = 0;
    } else {
      const recovered = ((now - e.at) / 1000) * this.policy.recoveryPerSecond;
      e.score = Math.min(0, e.score + recovered);
    }
    e.at = now;
    return e;
  }

  private evictOne(): void {
    const now = this.clock();
    for (const [id, e] of this.entries) {
      if (e.bannedUntil <= now) {
        this.entries.delete(id);
        return;
      }
    }
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }

  penalize(peerId: string, offence: Offence): PenaltyResult {
    const e = this.current(peerId);
    e.score -= OFFENCE_PENALTY[offence];
    e.offences++;
    let banned = false;
    if (e.score <= this.policy.disconnectAt && e.bannedUntil <= this.clock()) {
      e.bannedUntil = this.clock() + this.policy.banMs;
      banned = true;
    }
    return { score: e.score, banned, bannedUntil: e.bannedUntil };
  }

  score(peerId: string): number {
    return this.entries.has(peerId) ? this.current(peerId).score : 0;
  }

  offences(peerId: string): number {
    return this.entries.get(peerId)?.offences ?? 0;
  }

  isBanned(peerId: string): boolean {
    const e = this.entries.get(peerId);
    return e !== undefined && e.bannedUntil > this.clock();
  }

  banned(): { peerId: string; until: number }[] {
    const now = this.clock();
    return [...this.entries].filter(([, e]) => e.bannedUntil > now).map(([peerId, e]) => ({ peerId, until: e.bannedUntil }));
  }

  /** Lift a ban (operator action). */
  unban(peerId: string): void {
    const e = this.entries.get(peerId);
    if (e) {
      e.bannedUntil = 0;
      e.score = 0;
    }
  }
}
