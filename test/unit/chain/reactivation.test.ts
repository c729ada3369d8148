/**
 * The undo rule (chain/reactivation.ts) alone: one case per refusal code, the 10-day window's
 * edge (measured in block time), and the fixed order of the refusals (every node names the same
 * reason when several apply).
 */
import { describe, expect, it } from 'vitest';
import { REACTIVATION_WINDOW_MS, reactivationVerdict, type ReactivationInput, type ReactivationRefusal } from '../../../src/chain/reactivation.js';

const DAY = 86_400_000;
const SHOP = 'urn:epc:id:sgln:4012345.00001.0';
const T0 = 1_800_000_000_000;

/** A pack dispensed by member `p` at SHOP at T0, asked back by `p` at SHOP on day 1. */
function base(over: Partial<ReactivationInput> = {}): ReactivationInput {
  return {
    lifecycle: 'dispensed',
    left: { lifecycle: 'dispensed', before: 'active', by: 'p', time: T0, height: 5, location: SHOP, eventId: 'ni:///sha-256;00?ver=CBV2.0' },
    stolen: false,
    recalled: false,
    expired: false,
    by: 'p',
    time: T0 + DAY,
    location: SHOP,
    ...over,
  };
}

function codeOf(x: ReactivationInput): ReactivationRefusal | 'ok' {
  const v = reactivationVerdict(x);
  return v.ok ? 'ok' : v.code;
}

describe('reactivationVerdict', () => {
  it('allows the member that dispensed, at the same location, within 10 days (a decommission too)', () => {
    expect(codeOf(base())).toBe('ok');
    expect(codeOf(base({ time: T0 + 9 * DAY }))).toBe('ok');
    expect(codeOf(base({ time: T0 + REACTIVATION_WINDOW_MS }))).toBe('ok');
    const left = { ...(base().left as NonNullable<ReactivationInput['left']>), lifecycle: 'decommissioned' as const };
    expect(codeOf(base({ lifecycle: 'decommissioned', left }))).toBe('ok');
  });

  const cases: [ReactivationRefusal, Partial<ReactivationInput>][] = [
    ['REACTIVATE_DESTROYED', { lifecycle: 'destroyed' }],
    ['REACTIVATE_STOLEN', { stolen: true }],
    ['REACTIVATE_RECALLED', { recalled: true }],
    ['REACTIVATE_EXPIRED', { expired: true }],
    ['REACTIVATE_NOT_INACTIVE', { lifecycle: 'active' }],
    ['REACTIVATE_NOT_INACTIVE', { left: null }],
    ['REACTIVATE_OTHER_MEMBER', { by: 'q' }],
    ['REACTIVATE_TOO_LATE', { time: T0 + REACTIVATION_WINDOW_MS + 1 }],
    ['REACTIVATE_TOO_LATE', { time: T0 + 11 * DAY }],
    ['REACTIVATE_OTHER_LOCATION', { location: 'urn:epc:id:sgln:4012345.00002.0' }],
    ['REACTIVATE_OTHER_LOCATION', { location: null }],
  ];
  for (const [code, over] of cases) {
    it(`${code}: ${JSON.stringify(over)}`, () => {
      const v = reactivationVerdict(base(over));
      expect(v).toMatchObject({ ok: false, code });
      if (!v.ok) expect(v.message).toMatch(/^undo refused: /);
    });
  }

  it('names the refusals in a fixed order: destroyed, stolen, recalled, expired before the member, window and place', () => {
    const all = { stolen: true, recalled: true, expired: true, by: 'q', time: T0 + 30 * DAY, location: null };
    expect(codeOf(base({ ...all, lifecycle: 'destroyed' }))).toBe('REACTIVATE_DESTROYED');
    expect(codeOf(base(all))).toBe('REACTIVATE_STOLEN');
    expect(codeOf(base({ ...all, stolen: false }))).toBe('REACTIVATE_RECALLED');
    expect(codeOf(base({ ...all, stolen: false, recalled: false }))).toBe('REACTIVATE_EXPIRED');
    expect(codeOf(base({ ...all, stolen: false, recalled: false, expired: false }))).toBe('REACTIVATE_OTHER_MEMBER');
    expect(codeOf(base({ time: T0 + 30 * DAY, location: null }))).toBe('REACTIVATE_TOO_LATE');
  });

  it('says how many days have passed when too late', () => {
    const v = reactivationVerdict(base({ time: T0 + 11 * DAY }));
    expect(v.ok ? '' : v.message).toContain('11 days');
  });
});
